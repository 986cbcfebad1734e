package app

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/smfake"
)

const (
	scopesARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:maskresolver/scopes-Sc0p3s"
	badDocARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:maskresolver/bad-B4dD0c"
	// extCanary is an external id: no error may quote it.
	extCanary = "ext-CANARY-m2Xw7t"
	scopesDoc = `{"tenant-a": {"role_arn": "arn:aws:iam::210987654321:role/tenant-a", "external_id": "` + extCanary + `",
	  "callers": ["*"], "secrets": ["arn:aws:secretsmanager:*:210987654321:secret:tenant-a/*"]}}`
)

// The cold start reads SCOPES_SECRET_ARN with the function's own client,
// and fails when it is unreadable or invalid, or when PREFETCH_SECRETS
// names it in any spelling; its errors never quote an external id.
func TestScopesColdStart(t *testing.T) {
	sm := smfake.New()
	for arn, doc := range map[string]string{
		scopesARN: scopesDoc,
		// A typo drops nothing silently: an unknown member is an error.
		badDocARN: strings.Replace(scopesDoc, `"external_id"`, `"external-id"`, 1),
	} {
		if _, err := sm.Put(smfake.Secret{ARN: arn, String: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(sm)
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "SECRET")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	partial := strings.TrimSuffix(scopesARN, "-Sc0p3s")
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // a part of the error, "" for none
	}{
		{"SCOPES_SECRET_ARN", map[string]string{"SCOPES_SECRET_ARN": scopesARN}, ""},
		{"SCOPES", map[string]string{"SCOPES": scopesDoc}, ""},
		{"no scopes", map[string]string{"SCOPES": "{}"}, ""},
		{"unreadable", map[string]string{"SCOPES_SECRET_ARN": scopesARN + "x"}, "SCOPES_SECRET_ARN"},
		{"invalid document", map[string]string{"SCOPES_SECRET_ARN": badDocARN}, "tenant-a"},
		{"prefetch of the scopes secret", map[string]string{"SCOPES_SECRET_ARN": scopesARN, "PREFETCH_SECRETS": scopesARN}, "PREFETCH_SECRETS"},
		{"prefetch of its partial ARN", map[string]string{"SCOPES_SECRET_ARN": partial, "PREFETCH_SECRETS": scopesARN}, "PREFETCH_SECRETS"},
		{"invalid SCOPES", map[string]string{"SCOPES": strings.Replace(scopesDoc, `"callers": ["*"]`, `"callers": []`, 1)}, "SCOPES"},
	} {
		lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
		h, err := New(context.Background(), lookup, WithLogOutput(io.Discard))
		switch {
		case tc.want == "" && (err != nil || h == nil):
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err = %v, want one naming %q", tc.name, err, tc.want)
		case err != nil && strings.Contains(err.Error(), "m2Xw7t"):
			t.Errorf("%s: the error quotes the external id: %v", tc.name, err)
		}
	}
}
