package main

// What a scoped request tells about itself through the built bootstrap:
// the summary line's scope and AssumeRole count (an EMF metric), the
// X-Ray annotation, and the AssumeRole call traced as a call to STS.

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// summaryLines waits for n summary lines and returns them, oldest first.
func summaryLines(t *testing.T, f *tracedFunction, n int) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		lines = lines[:0]
		for _, line := range strings.Split(f.logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["message"] == "request" {
				lines = append(lines, m)
			}
		}
		if len(lines) >= n || time.Now().After(deadline) {
			break
		}
	}
	if len(lines) != n {
		t.Fatalf("%d summary lines, want %d:\n%s", len(lines), n, f.logs.String())
	}
	return lines
}

// assumeRoleMetric is the summary line's count of AssumeRole calls, the
// EMF metric AssumeRoleCalls, and its name.
func assumeRoleMetric(t *testing.T, m map[string]any) (string, float64) {
	t.Helper()
	dirs, _ := m["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)
	for _, d := range dirs {
		for _, mt := range d.(map[string]any)["Metrics"].([]any) {
			name, _ := mt.(map[string]any)["Name"].(string)
			if name == "AssumeRoleCalls" {
				v, ok := m[name].(float64)
				if !ok {
					t.Fatalf("metric %s is not a number in the line: %v", name, m)
				}
				return name, v
			}
		}
	}
	t.Fatalf("no AssumeRole metric among the line's EMF metrics: %v", m)
	return "", 0
}

// TestScopeTelemetry: a scoped request's summary line names its scope and
// counts its AssumeRole calls as a metric (1 cold, 0 warm); an unscoped
// one has no scope member. The trace annotates the scope and shows
// AssumeRole as a call to STS. The external id is in none of them.
func TestScopeTelemetry(t *testing.T) {
	t.Parallel()
	f := startScopedTraced(t, "SCOPES="+testScopes(t), "METRICS_NAMESPACE=acme/maskresolver")
	roots := []string{"1-6929d590-5c0be5c0be5c0be5c0be5c01", "1-6929d590-5c0be5c0be5c0be5c0be5c02", "1-6929d590-5c0be5c0be5c0be5c0be5c03"}
	header := func(root string) string { return "Root=" + root + ";Parent=53995c3f42cd8ad8;Sampled=1" }

	ev := scoped(t, "a", keyOf(tenantASecret))
	if p := f.invoke(t, ev, header(roots[0])); p.StatusCode != 200 {
		t.Fatalf("cold scoped: %d %s", p.StatusCode, p.Body)
	}
	if p := f.invoke(t, ev, header(roots[1])); p.StatusCode != 200 {
		t.Fatalf("warm scoped: %d %s", p.StatusCode, p.Body)
	}
	if p := f.invoke(t, unscoped(t, keyOf(ownSecret)), header(roots[2])); p.StatusCode != 200 {
		t.Fatalf("unscoped: %d %s", p.StatusCode, p.Body)
	}

	lines := summaryLines(t, f, 3)
	for i, m := range lines {
		checkEMF(t, m, "acme/maskresolver")
		want := "a"
		if i == 2 {
			if _, ok := m["scope"]; ok {
				t.Errorf("the unscoped request's summary line has a scope: %v", m)
			}
			continue
		}
		if m["scope"] != want {
			t.Errorf("summary line %d: scope %v, want %q: %v", i, m["scope"], want, m)
		}
	}
	if name, n := assumeRoleMetric(t, lines[0]); n != 1 {
		t.Errorf("cold scoped request: %s = %v, want 1", name, n)
	}
	if name, n := assumeRoleMetric(t, lines[1]); n != 0 {
		t.Errorf("warm scoped request: %s = %v, want 0", name, n)
	}
	if lines[0]["SecretsManagerCalls"] != 1.0 {
		t.Errorf("cold scoped request: SecretsManagerCalls %v, want 1", lines[0]["SecretsManagerCalls"])
	}

	found, raw := f.collect(t, roots[0], "resolve", "STS", "Secrets Manager")
	if got := found["resolve"].Annotations["scope"]; got != "a" {
		t.Errorf("resolve annotation scope = %v, want \"a\" (all: %v)", got, found["resolve"].Annotations)
	}
	if op := found["STS"].AWS["operation"]; op != "AssumeRole" {
		t.Errorf("STS subsegment operation %v, want AssumeRole", op)
	}
	found2, raw2 := f.collect(t, roots[1], "resolve")
	if _, ok := found2["STS"]; ok {
		t.Errorf("the warm request called STS")
	}
	found3, raw3 := f.collect(t, roots[2], "resolve")
	if _, ok := found3["resolve"].Annotations["scope"]; ok {
		t.Errorf("the unscoped request is annotated with a scope: %v", found3["resolve"].Annotations)
	}
	all := string(raw) + string(raw2) + string(raw3) + f.logs.String()
	for _, v := range []string{extIDA, tenantAValue, ownValue} {
		if strings.Contains(all, v) {
			t.Errorf("%q is in a trace document or a log line", v)
		}
	}
}
