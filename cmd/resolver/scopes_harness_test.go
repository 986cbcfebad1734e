package main

// Fixtures of the scope tests: one smfake serving both STS and Secrets
// Manager (AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL_SECRETS_MANAGER name
// the same server), tenant roles, and secrets that only one principal may
// read, so that the double's per-principal counts show whose credentials
// each read was signed with.

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/config"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

const (
	tenantAccount = "210987654321"
	// roleA reads tenant A's secrets, assumed with extIDA; roleB reads
	// tenant B's, with no external id; roleRefused is not trusted.
	roleA       = "arn:aws:iam::" + tenantAccount + ":role/tenant-a-reader"
	roleB       = "arn:aws:iam::" + tenantAccount + ":role/tenants/tenant-b-reader"
	roleRefused = "arn:aws:iam::" + tenantAccount + ":role/not-trusted"
	// extIDA is also a canary: it must appear in no answer, log line,
	// metric or trace document.
	extIDA = "CANARY-extid-9Qz7:tenant/a"

	// tenantASecret only roleA may read; tenantBSecret only roleB; the
	// function's own role (smfake.DefaultPrincipal) may read neither.
	tenantASecret = "arn:aws:secretsmanager:us-east-1:" + tenantAccount + ":secret:tenant-a/api-Tn4nt1"
	tenantBSecret = "arn:aws:secretsmanager:us-east-1:" + tenantAccount + ":secret:tenant-b/api-Tn4nt2"
	// ownSecret only the function's own role may read.
	ownSecret = "arn:aws:secretsmanager:us-east-1:" + account + ":secret:own/api-0wnS3c"

	tenantAValue = "tenant-a-value-1f3e"
	tenantBValue = "tenant-b-value-2d4c"
	ownValue     = "own-value-3c5b"
)

// scopeSpec is one scope of a document the tests write.
type scopeSpec = config.ScopeEntry

// scopesDoc is a scopes document: the value of SCOPES, or the
// SecretString of SCOPES_SECRET_ARN.
func scopesDoc(t *testing.T, scopes map[string]scopeSpec) string {
	t.Helper()
	b, err := json.Marshal(scopes)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tenantPatterns are the secrets of tenant A's account.
var tenantPatterns = []string{"arn:aws:secretsmanager:*:" + tenantAccount + ":secret:tenant-a/*"}

// testScopes is the document most scope tests run with:
//   - "a": roleA with its external id, for the HTTP caller; tenant A's
//     secrets and the function's own secret (whose read roleA is refused).
//   - "a-too": roleA too, for every caller: a second partition of the
//     same role.
//   - "b": roleB, for every caller, tenant A's and B's secrets (roleB may
//     read only B's).
//   - "closed": roleA, for another caller only.
//   - "broken": a role STS refuses.
func testScopes(t *testing.T) string {
	t.Helper()
	return scopesDoc(t, map[string]scopeSpec{
		"a": {RoleARN: roleA, ExternalID: extIDA,
			Callers: []string{"arn:aws:sts::" + account + ":assumed-role/workato-connector/*"},
			Secrets: append([]string{"arn:aws:secretsmanager:us-east-1:" + account + ":secret:own/*"}, tenantPatterns...)},
		"a-too": {RoleARN: roleA, ExternalID: extIDA, Callers: []string{"*"}, Secrets: tenantPatterns},
		"b": {RoleARN: roleB, Callers: []string{"*"},
			Secrets: append([]string{"arn:aws:secretsmanager:*:" + tenantAccount + ":secret:tenant-b/*"}, tenantPatterns...)},
		"closed": {RoleARN: roleA, ExternalID: extIDA,
			Callers: []string{"arn:aws:sts::" + account + ":assumed-role/someone-else/*"}, Secrets: tenantPatterns},
		"broken": {RoleARN: roleRefused, Callers: []string{"*"}, Secrets: []string{"*"}},
	})
}

// newScopeFake serves the seeded double plus the tenants' roles and
// secrets, for both STS and Secrets Manager, and returns it with its URL.
func newScopeFake(t *testing.T) (*smfake.Server, string) {
	t.Helper()
	sm, url := newFake(t)
	if err := sm.AddRole(roleA, smfake.RequireExternalID(extIDA)); err != nil {
		t.Fatal(err)
	}
	if err := sm.AddRole(roleB); err != nil {
		t.Fatal(err)
	}
	for _, s := range []smfake.Secret{
		{ARN: tenantASecret, String: aws.String(`{"key":"` + tenantAValue + `"}`), Readers: []string{roleA}},
		{ARN: tenantBSecret, String: aws.String(`{"key":"` + tenantBValue + `"}`), Readers: []string{roleB}},
		{ARN: ownSecret, String: aws.String(`{"key":"` + ownValue + `"}`), Readers: []string{smfake.DefaultPrincipal}},
	} {
		if _, err := sm.Put(s); err != nil {
			t.Fatal(err)
		}
	}
	return sm, url
}

// startScoped runs the bootstrap under the emulator against a scope
// double, with env on top of the STS endpoint.
func startScoped(t *testing.T, env ...string) (*emulator, *smfake.Server) {
	t.Helper()
	sm, url := newScopeFake(t)
	e := startEmulator(t, url, append([]string{"AWS_ENDPOINT_URL_STS=" + url}, env...)...)
	e.noLeak(seededValues(t)...)
	e.noLeak(tenantAValue, tenantBValue, ownValue, extIDA)
	return e, sm
}

// startScopedTraced runs the bootstrap under the traced harness against a
// scope double.
func startScopedTraced(t *testing.T, env ...string) *tracedFunction {
	t.Helper()
	sm, url := newScopeFake(t)
	return startTracedOn(t, sm, url, append([]string{"AWS_ENDPOINT_URL_STS=" + url}, env...)...)
}

// scoped is an HTTP API event POSTing conn in scope (JSON-quoted).
func scoped(t *testing.T, scope, conn string, extra ...string) []byte {
	t.Helper()
	q, _ := json.Marshal(scope)
	return post(t, `{"connection":`+conn+`,"scope":`+string(q)+strings.Join(extra, "")+`}`)
}

// unscoped is an HTTP API event POSTing conn without a scope.
func unscoped(t *testing.T, conn string, extra ...string) []byte {
	t.Helper()
	return post(t, `{"connection":`+conn+strings.Join(extra, "")+`}`)
}

// keyOf is a connection of one mask of "key" in arn, at /connection/k.
func keyOf(arn string) string { return `{"k":"` + mask("key", arn) + `"}` }

// resolvedKey is the entry of keyOf's mask, resolved.
func resolvedKey(arn string) answer.MaskEntry {
	return answer.MaskEntry{Path: "/connection/k", Key: "key", SecretARN: arn, Status: "resolved"}
}

// failedKey is the entry of keyOf's mask failing with code.
func failedKey(arn, code string) answer.MaskEntry {
	return answer.MaskEntry{Path: "/connection/k", Key: "key", SecretARN: arn, Code: code}
}

// readsBy is how often principal read arn.
func readsBy(sm *smfake.Server, principal, arn string) int { return sm.SecretReadsBy(principal, arn) }

// smCalls counts the Secrets Manager calls the double answered (its Calls("")
// counts STS's AssumeRole too).
func smCalls(sm *smfake.Server) int {
	return sm.Calls("GetSecretValue") + sm.Calls("BatchGetSecretValue") + sm.Calls("DescribeSecret")
}
