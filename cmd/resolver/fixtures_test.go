package main

// Fixtures of the end-to-end tests: the files of events/ (the events and
// configuration `sam local invoke` takes, and the secrets they name) and
// the requests built from them.

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/maskresolver/maskresolver/internal/answer"
)

// Seeded secrets of events/secrets.json.
const (
	jiraARN   = "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-jira-credentials-FsmeTs"
	sfARN     = "arn:aws:secretsmanager:eu-west-1:137149879143:secret:prod/salesforce-a1B2c3"
	binaryARN = "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-binary-cert-Q1w2E3"
	plainARN  = "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-plain-text-Z9y8X7"
	account   = "137149879143"
)

// eventFile reads a file of events/.
func eventFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seededValues lists every string in events/secrets.json that is, or is
// part of, a secret value: the values that must never reach a log or an
// answer that is not a resolve.
func seededValues(t *testing.T) []string {
	t.Helper()
	var seed struct {
		Secrets []struct {
			SecretString *string `json:"secret_string"`
			SecretBinary string  `json:"secret_binary"`
		} `json:"secrets"`
	}
	if err := json.Unmarshal(eventFile(t, "secrets.json"), &seed); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range seed.Secrets {
		if s.SecretBinary != "" {
			out = append(out, s.SecretBinary)
		}
		if s.SecretString == nil {
			continue
		}
		var v any
		if json.Unmarshal([]byte(*s.SecretString), &v) != nil {
			out = append(out, *s.SecretString)
			continue
		}
		out = append(out, stringLeaves(v)...)
	}
	if len(out) < 8 {
		t.Fatalf("only %d seeded values found in secrets.json", len(out))
	}
	return out
}

func stringLeaves(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case map[string]any:
		var out []string
		for _, m := range v {
			out = append(out, stringLeaves(m)...)
		}
		return out
	case []any:
		var out []string
		for _, m := range v {
			out = append(out, stringLeaves(m)...)
		}
		return out
	}
	return nil
}

// envFile reads the function's variables from events/env.json, the file
// `sam local invoke --env-vars` takes.
func envFile(t *testing.T) []string {
	t.Helper()
	var f map[string]map[string]string
	if err := json.Unmarshal(eventFile(t, "env.json"), &f); err != nil {
		t.Fatal(err)
	}
	vars := f["ResolverFunction"]
	if len(vars) == 0 {
		t.Fatal("events/env.json has no ResolverFunction variables")
	}
	var env []string
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// httpEvent is the HTTP API event of events/http-resolve.json with another
// body, method or path.
func httpEvent(t *testing.T, method, path string, body *string, b64 bool) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(eventFile(t, "http-resolve.json"), &ev); err != nil {
		t.Fatal(err)
	}
	rc := ev["requestContext"].(map[string]any)
	h := rc["http"].(map[string]any)
	h["method"], h["path"] = method, path
	ev["rawPath"] = path
	ev["routeKey"] = method + " " + path
	rc["routeKey"] = ev["routeKey"]
	delete(ev["headers"].(map[string]any), "content-length")
	if body == nil {
		delete(ev, "body")
	} else {
		ev["body"] = *body
	}
	ev["isBase64Encoded"] = b64
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// post is an HTTP API event POSTing body to /v1/resolve.
func post(t *testing.T, body string) []byte {
	t.Helper()
	return httpEvent(t, "POST", "/v1/resolve", &body, false)
}

// withHeader adds a header to an HTTP API event, as API Gateway passes it
// (lower-cased name).
func withHeader(t *testing.T, event []byte, name, value string) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		t.Fatal(err)
	}
	h, _ := ev["headers"].(map[string]any)
	if h == nil {
		h = map[string]any{}
	}
	h[strings.ToLower(name)] = value
	ev["headers"] = h
	b, _ := json.Marshal(ev)
	return b
}

func mask(key, arn string) string { return "{{workato:sm:" + key + ":" + arn + "}}" }

// rawConnection returns the connection member of a request body exactly as
// written.
func rawConnection(t *testing.T, body []byte) string {
	t.Helper()
	var r struct {
		Connection json.RawMessage `json:"connection"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return string(r.Connection)
}

// eventBody is the decoded body of an API Gateway event file.
func eventBody(t *testing.T, event []byte) []byte {
	t.Helper()
	var ev struct {
		Body            string `json:"body"`
		IsBase64Encoded bool   `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		t.Fatal(err)
	}
	if !ev.IsBase64Encoded {
		return []byte(ev.Body)
	}
	b, err := base64.StdEncoding.DecodeString(ev.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jiraResolved is what events/http-resolve.json (and its base64 twin)
// resolves to: each mask replaced in place, every other byte kept.
func jiraResolved(t *testing.T, body []byte) string {
	t.Helper()
	conn := rawConnection(t, body)
	return strings.NewReplacer(
		mask("prod.jira.secret.key", jiraARN), "jira-demo-3f9c2a",
		mask("api.token", jiraARN), "jira-api-demo-71b0",
	).Replace(conn)
}

// jiraMasks is the masks list of a resolve of events/http-resolve.json.
var jiraMasks = []answer.MaskEntry{
	{Path: "/connection/client_secret", Key: "prod.jira.secret.key", SecretARN: jiraARN, Status: "resolved"},
	{Path: "/connection/auth/header", Key: "api.token", SecretARN: jiraARN, Status: "resolved"},
}

// withStatus is ms with every entry's status set to status.
func withStatus(ms []answer.MaskEntry, status string) []answer.MaskEntry {
	out := slices.Clone(ms)
	for i := range out {
		out[i].Status = status
	}
	return out
}
