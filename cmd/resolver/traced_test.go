package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maskresolver/maskresolver/internal/lambdatest"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// tracedFunction is the built bootstrap run against an in-test Runtime API
// that, unlike the emulator, sends an X-Ray trace header, with the X-Ray
// daemon address pointed at a UDP listener of the test.
type tracedFunction struct {
	sm   *smfake.Server
	api  *lambdatest.RuntimeAPI
	udp  net.PacketConn
	mu   sync.Mutex
	docs [][]byte // each datagram's document, header line removed
	logs lambdatest.Buffer
	pid  int // the function's process
}

func startTraced(t *testing.T, env ...string) *tracedFunction {
	t.Helper()
	sm, smURL := newFake(t)
	return startTracedOn(t, sm, smURL, env...)
}

// startTracedOn starts one execution environment against the double sm
// at smURL, which several environments may share.
func startTracedOn(t *testing.T, sm *smfake.Server, smURL string, env ...string) *tracedFunction {
	t.Helper()
	bootstrap, _ := binaries(t)
	f := &tracedFunction{sm: sm, api: lambdatest.New()}
	t.Cleanup(f.api.Close)
	var err error
	if f.udp, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.udp.Close() })
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, _, err := f.udp.ReadFrom(buf)
			if err != nil {
				return
			}
			_, doc, _ := bytes.Cut(buf[:n], []byte("\n"))
			f.mu.Lock()
			f.docs = append(f.docs, append([]byte(nil), doc...))
			f.mu.Unlock()
		}
	}()
	cmd := exec.Command(bootstrap)
	cmd.Env = childEnv(append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + f.api.Addr,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + smURL,
		"AWS_XRAY_DAEMON_ADDRESS=" + f.udp.LocalAddr().String(),
		// The X-Ray SDK works in Lambda mode (a facade segment from the
		// trace header) when this is set, as it is in Lambda.
		"LAMBDA_TASK_ROOT=" + t.TempDir(),
		"AWS_LAMBDA_FUNCTION_NAME=maskresolver", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret-test", "AWS_SESSION_TOKEN=token",
		"AWS_EC2_METADATA_DISABLED=true",
	}, env...)...)
	cmd.Stdout, cmd.Stderr = &f.logs, &f.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.pid = cmd.Process.Pid
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return f
}

func (f *tracedFunction) invoke(t *testing.T, event []byte, trace string) proxyResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	a, err := f.api.Invoke(ctx, lambdatest.Invocation{Payload: event, TraceID: trace})
	if err != nil {
		t.Fatalf("invoke: %v\n%s", err, f.logs.String())
	}
	if a.FunctionError {
		t.Fatalf("function error: %s", a.Body)
	}
	var p proxyResponse
	if err := json.Unmarshal(a.Body, &p); err != nil {
		t.Fatalf("answer %s: %v", a.Body, err)
	}
	return p
}

// subsegment is the part of an X-Ray document the test reads.
type subsegment struct {
	Name        string         `json:"name"`
	TraceID     string         `json:"trace_id"`
	Annotations map[string]any `json:"annotations"`
	AWS         map[string]any `json:"aws"`
	Subsegments []subsegment   `json:"subsegments"`
}

// collect waits for the documents of a trace and returns every subsegment
// in them, nested ones included, by name.
func (f *tracedFunction) collect(t *testing.T, traceRoot string, want ...string) (map[string]subsegment, []byte) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		found := map[string]subsegment{}
		var raw bytes.Buffer
		f.mu.Lock()
		docs := append([][]byte(nil), f.docs...)
		f.mu.Unlock()
		var walk func(s subsegment)
		walk = func(s subsegment) {
			found[s.Name] = s
			for _, c := range s.Subsegments {
				walk(c)
			}
		}
		for _, d := range docs {
			var s subsegment
			if json.Unmarshal(d, &s) != nil || s.TraceID != traceRoot {
				continue
			}
			raw.Write(d)
			raw.WriteByte('\n')
			walk(s)
		}
		missing := false
		for _, w := range want {
			_, ok := found[w]
			missing = missing || !ok
		}
		if !missing {
			return found, raw.Bytes()
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s: subsegments %v, want all of %v; documents:\n%s\nlogs:\n%s", traceRoot, keys(found), want, raw.Bytes(), f.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func keys(m map[string]subsegment) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

const traceRoot = "1-6929d590-3c5e1f8a9b7d4e2f1a0c6b8d"

// TestXRayThroughBinary: a sampled invocation of the built bootstrap sends
// subsegments for each phase, with the counts as annotations, the Secrets
// Manager call as an SDK subsegment, and no secret value anywhere in them.
func TestXRayThroughBinary(t *testing.T) {
	t.Parallel()
	f := startTraced(t, "LOG_LEVEL=debug")
	header := "Root=" + traceRoot + ";Parent=53995c3f42cd8ad8;Sampled=1"

	p := f.invoke(t, eventFile(t, "http-resolve.json"), header)
	if p.StatusCode != 200 || !strings.Contains(p.Body, "jira-demo-3f9c2a") {
		t.Fatalf("resolve: %d %s", p.StatusCode, p.Body)
	}
	found, raw := f.collect(t, traceRoot, "resolve", "parse", "cache lookup", "fetch", "substitute", "Secrets Manager")
	ann := found["resolve"].Annotations
	for k, v := range map[string]any{"masks": 2.0, "unique_secrets": 1.0, "cache_hits": 0.0, "cache_misses": 1.0, "outcome": "OK", "status": 200.0} {
		if ann[k] != v {
			t.Errorf("resolve annotation %s = %v, want %v (all: %v)", k, ann[k], v, ann)
		}
	}
	if op := found["Secrets Manager"].AWS["operation"]; op != "GetSecretValue" {
		t.Errorf("Secrets Manager subsegment operation %v, want GetSecretValue", op)
	}
	if found["fetch"].Annotations["calls"] != 1.0 {
		t.Errorf("fetch annotations %v", found["fetch"].Annotations)
	}

	// A warm dry run and a failing request are traced too.
	root2 := "1-6929d590-aaaaaaaaaaaaaaaaaaaaaaaa"
	f.invoke(t, eventFile(t, "http-dry-run.json"), "Root="+root2+";Parent=53995c3f42cd8ad9;Sampled=1")
	found2, raw2 := f.collect(t, root2, "resolve", "cache lookup")
	if found2["resolve"].Annotations["cache_hits"] != 1.0 {
		t.Errorf("warm dry run annotations %v", found2["resolve"].Annotations)
	}
	root3 := "1-6929d590-bbbbbbbbbbbbbbbbbbbbbbbb"
	if p := f.invoke(t, eventFile(t, "http-failing.json"), "Root="+root3+";Parent=53995c3f42cd8ada;Sampled=1"); p.StatusCode != 422 {
		t.Errorf("failing: %d %s", p.StatusCode, p.Body)
	}
	found3, raw3 := f.collect(t, root3, "resolve")
	if found3["resolve"].Annotations["outcome"] != "KeyNotFound" && found3["resolve"].Annotations["outcome"] != "InvalidMask" && found3["resolve"].Annotations["outcome"] != "SecretNotFound" {
		t.Errorf("failing outcome annotation %v", found3["resolve"].Annotations)
	}

	all := string(raw) + string(raw2) + string(raw3)
	for _, v := range seededValues(t) {
		if strings.Contains(all, v) {
			t.Errorf("a secret value (%.4s…) is in a trace document", v)
		}
		if strings.Contains(f.logs.String(), v) {
			t.Errorf("a secret value (%.4s…) is in the logs", v)
		}
	}
}

// TestUntracedIsSilent: with no trace header, nothing is sent to the
// daemon and nothing about X-Ray reaches the logs.
func TestUntracedIsSilent(t *testing.T) {
	t.Parallel()
	f := startTraced(t)
	for range 2 {
		if p := f.invoke(t, eventFile(t, "http-resolve.json"), ""); p.StatusCode != 200 {
			t.Fatalf("%d %s", p.StatusCode, p.Body)
		}
	}
	time.Sleep(300 * time.Millisecond)
	f.mu.Lock()
	n := len(f.docs)
	f.mu.Unlock()
	if n != 0 {
		t.Errorf("%d X-Ray documents sent for untraced invocations", n)
	}
	// The X-Ray SDK's package init reports the daemon address it read
	// (an INFO line, before main can set its logger); after that, every
	// line is the function's JSON and none is about X-Ray.
	logs := f.logs.String()
	started := false
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !started && strings.Contains(line, "[INFO]") && strings.Contains(strings.ToLower(line), "address") {
			continue
		}
		started = true
		if !strings.HasPrefix(line, "{") || strings.Contains(strings.ToLower(line), "x-ray") || strings.Contains(line, "segment") {
			t.Errorf("unexpected log line: %s", line)
		}
	}
}

// TestEMFThroughBinary: each request's summary line is a CloudWatch
// Embedded Metric Format document whose directives name metrics present
// in the line as numbers, in the configured namespace.
func TestEMFThroughBinary(t *testing.T) {
	t.Parallel()
	f := startTraced(t, "METRICS_NAMESPACE=acme/maskresolver")
	f.invoke(t, eventFile(t, "http-resolve.json"), "")
	f.invoke(t, eventFile(t, "http-resolve.json"), "")
	f.invoke(t, eventFile(t, "http-failing.json"), "")
	var lines []map[string]any
	// The answer can arrive before the log pipe has carried the line.
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		lines = lines[:0]
		for _, line := range strings.Split(f.logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["message"] == "request" {
				lines = append(lines, m)
			}
		}
		if len(lines) >= 3 || time.Now().After(deadline) {
			break
		}
	}
	if len(lines) != 3 {
		t.Fatalf("%d summary lines, want 3:\n%s", len(lines), f.logs.String())
	}
	for i, m := range lines {
		checkEMF(t, m, "acme/maskresolver")
		if m["requestId"] == nil {
			t.Errorf("summary line %d has no requestId", i)
		}
	}
	if lines[0]["SecretsManagerCalls"] != 1.0 || lines[1]["SecretsManagerCalls"] != 0.0 || lines[1]["CacheHitRatio"] != 100.0 {
		t.Errorf("cold then warm: %v / %v", lines[0], lines[1])
	}
	if lines[2]["Errors"] != 1.0 || lines[2]["ErrorsByCode"] != 1.0 || lines[2]["ErrorCode"] == nil {
		t.Errorf("failing request metrics: %v", lines[2])
	}
}

// checkEMF validates one EMF document against the specification's rules.
func checkEMF(t *testing.T, m map[string]any, namespace string) {
	t.Helper()
	aws, ok := m["_aws"].(map[string]any)
	if !ok {
		t.Fatalf("no _aws member: %v", m)
	}
	if ts, ok := aws["Timestamp"].(float64); !ok || ts < 1e12 {
		t.Errorf("Timestamp %v is not epoch milliseconds", aws["Timestamp"])
	}
	dirs, ok := aws["CloudWatchMetrics"].([]any)
	if !ok || len(dirs) == 0 {
		t.Fatalf("CloudWatchMetrics %v", aws["CloudWatchMetrics"])
	}
	for _, d := range dirs {
		dir := d.(map[string]any)
		if dir["Namespace"] != namespace {
			t.Errorf("Namespace %v, want %s", dir["Namespace"], namespace)
		}
		for _, set := range dir["Dimensions"].([]any) {
			for _, dim := range set.([]any) {
				if _, ok := m[dim.(string)].(string); !ok {
					t.Errorf("dimension %v is not a string member of the line", dim)
				}
			}
		}
		for _, mt := range dir["Metrics"].([]any) {
			md := mt.(map[string]any)
			name, _ := md["Name"].(string)
			if _, ok := m[name].(float64); !ok {
				t.Errorf("metric %s is not a number in the line: %v", name, m[name])
			}
			switch md["Unit"] {
			case "Count", "Milliseconds", "Percent":
			default:
				t.Errorf("metric %s unit %v", name, md["Unit"])
			}
		}
	}
}

// TestLogControls: Lambda's advanced logging controls win over LOG_LEVEL,
// and AWS_LAMBDA_LOG_FORMAT=Text gives text lines, still with the request id.
func TestLogControls(t *testing.T) {
	t.Parallel()
	quiet := startTraced(t, "LOG_LEVEL=debug", "AWS_LAMBDA_LOG_LEVEL=ERROR")
	text := startTraced(t, "AWS_LAMBDA_LOG_FORMAT=Text")
	for _, f := range []*tracedFunction{quiet, text} {
		if p := f.invoke(t, eventFile(t, "http-failing.json"), ""); p.StatusCode != 422 {
			t.Fatalf("%d %s", p.StatusCode, p.Body)
		}
	}
	time.Sleep(200 * time.Millisecond) // let the log pipes drain
	if logs := quiet.logs.String(); strings.Contains(logs, `"level":"INFO"`) || strings.Contains(logs, `"level":"DEBUG"`) {
		t.Errorf("AWS_LAMBDA_LOG_LEVEL=ERROR let lower lines through:\n%s", logs)
	}
	logs := text.logs.String()
	if !strings.Contains(logs, "message=request") || !strings.Contains(logs, "requestId=lambdatest-1") || strings.Contains(logs, `{"timestamp"`) {
		t.Errorf("AWS_LAMBDA_LOG_FORMAT=Text did not give text lines with the request id:\n%s", logs)
	}
}
