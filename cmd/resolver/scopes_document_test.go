package main

// The scopes document through the built bootstrap: SCOPES_SECRET_ARN read
// again after CACHE_TTL, the last good document kept when a read fails,
// and a cold start that fails on an invalid document or configuration,
// naming the variable and the scope but never an external id.

import (
	"bytes"
	"context"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/lambdatest"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

const scopesSecretARN = "arn:aws:secretsmanager:us-east-1:" + account + ":secret:maskresolver/scopes-Sc0pe5"

// TestScopesSecretReread: the document of SCOPES_SECRET_ARN stays in
// force for CACHE_TTL, is read again by the first scoped request after
// it, and a failed re-read leaves the last good document in force (and is
// logged) until a later read succeeds.
func TestScopesSecretReread(t *testing.T) {
	t.Parallel()
	const ttl = 2 * time.Second
	sm, url := newScopeFake(t)
	open := func(names ...string) string {
		m := map[string]scopeSpec{}
		for _, n := range names {
			m[n] = scopeSpec{RoleARN: roleB, Callers: []string{"*"}, Secrets: []string{"arn:aws:secretsmanager:*:" + tenantAccount + ":secret:tenant-b/*"}}
		}
		return scopesDoc(t, m)
	}
	setDoc := func(doc string) time.Time {
		t.Helper()
		if _, err := sm.Put(smfake.Secret{ARN: scopesSecretARN, String: aws.String(doc), Readers: []string{smfake.DefaultPrincipal}}); err != nil {
			t.Fatal(err)
		}
		return time.Now()
	}
	setDoc(open("one"))
	e := startEmulator(t, url, "AWS_ENDPOINT_URL_STS="+url, "SCOPES_SECRET_ARN="+scopesSecretARN, "CACHE_TTL=2s", "AWS_MAX_ATTEMPTS=1")
	e.noLeak(tenantBValue)
	conn := keyOf(tenantBSecret)
	works := func(scope string) {
		t.Helper()
		wantResolved(t, e.invokeProxy(t, scoped(t, scope, conn)), `{"k":"`+tenantBValue+`"}`, resolvedKey(tenantBSecret))
	}
	refused := func(scope string) {
		t.Helper()
		wantRequestError(t, e.invokeProxy(t, scoped(t, scope, conn)), http.StatusForbidden, "ScopeNotAllowed")
	}

	readAt := time.Now()
	works("one") // the first request starts the function, which reads the document
	initReads := sm.SecretReads(scopesSecretARN)
	if initReads != 1 {
		t.Fatalf("%d reads of the scopes secret at init, want 1", initReads)
	}
	changed := setDoc(open("two"))
	if p := e.invokeProxy(t, scoped(t, "one", conn)); time.Since(readAt) < ttl*8/10 {
		wantResolved(t, p, `{"k":"`+tenantBValue+`"}`, resolvedKey(tenantBSecret))
		if n := sm.SecretReads(scopesSecretARN); n != initReads {
			t.Errorf("the document was read again within CACHE_TTL")
		}
	}
	time.Sleep(time.Until(changed.Add(ttl + 200*time.Millisecond)))
	refused("one")
	works("two")
	if n := sm.SecretReads(scopesSecretARN); n != initReads+1 {
		t.Errorf("%d reads of the scopes secret after CACHE_TTL, want 1", n-initReads)
	}

	// A failed re-read keeps the last good document.
	sm.Inject(smfake.Fault{Op: "GetSecretValue", SecretID: scopesSecretARN, Code: "InternalServiceError"})
	failedAt := setDoc(open("three"))
	time.Sleep(ttl + 200*time.Millisecond)
	works("two")
	refused("three")
	if !strings.Contains(e.logs.String(), scopesSecretARN) {
		t.Errorf("the failed re-read was not logged with the secret's ARN:\n%s", e.logs.String())
	}
	// An invalid document is a failed read too.
	sm.ClearFaults()
	setDoc(`{"four":{"role_arn":"` + roleB + `","external-id":"CANARY-typo-ext-77","callers":["*"],"secrets":["*"]}}`)
	time.Sleep(time.Until(failedAt.Add(2*ttl + 400*time.Millisecond)))
	works("two")
	refused("four")
	if strings.Contains(e.logs.String(), "CANARY-typo-ext-77") {
		t.Errorf("the invalid document's external id is in the logs")
	}

	// Once a read succeeds again, its document is in force.
	setDoc(open("five"))
	time.Sleep(ttl + 200*time.Millisecond)
	for deadline := time.Now().Add(12 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		p := e.invokeProxy(t, scoped(t, "five", conn))
		if p.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the good document did not come into force after the failures: %d %s", p.StatusCode, p.Body)
		}
	}
	refused("two")
}

// coldStartFails runs the bootstrap with env outside the emulator and
// returns its output; it must exit with an error before asking the
// Runtime API for work.
func coldStartFails(t *testing.T, env ...string) string {
	t.Helper()
	bootstrap, _ := binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bootstrap)
	// The Runtime API address points at a closed port, so a bootstrap
	// that wrongly starts would fail rather than hang.
	cmd.Env = childEnv(append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + lambdatest.FreeAddr(t),
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDE2ETEST", "AWS_SECRET_ACCESS_KEY=x",
		"AWS_MAX_ATTEMPTS=1",
	}, env...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() == 0 || ee.ExitCode() == -1 {
		t.Fatalf("err = %v, want a non-zero exit; output: %s", err, out.String())
	}
	return out.String()
}

// TestScopesColdStartInvalid: an invalid scopes document, in SCOPES or in
// the secret SCOPES_SECRET_ARN names, fails the cold start with a message
// naming the variable and the scope, never the document's external ids;
// so do SCOPES and SCOPES_SECRET_ARN set together, and a scopes secret
// that cannot be read.
func TestScopesColdStartInvalid(t *testing.T) {
	t.Parallel()
	scope := func(name, body string) string { return `{"` + name + `":{` + body + `}}` }
	role := `"role_arn":"` + roleA + `"`
	rest := `"callers":["*"],"secrets":["*"]`
	for _, tc := range []struct {
		name, doc, scope, canary string
	}{
		{"misspelt member", scope("tenant-x", role+`,"external-id":"CANARY-ext-x1",`+rest), "tenant-x", "CANARY-ext-x1"},
		{"bad role", scope("tenant-y", `"role_arn":"arn:aws:iam::12:role/x","external_id":"CANARY-ext-y2",`+rest), "tenant-y", "CANARY-ext-y2"},
		{"bad external id", scope("tenant-z", role+`,"external_id":"CANARY ext z3 with spaces!",`+rest), "tenant-z", "CANARY ext z3"},
		{"empty callers", scope("tenant-w", role+`,"external_id":"CANARY-ext-w4","callers":[],"secrets":["*"]`), "tenant-w", "CANARY-ext-w4"},
		{"unknown member after the id", scope("tenant-u", role+`,"external_id":"CANARY-ext-u5",`+rest+`,"extra":1`), "tenant-u", "CANARY-ext-u5"},
		{"not JSON", `{"tenant-v":{` + role + `,"external_id":"CANARY-ext-v6",`, "", "CANARY-ext-v6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("SCOPES", func(t *testing.T) {
				out := coldStartFails(t, "SCOPES="+tc.doc)
				checkColdStartError(t, out, "SCOPES", tc.scope, tc.canary)
			})
			t.Run("SCOPES_SECRET_ARN", func(t *testing.T) {
				sm, url := newFake(t)
				if _, err := sm.Put(smfake.Secret{ARN: scopesSecretARN, String: aws.String(tc.doc)}); err != nil {
					t.Fatal(err)
				}
				out := coldStartFails(t, "SCOPES_SECRET_ARN="+scopesSecretARN, "AWS_ENDPOINT_URL_SECRETS_MANAGER="+url, "AWS_ENDPOINT_URL_STS="+url)
				checkColdStartError(t, out, "SCOPES_SECRET_ARN", tc.scope, tc.canary)
			})
		})
	}
	t.Run("both set", func(t *testing.T) {
		sm, url := newFake(t)
		doc := scopesDoc(t, map[string]scopeSpec{"ok": {RoleARN: roleA, ExternalID: "CANARY-ext-both", Callers: []string{"*"}, Secrets: []string{"*"}}})
		if _, err := sm.Put(smfake.Secret{ARN: scopesSecretARN, String: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
		out := coldStartFails(t, "SCOPES="+doc, "SCOPES_SECRET_ARN="+scopesSecretARN, "AWS_ENDPOINT_URL_SECRETS_MANAGER="+url)
		checkColdStartError(t, out, "SCOPES_SECRET_ARN", "", "CANARY-ext-both")
		if !strings.Contains(out, "SCOPES ") && !strings.Contains(out, "SCOPES and") {
			t.Errorf("the error does not name SCOPES: %s", out)
		}
	})
	t.Run("scopes secret unreadable", func(t *testing.T) {
		sm, url := newFake(t)
		doc := scopesDoc(t, map[string]scopeSpec{"ok": {RoleARN: roleA, ExternalID: "CANARY-ext-denied", Callers: []string{"*"}, Secrets: []string{"*"}}})
		if _, err := sm.Put(smfake.Secret{ARN: scopesSecretARN, String: aws.String(doc), Readers: []string{roleA}}); err != nil {
			t.Fatal(err)
		}
		out := coldStartFails(t, "SCOPES_SECRET_ARN="+scopesSecretARN, "AWS_ENDPOINT_URL_SECRETS_MANAGER="+url)
		checkColdStartError(t, out, "SCOPES_SECRET_ARN", "", "CANARY-ext-denied")
	})
	t.Run("scopes secret missing", func(t *testing.T) {
		_, url := newFake(t)
		out := coldStartFails(t, "SCOPES_SECRET_ARN="+scopesSecretARN, "AWS_ENDPOINT_URL_SECRETS_MANAGER="+url)
		checkColdStartError(t, out, "SCOPES_SECRET_ARN", "", "")
	})
}

// checkColdStartError checks a failed cold start's output: it names the
// variable and the scope (when one is given) and holds no canary.
func checkColdStartError(t *testing.T, out, variable, scope, canary string) {
	t.Helper()
	if !strings.Contains(out, variable) {
		t.Errorf("the output does not name %s: %s", variable, out)
	}
	if scope != "" && !strings.Contains(out, scope) {
		t.Errorf("the output does not name the scope %s: %s", scope, out)
	}
	if canary != "" && strings.Contains(out, canary) {
		t.Errorf("the output holds the external id %q: %s", canary, out)
	}
	if strings.Contains(out, `"role_arn"`) || strings.Contains(out, `"callers"`) {
		t.Errorf("the output quotes the document: %s", out)
	}
}
