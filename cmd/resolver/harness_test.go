package main

// The emulator harness: the real bootstrap, built as for provided.al2023,
// runs under the Lambda Runtime Interface Emulator (what `sam local invoke`
// runs in its container) and reads secrets from smfake over the wire
// protocol. Each configuration gets its own emulator on its own ports; an
// emulator serves one invocation at a time, so subtests sharing one run in
// sequence while the configurations run in parallel.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/maskresolver/maskresolver/internal/config"
	"github.com/maskresolver/maskresolver/internal/lambdatest"
	"github.com/maskresolver/maskresolver/internal/smfake"
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

// newFake serves a Secrets Manager double seeded from events/secrets.json
// and returns it with its URL.
func newFake(t *testing.T) (*smfake.Server, string) {
	t.Helper()
	sm := smfake.New(smfake.WithAccount(account))
	if err := sm.LoadFile(filepath.Join("..", "..", "events", "secrets.json")); err != nil {
		t.Fatal(err)
	}
	url, _ := smfake.Serve(t, sm)
	return sm, url
}

// startWithFake starts a seeded double and the function in front of it.
func startWithFake(t *testing.T, env ...string) (*emulator, *smfake.Server) {
	t.Helper()
	sm, url := newFake(t)
	e := startEmulator(t, url, env...)
	e.noLeak(seededValues(t)...)
	return e, sm
}
