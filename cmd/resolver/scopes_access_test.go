package main

// Who may use a scope and what it may resolve, through the built
// bootstrap: ScopeNotAllowed, the same for an unknown scope and a closed
// one; the scope's secrets patterns, as written and as answered; the
// allowlist, which still applies, and CALLER_RULES, which do not; and the
// scopes secret, which no mask resolves.

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// TestScopeUnknownAndClosedAlike: a scope the caller may not use and a
// scope that does not exist get byte-identical answers. The two cases are
// the same request, naming the same scope, sent to two environments: one
// whose document has the scope closed to the caller, one whose document
// lacks it. Both answers come before any limit on masks and make no call.
func TestScopeUnknownAndClosedAlike(t *testing.T) {
	t.Parallel()
	closedDoc := testScopes(t)
	unknownDoc := scopesDoc(t, map[string]scopeSpec{
		"a": {RoleARN: roleA, ExternalID: extIDA, Callers: []string{"*"}, Secrets: tenantPatterns},
	})
	closed, smClosed := startScoped(t, "SCOPES="+closedDoc, "MAX_MASKS=1")
	unknown, smUnknown := startScoped(t, "SCOPES="+unknownDoc, "MAX_MASKS=1")

	for _, tc := range []struct {
		name string
		ev   []byte
	}{
		{"one mask", scoped(t, "closed", keyOf(tenantASecret))},
		{"no mask", scoped(t, "closed", `{"a":1}`)},
		{"too many masks", scoped(t, "closed", `["`+mask("key", tenantASecret)+`","`+mask("other", tenantASecret)+`"]`)},
		{"dry run", scoped(t, "closed", keyOf(tenantASecret), `,"dry_run":true`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := closed.invokeProxy(t, tc.ev)
			b := unknown.invokeProxy(t, tc.ev)
			wantRequestError(t, a, http.StatusForbidden, "ScopeNotAllowed")
			wantRequestError(t, b, http.StatusForbidden, "ScopeNotAllowed")
			if a.Body != b.Body || a.StatusCode != b.StatusCode {
				t.Errorf("closed and unknown scopes answer differently:\nclosed:  %d %s\nunknown: %d %s", a.StatusCode, a.Body, b.StatusCode, b.Body)
			}
			if len(a.Headers) != len(b.Headers) {
				t.Errorf("headers differ: %v / %v", a.Headers, b.Headers)
			}
			for k, v := range a.Headers {
				if b.Headers[k] != v {
					t.Errorf("header %s: %q / %q", k, v, b.Headers[k])
				}
			}
		})
	}
	t.Run("direct invocation without a \"*\" caller", func(t *testing.T) {
		raw := closed.invoke(t, []byte(`{"connection":`+keyOf(tenantASecret)+`,"scope":"a"}`))
		b := decodeBody(t, string(raw))
		if b.Error == nil || b.Error.Code != "ScopeNotAllowed" {
			t.Errorf("direct invocation of a scope for one caller: %s, want ScopeNotAllowed", raw)
		}
	})
	for name, sm := range map[string]*smfake.Server{"closed": smClosed, "unknown": smUnknown} {
		if n, m := smCalls(sm), len(sm.AssumeRoleCalls()); n != 0 || m != 0 {
			t.Errorf("%s: %d Secrets Manager calls and %d AssumeRole calls for refused scopes, want none", name, n, m)
		}
	}
	t.Run("a direct invocation admitted by \"*\"", func(t *testing.T) {
		raw := unknown.invoke(t, []byte(`{"connection":`+keyOf(tenantASecret)+`,"scope":"a"}`))
		checkResolved(t, decodeBody(t, string(raw)), string(raw), `{"k":"`+tenantAValue+`"}`, resolvedKey(tenantASecret))
	})
}

// TestScopeMemberInvalid: a scope member that is not a string, null
// included, is InvalidRequest, with no call.
func TestScopeMemberInvalid(t *testing.T) {
	t.Parallel()
	e, sm := startScoped(t, "SCOPES="+testScopes(t))
	for _, v := range []string{`null`, `5`, `["a"]`, `{"name":"a"}`, `true`} {
		t.Run(v, func(t *testing.T) {
			wantRequestError(t, e.invokeProxy(t, post(t, `{"connection":`+keyOf(tenantASecret)+`,"scope":`+v+`}`)),
				http.StatusBadRequest, "InvalidRequest")
		})
	}
	if n, m := smCalls(sm), len(sm.AssumeRoleCalls()); n != 0 || m != 0 {
		t.Errorf("%d Secrets Manager calls and %d AssumeRole calls for invalid requests", n, m)
	}
}

// TestScopeRulesAndAllowlist: in a scope, CALLER_RULES neither refuse
// what the scope allows nor allow what it does not; SECRET_ARN_ALLOWLIST
// still refuses what it does not list, with no call.
func TestScopeRulesAndAllowlist(t *testing.T) {
	t.Parallel()
	rules := `[{"callers":["arn:aws:sts::` + account + `:assumed-role/workato-*"],"secrets":["arn:aws:secretsmanager:us-east-1:` + account + `:secret:prod-jira-*"]}]`
	allow := "arn:aws:secretsmanager:*:" + tenantAccount + ":secret:tenant-a/*,arn:aws:secretsmanager:*:" + account + ":secret:*"
	e, sm := startScoped(t, "SCOPES="+testScopes(t), "CALLER_RULES="+rules, "SECRET_ARN_ALLOWLIST="+allow)

	t.Run("unscoped: the rules refuse tenant A's secret", func(t *testing.T) {
		wantMaskFailures(t, e.invokeProxy(t, unscoped(t, keyOf(tenantASecret))), http.StatusUnprocessableEntity,
			failedKey(tenantASecret, "SecretNotAllowed"))
	})
	t.Run("scoped: the rules do not refuse it", func(t *testing.T) {
		wantResolved(t, e.invokeProxy(t, scoped(t, "a", keyOf(tenantASecret))), `{"k":"`+tenantAValue+`"}`, resolvedKey(tenantASecret))
	})
	t.Run("scoped: the rules do not allow what the scope does not", func(t *testing.T) {
		before := sm.SecretReads(jiraARN)
		wantMaskFailures(t, e.invokeProxy(t, scoped(t, "a", `{"k":"`+mask("username", jiraARN)+`"}`)), http.StatusUnprocessableEntity,
			answer.MaskEntry{Path: "/connection/k", Key: "username", SecretARN: jiraARN, Code: "SecretNotAllowed"})
		if sm.SecretReads(jiraARN) != before {
			t.Error("a secret outside the scope was read")
		}
		// And unscoped, the rules allow it.
		wantStatus(t, e.invokeProxy(t, unscoped(t, `{"k":"`+mask("username", jiraARN)+`"}`)), http.StatusOK)
	})
	t.Run("scoped: the allowlist refuses what the scope allows", func(t *testing.T) {
		wantMaskFailures(t, e.invokeProxy(t, scoped(t, "b", keyOf(tenantBSecret))), http.StatusUnprocessableEntity,
			failedKey(tenantBSecret, "SecretNotAllowed"))
		if n := sm.SecretReads(tenantBSecret); n != 0 {
			t.Errorf("a secret outside the allowlist was read %d times", n)
		}
		for _, c := range sm.AssumeRoleCalls() {
			if c.RoleARN == roleB {
				t.Errorf("a scoped request with nothing it may read assumed its role: %+v", c)
			}
		}
	})
}

// TestScopeSecretsAsWrittenAndAnswered: a scope's secrets patterns are
// checked against the ARN as written in the mask, before any call, and
// against the ARN Secrets Manager answers, before any value is returned.
func TestScopeSecretsAsWrittenAndAnswered(t *testing.T) {
	t.Parallel()
	partial := strings.TrimSuffix(tenantASecret, "-Tn4nt1")
	doc := scopesDoc(t, map[string]scopeSpec{
		// Only the partial ARN: a full ARN is refused as written, the
		// partial one as answered.
		"exact": {RoleARN: roleA, ExternalID: extIDA, Callers: []string{"*"}, Secrets: []string{partial}},
		// Only full ARNs: the partial one is refused as written.
		"full": {RoleARN: roleA, ExternalID: extIDA, Callers: []string{"*"}, Secrets: []string{partial + "-??????"}},
	})
	e, sm := startScoped(t, "SCOPES="+doc)

	t.Run("refused as written: no read", func(t *testing.T) {
		wantMaskFailures(t, e.invokeProxy(t, scoped(t, "exact", keyOf(tenantASecret))), http.StatusUnprocessableEntity,
			failedKey(tenantASecret, "SecretNotAllowed"))
		wantMaskFailures(t, e.invokeProxy(t, scoped(t, "full", keyOf(partial))), http.StatusUnprocessableEntity,
			failedKey(partial, "SecretNotAllowed"))
		if n := sm.SecretReads(tenantASecret); n != 0 {
			t.Errorf("%d reads of a secret refused as written", n)
		}
	})
	t.Run("refused as answered: no value", func(t *testing.T) {
		p := e.invokeProxy(t, scoped(t, "exact", keyOf(partial)))
		wantMaskFailures(t, p, http.StatusUnprocessableEntity, failedKey(partial, "SecretNotAllowed"))
		if strings.Contains(p.Body, tenantAValue) {
			t.Errorf("the value of a secret refused as answered was returned: %s", p.Body)
		}
	})
	t.Run("allowed both ways", func(t *testing.T) {
		wantResolved(t, e.invokeProxy(t, scoped(t, "full", keyOf(tenantASecret))), `{"k":"`+tenantAValue+`"}`, resolvedKey(tenantASecret))
	})
}

// TestScopesSecretNeverResolved: no mask resolves the scopes secret, in
// any spelling of its ARN, scoped or not, even for a scope whose patterns
// admit every secret and a role that may read it; and none of them reads
// it.
func TestScopesSecretNeverResolved(t *testing.T) {
	t.Parallel()
	sm, url := newScopeFake(t)
	const full = "arn:aws:secretsmanager:us-east-1:" + account + ":secret:maskresolver/scopes-Sc0pe5"
	partial := strings.TrimSuffix(full, "-Sc0pe5")
	doc := scopesDoc(t, map[string]scopeSpec{
		"all": {RoleARN: roleB, Callers: []string{"*"}, Secrets: []string{"*"}},
	})
	if _, err := sm.Put(smfake.Secret{ARN: full, String: aws.String(doc), Readers: []string{smfake.DefaultPrincipal, roleB}}); err != nil {
		t.Fatal(err)
	}
	// SCOPES_SECRET_ARN is given as a partial ARN in one environment and
	// as the full one in the other.
	for _, given := range []string{partial, full} {
		t.Run("SCOPES_SECRET_ARN="+given[strings.LastIndexByte(given, ':')+1:], func(t *testing.T) {
			e := startEmulator(t, url, "AWS_ENDPOINT_URL_STS="+url, "SCOPES_SECRET_ARN="+given)
			e.noLeak(extIDA)
			// The scope works for other secrets; the first request also
			// starts the function, which reads the document.
			wantResolved(t, e.invokeProxy(t, scoped(t, "all", keyOf(tenantBSecret))), `{"k":"`+tenantBValue+`"}`, resolvedKey(tenantBSecret))
			reads := sm.SecretReads(full)
			for _, spelling := range []string{full, partial, partial + "-AbCd12"} {
				m := answer.MaskEntry{Path: "/connection/k", Key: "all.role_arn", SecretARN: spelling, Code: "SecretNotAllowed"}
				conn := `{"k":"` + mask("all.role_arn", spelling) + `"}`
				wantMaskFailures(t, e.invokeProxy(t, unscoped(t, conn)), http.StatusUnprocessableEntity, m)
				wantMaskFailures(t, e.invokeProxy(t, scoped(t, "all", conn)), http.StatusUnprocessableEntity, m)
				wantMaskFailures(t, e.invokeProxy(t, scoped(t, "all", conn, `,"max_age":0`)), http.StatusUnprocessableEntity, m)
			}
			if n := sm.SecretReads(full) - reads; n != 0 {
				t.Errorf("masks of the scopes secret made %d reads of it", n)
			}
		})
	}
}
