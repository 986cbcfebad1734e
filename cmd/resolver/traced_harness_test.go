package main

// The traced harness: the built bootstrap run as a plain process against
// an in-test Runtime API (internal/lambdatest), which, unlike the emulator,
// sends X-Ray trace headers and lets several invocations overlap, with the
// X-Ray daemon address pointed at a UDP listener of the test.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
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

// summaryLine waits for the function's one request summary line.
func summaryLine(t *testing.T, f *tracedFunction) map[string]any {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		for _, line := range strings.Split(f.logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["message"] == "request" {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no summary line:\n%s", f.logs.String())
		}
	}
}

// peakRSS reads a process's high-water resident set size (VmHWM).
func peakRSS(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("VmHWM %q", v)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
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
