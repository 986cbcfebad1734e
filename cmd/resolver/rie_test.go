package main

// End-to-end tests: the real bootstrap, built as for provided.al2023, runs
// under the Lambda Runtime Interface Emulator (what `sam local invoke` runs
// in its container) and reads secrets from smfake over the wire protocol.
// Each configuration gets its own emulator on its own ports; an emulator
// serves one invocation at a time, so subtests sharing one run in sequence
// while the configurations run in parallel.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/app"
	"github.com/maskresolver/maskresolver/internal/config"
	"github.com/maskresolver/maskresolver/internal/lambdatest"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// Seeded secrets of events/secrets.json.
const (
	jiraARN   = "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-jira-credentials-FsmeTs"
	sfARN     = "arn:aws:secretsmanager:eu-west-1:137149879143:secret:prod/salesforce-a1B2c3"
	binaryARN = "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-binary-cert-Q1w2E3"
	plainARN  = "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-plain-text-Z9y8X7"
	account   = "137149879143"
)

const invokePath = "/2015-03-31/functions/function/invocations"

func TestMain(m *testing.M) {
	lambdatest.Main(m)
}

// binaries returns the function and the emulator, built once per test
// binary; short mode skips the tests that need them.
func binaries(t *testing.T) (bootstrap, rie string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: builds the bootstrap and the Runtime Interface Emulator")
	}
	return lambdatest.Binaries(t)
}

// waitPort polls addr until it accepts connections, the process exits or
// the time runs out.
func waitPort(t *testing.T, addr string, exited <-chan struct{}, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("process exited before listening on %s; output:\n%s", addr, logs())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s after 15 s; output:\n%s", addr, logs())
}

// childEnv is the test's environment without anything that would configure
// the function or the SDK behind the test's back.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") || slices.Contains(config.Variables, name) || name == "_LAMBDA_SERVER_PORT" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// emulator is the bootstrap running under the Runtime Interface Emulator.
type emulator struct {
	url  string
	logs *lambdatest.Buffer

	mu      sync.Mutex
	ids     []string // request ids of the invocations sent
	secrets []string // values that must never reach the logs
	seq     atomic.Int64
}

// startEmulator runs the bootstrap under the emulator with Secrets Manager
// at smURL and env on top of the base environment. Cleanup stops it, then
// checks its logs: no secret value, and one JSON summary line carrying the
// request id for every invocation.
func startEmulator(t *testing.T, smURL string, env ...string) *emulator {
	t.Helper()
	bootstrap, rie := binaries(t)
	addr := lambdatest.FreeAddr(t)
	apiAddr := lambdatest.FreeAddr(t)
	e := &emulator{url: "http://" + addr, logs: &lambdatest.Buffer{}}

	// --log-level keeps the emulator's own logs at info even when the
	// function's LOG_LEVEL (which the emulator also reads) says debug.
	cmd := exec.Command(rie, "--log-level", "info",
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", apiAddr,
		bootstrap)
	cmd.Env = childEnv(append([]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + smURL,
		"AWS_ACCESS_KEY_ID=AKIDE2ETEST",
		"AWS_SECRET_ACCESS_KEY=e2e-test-secret-key",
		"AWS_SESSION_TOKEN=e2e-test-session-token",
		"AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_XRAY_CONTEXT_MISSING=IGNORE_ERROR",
	}, env...)...)
	cmd.Stdout = e.logs
	cmd.Stderr = e.logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()

	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			t.Errorf("emulator did not stop on SIGTERM within 10 s (%v)", waitErr)
		}
		e.checkLogs(t)
		if t.Failed() {
			t.Logf("emulator output:\n%s", e.logs.String())
		}
	})
	waitPort(t, addr, exited, e.logs.String)
	return e
}

// noLeak registers values that must appear in no log line.
func (e *emulator) noLeak(values ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.secrets = append(e.secrets, values...)
}

func (e *emulator) checkLogs(t *testing.T) {
	t.Helper()
	out := e.logs.String()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, v := range e.secrets {
		if strings.Contains(out, v) {
			t.Errorf("the logs hold the secret value %q", v)
		}
	}
	summaries := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var l struct {
			Message   string `json:"message"`
			Msg       string `json:"msg"`
			RequestID string `json:"requestId"`
		}
		if err := json.Unmarshal(line, &l); err != nil {
			t.Errorf("a log line starting with '{' is not JSON: %s", line)
			continue
		}
		if l.Message == "request" || l.Msg == "request" {
			summaries[l.RequestID]++
		}
	}
	for _, id := range e.ids {
		if n := summaries[id]; n != 1 {
			t.Errorf("request %s: %d JSON summary lines with its requestId, want 1", id, n)
		}
	}
}

// invoke sends one event and returns the function's raw result.
func (e *emulator) invoke(t *testing.T, event []byte) []byte {
	t.Helper()
	id := fmt.Sprintf("e2e-%d-%d", time.Now().UnixNano(), e.seq.Add(1))
	req, err := http.NewRequest(http.MethodPost, e.url+invokePath, bytes.NewReader(event))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amzn-RequestId", id)
	client := &http.Client{Timeout: 60 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the emulator answered HTTP %d (the invocation failed): %s", resp.StatusCode, body)
	}
	e.mu.Lock()
	e.ids = append(e.ids, id)
	e.mu.Unlock()
	return body
}

// proxyResponse is what the function returns for an API Gateway event.
type proxyResponse struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
	raw        []byte
}

// invokeProxy sends an API Gateway event and checks the headers every
// answer carries.
func (e *emulator) invokeProxy(t *testing.T, event []byte) proxyResponse {
	t.Helper()
	raw := e.invoke(t, event)
	var p proxyResponse
	if err := json.Unmarshal(raw, &p); err != nil || p.StatusCode == 0 {
		t.Fatalf("not an API Gateway proxy response (%v): %s", err, raw)
	}
	p.raw = raw
	if got := p.Headers["Content-Type"]; got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	if got := p.Headers["Cache-Control"]; got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if !json.Valid([]byte(p.Body)) {
		t.Errorf("body is not JSON: %s", p.Body)
	}
	return p
}

// maskEntry is one element of a masks list.
type maskEntry struct {
	Path      string `json:"path"`
	Key       string `json:"key"`
	SecretARN string `json:"secret_arn"`
	Status    string `json:"status"`
	Code      string `json:"code"`
	Message   string `json:"message"`
}

// answer is the response body of the contract.
type answer struct {
	Connection json.RawMessage `json:"connection"`
	Masks      []maskEntry     `json:"masks"`
	Error      *struct {
		Code    string      `json:"code"`
		Message string      `json:"message"`
		Masks   []maskEntry `json:"masks"`
	} `json:"error"`
}

func decodeAnswer(t *testing.T, body string) answer {
	t.Helper()
	var a answer
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatalf("body: %v: %s", err, body)
	}
	return a
}

// wantStatus checks the status and returns the decoded body.
func wantStatus(t *testing.T, p proxyResponse, status int) answer {
	t.Helper()
	if p.StatusCode != status {
		t.Fatalf("statusCode = %d, want %d; body: %s", p.StatusCode, status, p.Body)
	}
	return decodeAnswer(t, p.Body)
}

// wantRequestError checks a request-level error: its code and no masks list.
func wantRequestError(t *testing.T, p proxyResponse, status int, code string) {
	t.Helper()
	a := wantStatus(t, p, status)
	if a.Error == nil || a.Error.Code != code {
		t.Fatalf("error.code: got body %s, want %s", p.Body, code)
	}
	if a.Error.Message == "" {
		t.Errorf("error.message is empty")
	}
	if a.Error.Masks != nil || a.Connection != nil {
		t.Errorf("a request-level error has a masks list or a connection: %s", p.Body)
	}
}

// wantMaskFailures checks a MaskResolutionFailed answer listing exactly
// want (path, key, ARN and code; the message must be non-empty).
func wantMaskFailures(t *testing.T, p proxyResponse, status int, want ...maskEntry) {
	t.Helper()
	a := wantStatus(t, p, status)
	if a.Error == nil || a.Error.Code != "MaskResolutionFailed" {
		t.Fatalf("error.code: got body %s, want MaskResolutionFailed", p.Body)
	}
	if a.Connection != nil || a.Masks != nil {
		t.Errorf("a failed request returned a connection or top-level masks: %s", p.Body)
	}
	got := a.Error.Masks
	if len(got) != len(want) {
		t.Fatalf("error.masks has %d entries, want %d: %s", len(got), len(want), p.Body)
	}
	for i := range want {
		if got[i].Message == "" {
			t.Errorf("error.masks[%d].message is empty", i)
		}
		got[i].Message = ""
		if got[i] != want[i] {
			t.Errorf("error.masks[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// wantResolved checks a 200 answer: the connection as raw bytes and the
// masks list.
func wantResolved(t *testing.T, p proxyResponse, conn string, masks ...maskEntry) {
	t.Helper()
	a := wantStatus(t, p, http.StatusOK)
	checkResolved(t, a, p.Body, conn, masks...)
}

func checkResolved(t *testing.T, a answer, body, conn string, masks ...maskEntry) {
	t.Helper()
	if a.Error != nil {
		t.Fatalf("unexpected error: %s", body)
	}
	if string(a.Connection) != conn {
		t.Errorf("connection:\n got %s\nwant %s", a.Connection, conn)
	}
	if len(masks) == 0 {
		masks = []maskEntry{}
	}
	if !slices.Equal(a.Masks, masks) {
		t.Errorf("masks:\n got %+v\nwant %+v", a.Masks, masks)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func eventFile(t *testing.T, name string) []byte {
	t.Helper()
	return readFile(t, filepath.Join("..", "..", "events", name))
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

// newFake serves a Secrets Manager double seeded from events/secrets.json.
func newFake(t *testing.T) (*smfake.Server, string) {
	t.Helper()
	sm := smfake.New(smfake.WithAccount(account))
	if err := sm.LoadFile(filepath.Join("..", "..", "events", "secrets.json")); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sm)
	t.Cleanup(srv.Close)
	return sm, srv.URL
}

// startWithFake starts a seeded double and the function in front of it.
func startWithFake(t *testing.T, env ...string) (*emulator, *smfake.Server) {
	t.Helper()
	sm, url := newFake(t)
	e := startEmulator(t, url, env...)
	e.noLeak(seededValues(t)...)
	return e, sm
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

var jiraMasks = []maskEntry{
	{Path: "/connection/client_secret", Key: "prod.jira.secret.key", SecretARN: jiraARN, Status: "resolved"},
	{Path: "/connection/auth/header", Key: "api.token", SecretARN: jiraARN, Status: "resolved"},
}

func withStatus(ms []maskEntry, status string) []maskEntry {
	out := slices.Clone(ms)
	for i := range out {
		out[i].Status = status
	}
	return out
}

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
			maskEntry{Path: "/connection/username", Key: "username", SecretARN: jiraARN, Status: "resolved"},
			maskEntry{Path: "/connection/password", Key: "prod.jira.secret.key", SecretARN: jiraARN, Status: "resolved"},
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
		checkResolved(t, decodeAnswer(t, string(raw)), string(raw), want,
			maskEntry{Path: "/connection/client_secret", Key: "prod.jira.secret.key", SecretARN: jiraARN, Status: "resolved"})
	})

	t.Run("http-failing", func(t *testing.T) {
		p := e.invokeProxy(t, eventFile(t, "http-failing.json"))
		wantMaskFailures(t, p, http.StatusUnprocessableEntity,
			maskEntry{Path: "/connection/client_secret", Key: "no.such.key", SecretARN: jiraARN, Code: "KeyNotFound"},
			maskEntry{Path: "/connection/password", Key: "password",
				SecretARN: "arn:aws:secretsmanager:us-east-1:137149879143:secret:missing-secret-AbCdEf", Code: "SecretNotFound"},
			maskEntry{Path: "/connection/token", Code: "InvalidMask"},
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

	t.Run("direct errors are answers, not function errors", func(t *testing.T) {
		for _, tc := range []struct{ event, code string }{
			{`{"connection":{},"extra":1}`, "InvalidRequest"},
			{`"just a string"`, "InvalidRequest"},
			{`[1,2]`, "InvalidRequest"},
			{`{}`, "InvalidRequest"},
			{`{"connection":{"k":"` + mask("nope", jiraARN) + `"}}`, "MaskResolutionFailed"},
		} {
			raw := e.invoke(t, []byte(tc.event))
			a := decodeAnswer(t, string(raw))
			if a.Error == nil || a.Error.Code != tc.code || bytes.Contains(raw, []byte("errorType")) {
				t.Errorf("direct %s: answer %s, want error.code %s", tc.event, raw, tc.code)
			}
		}
	})

	t.Run("invalid-request", func(t *testing.T) {
		deep := func(n int) string {
			return `{"connection":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
		}
		for _, tc := range []struct {
			name, body string
			b64        bool
		}{
			{"empty body", "", false},
			{"not JSON", "this is not json", false},
			{"not an object", `["connection"]`, false},
			{"no connection", `{"dry_run":true}`, false},
			{"unknown top-level field", `{"connection":{},"extra":1}`, false},
			{"dry_run not a boolean", `{"connection":{},"dry_run":"yes"}`, false},
			{"trailing data", `{"connection":{}} {}`, false},
			{"invalid UTF-8", base64.StdEncoding.EncodeToString([]byte("{\"connection\":\"\xff\xfe\"}")), true},
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

// TestRIESecrets covers what a secret may hold and how its values are
// rendered, read and cached.
func TestRIESecrets(t *testing.T) {
	t.Parallel()
	e, sm := startWithFake(t, "SECRET_ARN_ALLOWLIST=arn:aws:secretsmanager:*:"+account+":secret:*")

	put := func(t *testing.T, s smfake.Secret) string {
		t.Helper()
		arn, err := sm.Put(s)
		if err != nil {
			t.Fatal(err)
		}
		return arn
	}
	resolves := func(t *testing.T, conn string, want string, masks ...maskEntry) {
		t.Helper()
		wantResolved(t, e.invokeProxy(t, post(t, `{"connection":`+conn+`}`)), want, masks...)
	}
	fails := func(t *testing.T, conn string, status int, masks ...maskEntry) {
		t.Helper()
		wantMaskFailures(t, e.invokeProxy(t, post(t, `{"connection":`+conn+`}`)), status, masks...)
	}

	t.Run("cache: one read across masks and invocations", func(t *testing.T) {
		arn := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:cache-probe-Ca9hE1"
		put(t, smfake.Secret{ARN: arn, String: aws.String(`{"user":"cache-user-v","pass":"cache-pass-v"}`)})
		e.noLeak("cache-user-v", "cache-pass-v")
		conn := `{"u":"` + mask("user", arn) + `","p":"` + mask("pass", arn) + `","again":"` + mask("pass", arn) + `"}`
		want := `{"u":"cache-user-v","p":"cache-pass-v","again":"cache-pass-v"}`
		masks := []maskEntry{
			{Path: "/connection/u", Key: "user", SecretARN: arn, Status: "resolved"},
			{Path: "/connection/p", Key: "pass", SecretARN: arn, Status: "resolved"},
			{Path: "/connection/again", Key: "pass", SecretARN: arn, Status: "resolved"},
		}
		ev := post(t, `{"connection":`+conn+`}`)
		wantResolved(t, e.invokeProxy(t, ev), want, masks...)
		if n := sm.SecretReads(arn); n != 1 {
			t.Errorf("after one request with three masks of one secret: %d reads, want 1", n)
		}
		wantResolved(t, e.invokeProxy(t, ev), want, masks...)
		if n := sm.SecretReads(arn); n != 1 {
			t.Errorf("after the same request twice: %d reads, want 1 (the warm cache)", n)
		}
	})

	t.Run("binary secret", func(t *testing.T) {
		fails(t, `{"cert":"`+mask("pem", binaryARN)+`"}`, http.StatusUnprocessableEntity,
			maskEntry{Path: "/connection/cert", Key: "pem", SecretARN: binaryARN, Code: "SecretNotKeyValue"})
	})

	t.Run("plain-text secret", func(t *testing.T) {
		fails(t, `{"x":"`+mask("x", plainARN)+`"}`, http.StatusUnprocessableEntity,
			maskEntry{Path: "/connection/x", Key: "x", SecretARN: plainARN, Code: "SecretNotKeyValue"})
	})

	t.Run("cross-region secret", func(t *testing.T) {
		resolves(t, `{"id":"`+mask("client_id", sfARN)+`","secret":"`+mask("client_secret", sfARN)+`"}`,
			`{"id":"sf-demo-client","secret":"sf-demo-secret-9d2e"}`,
			maskEntry{Path: "/connection/id", Key: "client_id", SecretARN: sfARN, Status: "resolved"},
			maskEntry{Path: "/connection/secret", Key: "client_secret", SecretARN: sfARN, Status: "resolved"})
		if n := sm.SecretReads(sfARN); n != 1 {
			t.Errorf("eu-west-1 secret read %d times, want 1", n)
		}
	})

	t.Run("dotted path and exact key", func(t *testing.T) {
		resolves(t, `{"pw":"`+mask("db.primary.password", sfARN)+`","exact":"`+mask("db.primary", sfARN)+`"}`,
			`{"pw":"sf-demo-db-pass","exact":"exact-key-wins"}`,
			maskEntry{Path: "/connection/pw", Key: "db.primary.password", SecretARN: sfARN, Status: "resolved"},
			maskEntry{Path: "/connection/exact", Key: "db.primary", SecretARN: sfARN, Status: "resolved"})
	})

	t.Run("number and object values as compact JSON", func(t *testing.T) {
		resolves(t, `{"port":"`+mask("port", jiraARN)+`","ssl":"tls=`+mask("ssl", jiraARN)+`"}`,
			`{"port":"8443","ssl":"tls={\"verify\":true,\"ca\":\"demo-ca\"}"}`,
			maskEntry{Path: "/connection/port", Key: "port", SecretARN: jiraARN, Status: "resolved"},
			maskEntry{Path: "/connection/ssl", Key: "ssl", SecretARN: jiraARN, Status: "resolved"})
	})

	t.Run("literals kept as written", func(t *testing.T) {
		arn := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:literal-probe-Li7eR1"
		put(t, smfake.Secret{ARN: arn, String: aws.String(`{"z":{"z":1,"a":12345678901234567890},"n":1.50e+3}`)})
		resolves(t, `{"a/b~c":["x",{"v":"`+mask("z", arn)+`"}],"n":"`+mask("n", arn)+`"}`,
			`{"a/b~c":["x",{"v":"{\"z\":1,\"a\":12345678901234567890}"}],"n":"1.50e+3"}`,
			maskEntry{Path: "/connection/a~1b~0c/1/v", Key: "z", SecretARN: arn, Status: "resolved"},
			maskEntry{Path: "/connection/n", Key: "n", SecretARN: arn, Status: "resolved"})
	})

	t.Run("payload kept byte for byte", func(t *testing.T) {
		conn := "{ \"big\" : 12345678901234567890, \"f\": 1.50, \"e\": -0.0e-0,\n" +
			` "u": "\u00e9\ud83d\ude00 é", "other": "{{not a mask}} {{workato}}", "t": true, "n": null,` +
			` "esc": "line\nnext \"q\" \/", "arr": [1, "Bearer ` + mask("username", jiraARN) + `"] }`
		want := strings.Replace(conn, mask("username", jiraARN), "svc-jira", 1)
		resolves(t, conn, want,
			maskEntry{Path: "/connection/arr/1", Key: "username", SecretARN: jiraARN, Status: "resolved"})
	})

	t.Run("escaped mask is a mask", func(t *testing.T) {
		escaped := `\u007b\u007bworkato:sm:username:` + jiraARN + `\u007d\u007d`
		resolves(t, `{"u":"`+escaped+`"}`, `{"u":"svc-jira"}`,
			maskEntry{Path: "/connection/u", Key: "username", SecretARN: jiraARN, Status: "resolved"})
	})

	t.Run("a mask inside a secret value is returned literally", func(t *testing.T) {
		inner := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:never-read-Nr8Ab2"
		put(t, smfake.Secret{ARN: inner, String: aws.String(`{"deep":"never-read-value"}`)})
		e.noLeak("never-read-value")
		arn := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:holds-mask-Hm4Sk3"
		value := "pre " + mask("deep", inner) + " post"
		vj, _ := json.Marshal(map[string]string{"v": value})
		put(t, smfake.Secret{ARN: arn, String: aws.String(string(vj))})
		resolves(t, `{"v":"`+mask("v", arn)+`"}`, `{"v":"pre `+mask("deep", inner)+` post"}`,
			maskEntry{Path: "/connection/v", Key: "v", SecretARN: arn, Status: "resolved"})
		if n := sm.SecretReads(inner); n != 0 {
			t.Errorf("the secret named inside a value was read %d times, want 0", n)
		}
	})

	t.Run("deleted secret", func(t *testing.T) {
		arn := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:deleted-probe-De1e7d"
		put(t, smfake.Secret{ARN: arn, String: aws.String(`{"k":"deleted-value"}`), Deleted: true})
		e.noLeak("deleted-value")
		fails(t, `{"k":"`+mask("k", arn)+`"}`, http.StatusUnprocessableEntity,
			maskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Code: "SecretNotFound"})
	})

	t.Run("partial ARN", func(t *testing.T) {
		partial := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:prod-jira-credentials"
		resolves(t, `{"u":"`+mask("username", partial)+`"}`, `{"u":"svc-jira"}`,
			maskEntry{Path: "/connection/u", Key: "username", SecretARN: partial, Status: "resolved"})
	})

	t.Run("all-or-nothing with every failure listed", func(t *testing.T) {
		fails(t, `{"ok":"`+mask("username", jiraARN)+`","bad":["`+mask("nope", sfARN)+`","x `+mask("y", plainARN)+`"]}`,
			http.StatusUnprocessableEntity,
			maskEntry{Path: "/connection/bad/0", Key: "nope", SecretARN: sfARN, Code: "KeyNotFound"},
			maskEntry{Path: "/connection/bad/1", Key: "y", SecretARN: plainARN, Code: "SecretNotKeyValue"})
	})

	t.Run("allowlist of env.json shape rejects another account", func(t *testing.T) {
		other := "arn:aws:secretsmanager:us-east-1:999999999999:secret:elsewhere-AbCdEf"
		fails(t, `{"x":"`+mask("k", other)+`"}`, http.StatusUnprocessableEntity,
			maskEntry{Path: "/connection/x", Key: "k", SecretARN: other, Code: "SecretNotAllowed"})
		if n := sm.SecretReads(other); n != 0 {
			t.Errorf("a secret outside the allowlist was read %d times", n)
		}
	})
}

// TestRIEBodyLimit checks MAX_BODY_BYTES, before and after base64.
func TestRIEBodyLimit(t *testing.T) {
	t.Parallel()
	e, sm := startWithFake(t, "MAX_BODY_BYTES=100")
	for _, name := range []string{"http-resolve.json", "http-base64.json", "rest-resolve.json", "direct.json"} {
		t.Run(name, func(t *testing.T) {
			raw := e.invoke(t, eventFile(t, name))
			if name == "direct.json" {
				a := decodeAnswer(t, string(raw))
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
	checkResolved(t, decodeAnswer(t, string(raw)), string(raw), want,
		maskEntry{Path: "/connection/client_secret", Key: "prod.jira.secret.key", SecretARN: jiraARN, Status: "resolved"})
}

// TestRIEAllowlist checks that SECRET_ARN_ALLOWLIST keeps the function
// from calling Secrets Manager at all for a secret outside it.
func TestRIEAllowlist(t *testing.T) {
	t.Parallel()
	e, sm := startWithFake(t, "SECRET_ARN_ALLOWLIST=arn:aws:secretsmanager:eu-west-1:"+account+":secret:prod/*")

	p := e.invokeProxy(t, eventFile(t, "http-resolve.json"))
	wantMaskFailures(t, p, http.StatusUnprocessableEntity,
		maskEntry{Path: "/connection/client_secret", Key: "prod.jira.secret.key", SecretARN: jiraARN, Code: "SecretNotAllowed"},
		maskEntry{Path: "/connection/auth/header", Key: "api.token", SecretARN: jiraARN, Code: "SecretNotAllowed"})
	if n := sm.Calls(""); n != 0 {
		t.Fatalf("Secrets Manager was called %d times for secrets outside the allowlist", n)
	}

	// Mixed: the allowed secret may be read, but nothing is returned.
	p = e.invokeProxy(t, post(t, `{"connection":{"a":"`+mask("client_id", sfARN)+`","b":"`+mask("username", jiraARN)+`"}}`))
	wantMaskFailures(t, p, http.StatusUnprocessableEntity,
		maskEntry{Path: "/connection/b", Key: "username", SecretARN: jiraARN, Code: "SecretNotAllowed"})
	if n := sm.SecretReads(jiraARN); n != 0 {
		t.Errorf("the disallowed secret was read %d times", n)
	}

	p = e.invokeProxy(t, post(t, `{"connection":{"a":"`+mask("client_id", sfARN)+`"}}`))
	wantResolved(t, p, `{"a":"sf-demo-client"}`,
		maskEntry{Path: "/connection/a", Key: "client_id", SecretARN: sfARN, Status: "resolved"})
}

// TestRIEFaults injects Secrets Manager failures. Each case reads its own
// secret, so that no cached or stale value hides the fault.
func TestRIEFaults(t *testing.T) {
	t.Parallel()
	const timeout = 3 // seconds: the emulator's invocation timeout
	e, sm := startWithFake(t, "AWS_MAX_ATTEMPTS=1", "AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(timeout))

	secret := func(t *testing.T, name string) string {
		t.Helper()
		arn := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:" + name
		value := "fault-value-" + strings.ToLower(name[:len(name)-7])
		if _, err := sm.Put(smfake.Secret{ARN: arn, String: aws.String(`{"k":"` + value + `"}`)}); err != nil {
			t.Fatal(err)
		}
		e.noLeak(value)
		return arn
	}
	for _, tc := range []struct {
		name   string
		fault  smfake.Fault
		status int
		code   string
	}{
		{"AccessDenied-Ac1De2", smfake.Fault{Code: "AccessDeniedException"}, 422, "AccessDenied"},
		{"Decryption-Dc1Fa2", smfake.Fault{Code: "DecryptionFailure"}, 502, "DecryptionFailure"},
		{"Internal-In1Er2", smfake.Fault{Code: "InternalServiceError"}, 502, "UpstreamError"},
		{"Throttled-Th1Ro2", smfake.Fault{Code: "ThrottlingException"}, 503, "Throttled"},
		{"Malformed-Ma1Fo2", smfake.Fault{Malformed: true}, 502, "UpstreamError"},
		{"NotFound-Nf1Nd2", smfake.Fault{Code: "ResourceNotFoundException"}, 422, "SecretNotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arn := secret(t, tc.name)
			f := tc.fault
			f.Op, f.SecretID = "GetSecretValue", arn
			sm.Inject(f)
			p := e.invokeProxy(t, post(t, `{"connection":{"k":"`+mask("k", arn)+`"}}`))
			wantMaskFailures(t, p, tc.status, maskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Code: tc.code})
			if sm.SecretReads(arn) == 0 {
				t.Errorf("the faulted secret was never read")
			}
		})
	}

	t.Run("highest status wins", func(t *testing.T) {
		arn := secret(t, "Mixed-Mi1Xe2")
		sm.Inject(smfake.Fault{SecretID: arn, Code: "DecryptionFailure"}) // any operation: two cold secrets are one batch
		p := e.invokeProxy(t, post(t, `{"connection":{"a":"`+mask("nope", jiraARN)+`","b":"`+mask("k", arn)+`"}}`))
		wantMaskFailures(t, p, http.StatusBadGateway,
			maskEntry{Path: "/connection/a", Key: "nope", SecretARN: jiraARN, Code: "KeyNotFound"},
			maskEntry{Path: "/connection/b", Key: "k", SecretARN: arn, Code: "DecryptionFailure"})
	})

	t.Run("slower than the deadline", func(t *testing.T) {
		arn := secret(t, "Slow-Sl1Ow2")
		sm.Inject(smfake.Fault{Op: "GetSecretValue", SecretID: arn, Latency: 4 * timeout * time.Second})
		start := time.Now()
		p := e.invokeProxy(t, post(t, `{"connection":{"k":"`+mask("k", arn)+`"}}`))
		took := time.Since(start)
		wantMaskFailures(t, p, http.StatusServiceUnavailable, maskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Code: "Timeout"})
		if took >= timeout*time.Second {
			t.Errorf("the answer took %v, not inside the %d s invocation timeout", took, timeout)
		}
	})

	t.Run("recovers after the fault", func(t *testing.T) {
		arn := secret(t, "Once-On1Ce2")
		sm.Inject(smfake.Fault{Op: "GetSecretValue", SecretID: arn, Code: "InternalServiceError", Times: 1})
		ev := post(t, `{"connection":{"k":"`+mask("k", arn)+`"}}`)
		wantMaskFailures(t, e.invokeProxy(t, ev), http.StatusBadGateway,
			maskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Code: "UpstreamError"})
		wantResolved(t, e.invokeProxy(t, ev), `{"k":"fault-value-once"}`,
			maskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Status: "resolved"})
	})
}

// TestColdStartBadConfig runs the bootstrap outside the emulator: a bad
// setting must stop it before it asks the Runtime API for work.
func TestColdStartBadConfig(t *testing.T) {
	t.Parallel()
	bootstrap, _ := binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, tc := range []struct{ name, value string }{
		{"CACHE_TTL", "banana"},
		{"MAX_DEPTH", "0"},
		{"SECRET_ARN_ALLOWLIST", "prod-jira-credentials"},
		{"PREFETCH_SECRETS", "prod-jira-credentials"},
		{"REFRESH_MIN_INTERVAL", "1h"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.CommandContext(ctx, bootstrap)
			// The Runtime API address points at a closed port, so a
			// bootstrap that wrongly starts would fail rather than hang.
			cmd.Env = childEnv(tc.name+"="+tc.value,
				"AWS_LAMBDA_RUNTIME_API="+lambdatest.FreeAddr(t),
				"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDE2ETEST", "AWS_SECRET_ACCESS_KEY=x")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() == 0 || ee.ExitCode() == -1 {
				t.Fatalf("bootstrap with %s=%s: err = %v, want a non-zero exit; stderr: %s", tc.name, tc.value, err, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.name) {
				t.Errorf("stderr does not name %s: %q", tc.name, stderr.String())
			}
		})
	}
}

// TestRIEStaleIfError checks CACHE_STALE_IF_ERROR: with every cached value
// expired at once (CACHE_TTL=0s), a refresh that fails transiently serves
// the last value, and one that fails for a reason waiting cannot fix
// does not.
func TestRIEStaleIfError(t *testing.T) {
	t.Parallel()
	const timeout = 2 // seconds
	e, sm := startWithFake(t, "CACHE_TTL=0s", "AWS_MAX_ATTEMPTS=1", "AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(timeout))

	n := 0
	warm := func(t *testing.T) (arn string, ev []byte) {
		t.Helper()
		n++
		arn = fmt.Sprintf("arn:aws:secretsmanager:us-east-1:%s:secret:stale-probe-%d-St4lE%d", account, n, n%10)
		value := fmt.Sprintf("stale-value-%d", n)
		if _, err := sm.Put(smfake.Secret{ARN: arn, String: aws.String(`{"k":"` + value + `"}`)}); err != nil {
			t.Fatal(err)
		}
		e.noLeak(value)
		ev = post(t, `{"connection":{"k":"`+mask("k", arn)+`"}}`)
		wantResolved(t, e.invokeProxy(t, ev), `{"k":"`+value+`"}`,
			maskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Status: "resolved"})
		return arn, ev
	}
	for _, tc := range []struct {
		name  string
		fault smfake.Fault
	}{
		{"throttled", smfake.Fault{Code: "ThrottlingException"}},
		{"5xx", smfake.Fault{Code: "InternalServiceError"}},
		{"timeout", smfake.Fault{Latency: 3 * timeout * time.Second}},
	} {
		t.Run("stale served when "+tc.name, func(t *testing.T) {
			arn, ev := warm(t)
			before := sm.SecretReads(arn)
			f := tc.fault
			f.Op, f.SecretID, f.Times = "GetSecretValue", arn, 1
			sm.Inject(f)
			wantResolved(t, e.invokeProxy(t, ev), fmt.Sprintf(`{"k":"stale-value-%d"}`, n),
				maskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Status: "resolved"})
			if sm.SecretReads(arn) == before {
				t.Errorf("the expired value was served without trying to refresh it")
			}
		})
	}
	for _, tc := range []struct {
		name, code, want string
		status           int
		remembered       bool // answered from memory for CACHE_NOT_FOUND_TTL
	}{
		{"access denied", "AccessDeniedException", "AccessDenied", 422, false},
		{"not found", "ResourceNotFoundException", "SecretNotFound", 422, true},
		{"decryption failure", "DecryptionFailure", "DecryptionFailure", 502, false},
	} {
		t.Run("no stale value after "+tc.name, func(t *testing.T) {
			arn, ev := warm(t)
			sm.Inject(smfake.Fault{Op: "GetSecretValue", SecretID: arn, Code: tc.code, Times: 1})
			wantMaskFailures(t, e.invokeProxy(t, ev), tc.status,
				maskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Code: tc.want})
			// The value the role may no longer read must not come back
			// when the next refresh merely fails transiently.
			sm.Inject(smfake.Fault{Op: "GetSecretValue", SecretID: arn, Code: "InternalServiceError"})
			before := sm.SecretReads(arn)
			if tc.remembered {
				wantMaskFailures(t, e.invokeProxy(t, ev), tc.status,
					maskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Code: tc.want})
				if sm.SecretReads(arn) != before {
					t.Errorf("a remembered SecretNotFound was read again")
				}
				return
			}
			wantMaskFailures(t, e.invokeProxy(t, ev), http.StatusBadGateway,
				maskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Code: "UpstreamError"})
		})
	}
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
			maskEntry{Path: "/connection/x", Key: "x", SecretARN: plainARN, Code: "SecretNotAllowed"})
	})
	t.Run("another caller", func(t *testing.T) {
		ev := bytes.ReplaceAll(eventFile(t, "http-resolve.json"), []byte("assumed-role/workato-connector/"), []byte("assumed-role/intruder/"))
		wantMaskFailures(t, e.invokeProxy(t, ev), http.StatusUnprocessableEntity,
			maskEntry{Path: "/connection/client_secret", Key: "prod.jira.secret.key", SecretARN: jiraARN, Code: "SecretNotAllowed"},
			maskEntry{Path: "/connection/auth/header", Key: "api.token", SecretARN: jiraARN, Code: "SecretNotAllowed"})
	})
	t.Run("direct invocation has no caller", func(t *testing.T) {
		before := sm.SecretReads(jiraARN)
		raw := e.invoke(t, eventFile(t, "direct.json"))
		a := decodeAnswer(t, string(raw))
		if a.Error == nil || len(a.Error.Masks) != 1 || a.Error.Masks[0].Code != "SecretNotAllowed" {
			t.Errorf("direct invocation of a caller-only secret: %s, want SecretNotAllowed", raw)
		}
		if sm.SecretReads(jiraARN) != before {
			t.Errorf("a secret the direct invocation may not resolve was read")
		}
		raw = e.invoke(t, []byte(`{"connection":{"s":"`+mask("client_id", sfARN)+`"}}`))
		checkResolved(t, decodeAnswer(t, string(raw)), string(raw), `{"s":"sf-demo-client"}`,
			maskEntry{Path: "/connection/s", Key: "client_id", SecretARN: sfARN, Status: "resolved"})
	})
}

// TestRIEAttemptTimeout: a Secrets Manager attempt that hangs is cut off by
// the per-attempt timeout and retried by the standard retryer, inside the
// invocation's deadline, instead of using up the whole request.
func TestRIEAttemptTimeout(t *testing.T) {
	t.Parallel()
	e, sm := startWithFake(t, "AWS_LAMBDA_FUNCTION_TIMEOUT=10")
	arn := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:hang-once-Ha1No2"
	if _, err := sm.Put(smfake.Secret{ARN: arn, String: aws.String(`{"k":"after-retry-value"}`)}); err != nil {
		t.Fatal(err)
	}
	e.noLeak("after-retry-value")
	sm.Inject(smfake.Fault{SecretID: arn, Latency: time.Minute, Times: 1})
	start := time.Now()
	p := e.invokeProxy(t, post(t, `{"connection":{"k":"`+mask("k", arn)+`"}}`))
	took := time.Since(start)
	wantResolved(t, p, `{"k":"after-retry-value"}`,
		maskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Status: "resolved"})
	if n := sm.SecretReads(arn); n != 2 {
		t.Errorf("the secret was read %d times, want 2 (a cut-off attempt and its retry)", n)
	}
	if took < app.AttemptTimeout || took > 3*app.AttemptTimeout {
		t.Errorf("answered after %v; want one attempt timeout (%v) and a quick retry", took, app.AttemptTimeout)
	}
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

// TestRIEBatching: the built binary reads a request's cold secrets of one
// region in one BatchGetSecretValue call, one region's single secret with
// GetSecretValue, and falls back to single reads for good once the batch
// action is refused.
func TestRIEBatching(t *testing.T) {
	t.Parallel()
	e, sm := startWithFake(t)
	var arns []string
	for i := range 3 {
		arn := fmt.Sprintf("arn:aws:secretsmanager:us-east-1:%s:secret:batch-%d-Ba%dCh0", account, i, i)
		if _, err := sm.Put(smfake.Secret{ARN: arn, String: aws.String(fmt.Sprintf(`{"k":"batch-value-%d"}`, i))}); err != nil {
			t.Fatal(err)
		}
		arns = append(arns, arn)
	}
	e.noLeak("batch-value-0", "batch-value-1", "batch-value-2")
	conn := `["` + mask("k", arns[0]) + `","` + mask("k", arns[1]) + `","` + mask("client_id", sfARN) + `"]`
	if p := e.invokeProxy(t, post(t, `{"connection":`+conn+`}`)); p.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", p.StatusCode, p.Body)
	}
	if b, g := sm.Calls("BatchGetSecretValue"), sm.Calls("GetSecretValue"); b != 1 || g != 1 {
		t.Errorf("two us-east-1 secrets and one eu-west-1: %d batch and %d single calls, want 1 and 1", b, g)
	}

	sm.Inject(smfake.Fault{Op: "BatchGetSecretValue", Code: "AccessDeniedException"})
	sm.ResetCalls()
	conn = `["` + mask("k", arns[2]) + `","` + mask("username", jiraARN) + `"]`
	if p := e.invokeProxy(t, post(t, `{"connection":`+conn+`}`)); p.StatusCode != http.StatusOK {
		t.Fatalf("after a refused batch: %d %s", p.StatusCode, p.Body)
	}
	if b, g := sm.Calls("BatchGetSecretValue"), sm.Calls("GetSecretValue"); b != 1 || g != 2 {
		t.Errorf("refused batch: %d batch and %d single calls, want 1 and 2", b, g)
	}
	sm.ClearFaults()
	sm.ResetCalls()
	conn = `["` + mask("k", arns[0]) + `","` + mask("prod.jira.secret.key", "arn:aws:secretsmanager:us-east-1:"+account+":secret:prod-binary-cert-Q1w2E3") + `"]`
	e.invokeProxy(t, post(t, `{"connection":`+conn+`,"dry_run":true}`))
	if b := sm.Calls("BatchGetSecretValue"); b != 0 {
		t.Errorf("the batch was tried again after being refused: %d calls", b)
	}
}
