package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/maskresolver/maskresolver/internal/answer"
)

// TestRIEEvents answers each file of events/ with the configuration of
// events/env.json, as `sam local invoke -e events/<file> --env-vars
// events/env.json` would.
func TestRIEEvents(t *testing.T) {
	t.Parallel()
	e, sm := startWithFake(t, envFile(t)...)
	seeded := seededValues(t)

	t.Run("http-resolve", func(t *testing.T) {
		ev := eventFile(t, "http-resolve.json")
		before := sm.SecretReads(jiraARN)
		p := e.invokeProxy(t, ev)
		want := jiraResolved(t, eventBody(t, ev))
		if !strings.Contains(want, `"client_secret": "jira-demo-3f9c2a"`) ||
			!strings.Contains(want, `{"header": "Bearer jira-api-demo-71b0"}`) {
			t.Fatalf("expected connection not built as intended: %s", want)
		}
		wantResolved(t, p, want, jiraMasks...)
		if n := sm.SecretReads(jiraARN) - before; n > 1 {
			t.Errorf("two masks of one secret cost %d reads, want at most 1", n)
		}
	})

	t.Run("http-dry-run", func(t *testing.T) {
		ev := eventFile(t, "http-dry-run.json")
		p := e.invokeProxy(t, ev)
		wantResolved(t, p, rawConnection(t, eventBody(t, ev)), withStatus(jiraMasks, "verified")...)
		for _, v := range seeded {
			if bytes.Contains(p.raw, []byte(v)) {
				t.Errorf("the dry run's answer holds the secret value %q", v)
			}
		}
	})

	t.Run("http-base64", func(t *testing.T) {
		ev := eventFile(t, "http-base64.json")
		p := e.invokeProxy(t, ev)
		wantResolved(t, p, jiraResolved(t, eventBody(t, ev)), jiraMasks...)
	})

	t.Run("rest-resolve", func(t *testing.T) {
		ev := eventFile(t, "rest-resolve.json")
		p := e.invokeProxy(t, ev)
		want := strings.NewReplacer(
			mask("username", jiraARN), "svc-jira",
			mask("prod.jira.secret.key", jiraARN), "jira-demo-3f9c2a",
		).Replace(rawConnection(t, eventBody(t, ev)))
		wantResolved(t, p, want,
			answer.MaskEntry{Path: "/connection/username", Key: "username", SecretARN: jiraARN, Status: "resolved"},
			answer.MaskEntry{Path: "/connection/password", Key: "prod.jira.secret.key", SecretARN: jiraARN, Status: "resolved"},
		)
	})

	t.Run("direct", func(t *testing.T) {
		ev := eventFile(t, "direct.json")
		raw := e.invoke(t, ev)
		var shape map[string]json.RawMessage
		if err := json.Unmarshal(raw, &shape); err != nil {
			t.Fatalf("direct answer is not a JSON object: %s", raw)
		}
		if _, ok := shape["statusCode"]; ok {
			t.Fatalf("a direct invocation got a proxy response: %s", raw)
		}
		want := strings.Replace(rawConnection(t, ev), mask("prod.jira.secret.key", jiraARN), "jira-demo-3f9c2a", 1)
		checkResolved(t, decodeBody(t, string(raw)), string(raw), want,
			answer.MaskEntry{Path: "/connection/client_secret", Key: "prod.jira.secret.key", SecretARN: jiraARN, Status: "resolved"})
	})

	t.Run("http-failing", func(t *testing.T) {
		p := e.invokeProxy(t, eventFile(t, "http-failing.json"))
		wantMaskFailures(t, p, http.StatusUnprocessableEntity,
			answer.MaskEntry{Path: "/connection/client_secret", Key: "no.such.key", SecretARN: jiraARN, Code: "KeyNotFound"},
			answer.MaskEntry{Path: "/connection/password", Key: "password",
				SecretARN: "arn:aws:secretsmanager:us-east-1:137149879143:secret:missing-secret-AbCdEf", Code: "SecretNotFound"},
			answer.MaskEntry{Path: "/connection/token", Code: "InvalidMask"},
		)
		for _, v := range seeded {
			if strings.Contains(p.Body, v) {
				t.Errorf("the failure answer holds the secret value %q", v)
			}
		}
	})

	t.Run("http-not-found", func(t *testing.T) {
		p := e.invokeProxy(t, eventFile(t, "http-not-found.json"))
		wantRequestError(t, p, http.StatusNotFound, "NotFound")
	})

	t.Run("method-not-allowed", func(t *testing.T) {
		p := e.invokeProxy(t, httpEvent(t, "GET", "/v1/resolve", nil, false))
		wantRequestError(t, p, http.StatusMethodNotAllowed, "MethodNotAllowed")
		if got := p.Headers["Allow"]; got != "POST" {
			t.Errorf("Allow = %q, want POST", got)
		}
	})

	t.Run("named stage", func(t *testing.T) {
		var ev map[string]any
		if err := json.Unmarshal(eventFile(t, "http-resolve.json"), &ev); err != nil {
			t.Fatal(err)
		}
		ev["rawPath"] = "/prod/v1/resolve"
		rc := ev["requestContext"].(map[string]any)
		rc["stage"] = "prod"
		rc["http"].(map[string]any)["path"] = "/prod/v1/resolve"
		b, _ := json.Marshal(ev)
		p := e.invokeProxy(t, b)
		wantResolved(t, p, jiraResolved(t, eventBody(t, eventFile(t, "http-resolve.json"))), jiraMasks...)
	})

	// One request error and one mask failure: which bodies are invalid is
	// internal/resolve's TestResolveRequestErrors; that an error is an
	// answer, never a function error, shows only through the runtime.
	t.Run("direct errors are answers, not function errors", func(t *testing.T) {
		for _, tc := range []struct{ event, code string }{
			{`"just a string"`, "InvalidRequest"},
			{`{"connection":{"k":"` + mask("nope", jiraARN) + `"}}`, "MaskResolutionFailed"},
		} {
			raw := e.invoke(t, []byte(tc.event))
			a := decodeBody(t, string(raw))
			if a.Error == nil || a.Error.Code != tc.code || bytes.Contains(raw, []byte("errorType")) {
				t.Errorf("direct %s: answer %s, want error.code %s", tc.event, raw, tc.code)
			}
		}
	})

	// A 400 through the binary for a body that is not JSON, for one whose
	// base64 does not decode, and either side of the default MAX_DEPTH.
	// Every other malformed body is a row of internal/resolve's
	// TestResolveRequestErrors or internal/api's TestRoutes.
	t.Run("invalid-request", func(t *testing.T) {
		deep := func(n int) string {
			return `{"connection":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
		}
		for _, tc := range []struct {
			name, body string
			b64        bool
		}{
			{"not JSON", "this is not json", false},
			{"bad base64", "%%%not-base64%%%", true},
			{"deeper than MAX_DEPTH", deep(65), false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				body := tc.body
				p := e.invokeProxy(t, httpEvent(t, "POST", "/v1/resolve", &body, tc.b64))
				wantRequestError(t, p, http.StatusBadRequest, "InvalidRequest")
			})
		}
		t.Run("exactly MAX_DEPTH", func(t *testing.T) {
			p := e.invokeProxy(t, post(t, deep(64)))
			wantResolved(t, p, strings.Repeat("[", 64)+strings.Repeat("]", 64))
		})
	})
}
