package main

// Which secrets may be read, and by whom: SECRET_ARN_ALLOWLIST and
// CALLER_RULES.

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/maskresolver/maskresolver/internal/answer"
)

// TestRIEAllowlist checks that SECRET_ARN_ALLOWLIST keeps the function
// from calling Secrets Manager at all for a secret outside it.
func TestRIEAllowlist(t *testing.T) {
	t.Parallel()
	e, sm := startWithFake(t, "SECRET_ARN_ALLOWLIST=arn:aws:secretsmanager:eu-west-1:"+account+":secret:prod/*")

	p := e.invokeProxy(t, eventFile(t, "http-resolve.json"))
	wantMaskFailures(t, p, http.StatusUnprocessableEntity,
		answer.MaskEntry{Path: "/connection/client_secret", Key: "prod.jira.secret.key", SecretARN: jiraARN, Code: "SecretNotAllowed"},
		answer.MaskEntry{Path: "/connection/auth/header", Key: "api.token", SecretARN: jiraARN, Code: "SecretNotAllowed"})
	if n := sm.Calls(""); n != 0 {
		t.Fatalf("Secrets Manager was called %d times for secrets outside the allowlist", n)
	}

	// Mixed: the allowed secret may be read, but nothing is returned.
	p = e.invokeProxy(t, post(t, `{"connection":{"a":"`+mask("client_id", sfARN)+`","b":"`+mask("username", jiraARN)+`"}}`))
	wantMaskFailures(t, p, http.StatusUnprocessableEntity,
		answer.MaskEntry{Path: "/connection/b", Key: "username", SecretARN: jiraARN, Code: "SecretNotAllowed"})
	if n := sm.SecretReads(jiraARN); n != 0 {
		t.Errorf("the disallowed secret was read %d times", n)
	}

	p = e.invokeProxy(t, post(t, `{"connection":{"a":"`+mask("client_id", sfARN)+`"}}`))
	wantResolved(t, p, `{"a":"sf-demo-client"}`,
		answer.MaskEntry{Path: "/connection/a", Key: "client_id", SecretARN: sfARN, Status: "resolved"})
}

// TestRIECallerRules checks CALLER_RULES with the caller API Gateway names:
// the IAM principal of an HTTP or REST API request, and no caller for a
// direct invocation.
func TestRIECallerRules(t *testing.T) {
	t.Parallel()
	rules := `[{"callers":["arn:aws:sts::137149879143:assumed-role/workato-*"],"secrets":["arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-jira-*"]},` +
		`{"callers":["*"],"secrets":["arn:aws:secretsmanager:eu-west-1:*"]}]`
	e, sm := startWithFake(t, "CALLER_RULES="+rules)

	t.Run("HTTP API caller with a rule", func(t *testing.T) {
		ev := eventFile(t, "http-resolve.json")
		wantResolved(t, e.invokeProxy(t, ev), jiraResolved(t, eventBody(t, ev)), jiraMasks...)
	})
	t.Run("REST API caller with a rule", func(t *testing.T) {
		wantStatus(t, e.invokeProxy(t, eventFile(t, "rest-resolve.json")), http.StatusOK)
	})
	t.Run("caller without a rule for the secret", func(t *testing.T) {
		wantMaskFailures(t, e.invokeProxy(t, post(t, `{"connection":{"x":"`+mask("x", plainARN)+`"}}`)),
			http.StatusUnprocessableEntity,
			answer.MaskEntry{Path: "/connection/x", Key: "x", SecretARN: plainARN, Code: "SecretNotAllowed"})
	})
	t.Run("another caller", func(t *testing.T) {
		ev := bytes.ReplaceAll(eventFile(t, "http-resolve.json"), []byte("assumed-role/workato-connector/"), []byte("assumed-role/intruder/"))
		wantMaskFailures(t, e.invokeProxy(t, ev), http.StatusUnprocessableEntity,
			answer.MaskEntry{Path: "/connection/client_secret", Key: "prod.jira.secret.key", SecretARN: jiraARN, Code: "SecretNotAllowed"},
			answer.MaskEntry{Path: "/connection/auth/header", Key: "api.token", SecretARN: jiraARN, Code: "SecretNotAllowed"})
	})
	t.Run("direct invocation has no caller", func(t *testing.T) {
		before := sm.SecretReads(jiraARN)
		raw := e.invoke(t, eventFile(t, "direct.json"))
		a := decodeBody(t, string(raw))
		if a.Error == nil || len(a.Error.Masks) != 1 || a.Error.Masks[0].Code != "SecretNotAllowed" {
			t.Errorf("direct invocation of a caller-only secret: %s, want SecretNotAllowed", raw)
		}
		if sm.SecretReads(jiraARN) != before {
			t.Errorf("a secret the direct invocation may not resolve was read")
		}
		raw = e.invoke(t, []byte(`{"connection":{"s":"`+mask("client_id", sfARN)+`"}}`))
		checkResolved(t, decodeBody(t, string(raw)), string(raw), `{"s":"sf-demo-client"}`,
			answer.MaskEntry{Path: "/connection/s", Key: "client_id", SecretARN: sfARN, Status: "resolved"})
	})
}
