package main

// X-Ray, EMF metrics and logging controls through the built bootstrap,
// run under the traced harness.

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

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

// TestUntracedIsSilent: with no trace header, or one that says not to
// sample, nothing is sent to the daemon and nothing about X-Ray reaches the
// logs.
func TestUntracedIsSilent(t *testing.T) {
	t.Parallel()
	f := startTraced(t)
	for _, trace := range []string{"", "Root=1-6929d590-dddddddddddddddddddddddd;Parent=53995c3f42cd8adc;Sampled=0"} {
		if p := f.invoke(t, eventFile(t, "http-resolve.json"), trace); p.StatusCode != 200 {
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
