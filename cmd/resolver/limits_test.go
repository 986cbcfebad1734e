package main

// The request limits, each refused before any secret is read.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/maskresolver/maskresolver/internal/answer"
)

// TestRIEBodyLimit checks MAX_BODY_BYTES, before and after base64.
func TestRIEBodyLimit(t *testing.T) {
	t.Parallel()
	e, sm := startWithFake(t, "MAX_BODY_BYTES=100")
	for _, name := range []string{"http-resolve.json", "http-base64.json", "rest-resolve.json", "direct.json"} {
		t.Run(name, func(t *testing.T) {
			raw := e.invoke(t, eventFile(t, name))
			if name == "direct.json" {
				a := decodeBody(t, string(raw))
				if a.Error == nil || a.Error.Code != "PayloadTooLarge" {
					t.Fatalf("direct answer %s, want error.code PayloadTooLarge", raw)
				}
				return
			}
			var p proxyResponse
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatal(err)
			}
			wantRequestError(t, p, http.StatusRequestEntityTooLarge, "PayloadTooLarge")
		})
	}
	t.Run("small body passes", func(t *testing.T) {
		wantResolved(t, e.invokeProxy(t, post(t, `{"connection":{"a":1}}`)), `{"a":1}`)
	})
	if n := sm.Calls(""); n != 0 {
		t.Errorf("Secrets Manager was called %d times for oversized requests", n)
	}
}

// TestRIETooManyMasks checks MAX_MASKS: a request-level error decided
// before any read.
func TestRIETooManyMasks(t *testing.T) {
	t.Parallel()
	e, sm := startWithFake(t, "MAX_MASKS=1")
	p := e.invokeProxy(t, eventFile(t, "http-resolve.json"))
	wantRequestError(t, p, http.StatusUnprocessableEntity, "TooManyMasks")
	if n := sm.Calls(""); n != 0 {
		t.Errorf("Secrets Manager was called %d times for a request over MAX_MASKS", n)
	}
	p = e.invokeProxy(t, eventFile(t, "rest-resolve.json"))
	wantRequestError(t, p, http.StatusUnprocessableEntity, "TooManyMasks")
	raw := e.invoke(t, eventFile(t, "direct.json"))
	want := strings.Replace(rawConnection(t, eventFile(t, "direct.json")), mask("prod.jira.secret.key", jiraARN), "jira-demo-3f9c2a", 1)
	checkResolved(t, decodeBody(t, string(raw)), string(raw), want,
		answer.MaskEntry{Path: "/connection/client_secret", Key: "prod.jira.secret.key", SecretARN: jiraARN, Status: "resolved"})
}

// TestRIEStringAndSecretLimits: MAX_STRING_BYTES and MAX_SECRETS refuse a
// request before any secret is read.
func TestRIEStringAndSecretLimits(t *testing.T) {
	t.Parallel()
	e, sm := startWithFake(t, "MAX_STRING_BYTES=200", "MAX_SECRETS=1")
	long := strings.Repeat("x", 201)
	wantRequestError(t, e.invokeProxy(t, post(t, `{"connection":{"a":"`+long+`"}}`)), http.StatusBadRequest, "InvalidRequest")
	wantRequestError(t, e.invokeProxy(t, post(t, `{"connection":{"`+long+`":1}}`)), http.StatusBadRequest, "InvalidRequest")
	two := `{"connection":["` + mask("username", jiraARN) + `","` + mask("client_id", sfARN) + `"]}`
	wantRequestError(t, e.invokeProxy(t, post(t, two)), http.StatusUnprocessableEntity, "TooManyMasks")
	if n := sm.Calls(""); n != 0 {
		t.Errorf("Secrets Manager was called %d times for requests over the limits", n)
	}
	// At the limits, the same shapes resolve.
	ok := `{"connection":["` + strings.Repeat("y", 200) + `","` + mask("username", jiraARN) + `","` + mask("prod.jira.secret.key", jiraARN) + `"]}`
	if p := e.invokeProxy(t, post(t, ok)); p.StatusCode != http.StatusOK {
		t.Errorf("a request at the limits: %d %s", p.StatusCode, p.Body)
	}
}
