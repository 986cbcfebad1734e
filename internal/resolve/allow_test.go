package resolve_test

import (
	"context"
	"strings"
	"testing"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/secrets"
)

// A partial ARN allowed as written but answered with a secret the pattern
// does not cover is refused, and its value is not returned.
func TestReturnedSecretMustBeAllowed(t *testing.T) {
	t.Parallel()
	asked := "arn:aws:secretsmanager:us-east-1:137149879143:secret:tenantA/db-abcdef"
	store := newMemStore()
	// Secrets Manager took the name for a full one: a secret literally
	// named tenantA/db-abcdef, with its own suffix.
	store.secrets[asked] = secrets.NewSecret(asked+"-Zz9Yy8", `{"password":"other-tenant-value"}`)
	allow := func(arn string) bool {
		return strings.HasSuffix(arn, ":secret:tenantA/db-abcdef") || strings.Contains(arn, "prod-jira")
	}
	res, err := resolve.New(store).Resolve(context.Background(), body(`["`+m("password", asked)+`","`+m("username", jiraARN)+`"]`), resolve.Params{Allowlist: allow})
	if err != nil {
		t.Fatal(err)
	}
	out := string(res.AppendJSON(nil))
	if res.Failed != 1 || res.Masks[0].Code != answer.SecretNotAllowed || strings.Contains(out, "other-tenant-value") {
		t.Errorf("failed %d, first code %q: %s", res.Failed, res.Masks[0].Code, out)
	}
}
