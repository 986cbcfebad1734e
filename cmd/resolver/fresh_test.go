package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/smfake"
)

// TestFreshOnDemandThroughBinary is freshness on demand (docs/api.md)
// through the built binary: a rotation inside the TTL, then max_age 0 (or
// Cache-Control: no-cache) gets the new value and version, which later
// requests get from memory; a flood of forced requests within
// REFRESH_MIN_INTERVAL costs one read; a failed forced read answers an
// error, not the old value; and the forced reads are counted in the summary
// line, EMF and X-Ray.
func TestFreshOnDemandThroughBinary(t *testing.T) {
	t.Parallel()
	f := startTraced(t, "REFRESH_MIN_INTERVAL=300ms")
	arn := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:rotating"
	full, err := f.sm.Put(smfake.Secret{ARN: arn, String: aws.String(`{"k":"value-v1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	conn := `{"k":"{{workato:sm:k:` + full + `}}"}`
	plain := post(t, `{"connection":`+conn+`}`)
	forcedBody := post(t, `{"connection":`+conn+`,"max_age":0}`)

	v1 := versionIDs(t, f.invoke(t, plain, ""))
	f.sm.Put(smfake.Secret{ARN: full, String: aws.String(`{"k":"value-v2"}`)})
	time.Sleep(350 * time.Millisecond) // past REFRESH_MIN_INTERVAL
	if p := f.invoke(t, plain, ""); !strings.Contains(p.Body, "value-v1") {
		t.Fatalf("within the TTL: %s, want the cached value", p.Body)
	}
	f.sm.ResetCalls()
	p := f.invoke(t, forcedBody, "Root=1-6929d590-cccccccccccccccccccccccc;Parent=53995c3f42cd8adb;Sampled=1")
	v2 := versionIDs(t, p)
	if !strings.Contains(p.Body, "value-v2") || v2[0] == v1[0] || v2[0] == "" || f.sm.Calls("") != 1 {
		t.Fatalf("max_age 0: %s (%d calls); want value-v2 under a new version id", p.Body, f.sm.Calls(""))
	}
	found, _ := f.collect(t, "1-6929d590-cccccccccccccccccccccccc", "resolve")
	if found["resolve"].Annotations["forced_reads"] != 1.0 {
		t.Errorf("resolve annotations %v, want forced_reads 1", found["resolve"].Annotations)
	}
	if p := f.invoke(t, plain, ""); !strings.Contains(p.Body, "value-v2") || f.sm.Calls("") != 1 {
		t.Errorf("after the forced read: %s (%d calls), want value-v2 from memory", p.Body, f.sm.Calls(""))
	}

	// Within REFRESH_MIN_INTERVAL of that read, forced requests are
	// served from memory: 20 of them, no call.
	for range 20 {
		f.invoke(t, forcedBody, "")
	}
	if n := f.sm.Calls(""); n != 1 {
		t.Errorf("20 forced requests within the interval: %d calls in all, want 1", n)
	}

	// Cache-Control: no-cache through an HTTP API event, after a rotation.
	f.sm.Put(smfake.Secret{ARN: full, String: aws.String(`{"k":"value-v3"}`)})
	time.Sleep(350 * time.Millisecond)
	if p := f.invoke(t, withHeader(t, plain, "Cache-Control", "no-cache"), ""); !strings.Contains(p.Body, "value-v3") {
		t.Errorf("Cache-Control: no-cache: %s, want value-v3", p.Body)
	}
	f.sm.ResetCalls()
	// A max-age that does not parse is refused, never ignored: with
	// whitespace around "=" too (the caller would get cached values).
	for _, bad := range [][]byte{
		withHeader(t, plain, "Cache-Control", "max-age=soon"),
		withHeader(t, plain, "Cache-Control", "max-age = 0"),
		withHeader(t, plain, "Cache-Control", "no-transform, max-age =0"),
		post(t, `{"connection":`+conn+`,"max_age":-1}`),
	} {
		if p := f.invoke(t, bad, ""); p.StatusCode != 400 || !strings.Contains(p.Body, "InvalidRequest") {
			t.Errorf("bad max-age: %d %s, want 400 InvalidRequest", p.StatusCode, p.Body)
		}
	}
	if n := f.sm.Calls(""); n != 0 {
		t.Errorf("bad max-age cost %d calls, want 0", n)
	}

	// A forced read that fails answers the failure, never the cached
	// value; without max_age the cached value still answers.
	f.sm.Inject(smfake.Fault{Op: "GetSecretValue", SecretID: full, Code: "InternalServiceError"})
	time.Sleep(350 * time.Millisecond)
	if p := f.invoke(t, forcedBody, ""); p.StatusCode != 502 || strings.Contains(p.Body, "value-v") {
		t.Errorf("failed forced read: %d %s, want 502 without a value", p.StatusCode, p.Body)
	}
	if p := f.invoke(t, plain, ""); p.StatusCode != 200 || !strings.Contains(p.Body, "value-v3") {
		t.Errorf("without max_age after a failed forced read: %d %s", p.StatusCode, p.Body)
	}

	// The answer can arrive before the log pipe has carried its line.
	forcedLines := 0
	for deadline := time.Now().Add(3 * time.Second); forcedLines < 3 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		forcedLines = 0
		for _, line := range strings.Split(f.logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["message"] == "request" && m["forced_reads"] == 1.0 {
				if m["ForcedReads"] != 1.0 {
					t.Fatalf("summary line without the ForcedReads metric: %s", line)
				}
				forcedLines++
			}
		}
	}
	if forcedLines != 3 {
		t.Errorf("%d summary lines count a forced read, want 3 (v2, v3, the failed one)\n%s", forcedLines, f.logs.String())
	}
}

// TestPrefetchThroughBinary: PREFETCH_SECRETS are read during init, so
// the first request makes no call; one that cannot be read is logged and
// does not fail the start. (An invalid one fails it, naming it: a row of
// internal/config's TestLoadErrors, and any bad setting stops the binary
// in TestColdStartBadConfig.)
func TestPrefetchThroughBinary(t *testing.T) {
	t.Parallel()
	sm, smURL := newFake(t)
	missing := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:not-there-AbCdEf"
	f := startTracedOn(t, sm, smURL, "PREFETCH_SECRETS="+jiraARN+","+missing)
	p := f.invoke(t, eventFile(t, "http-resolve.json"), "")
	if p.StatusCode != 200 || !strings.Contains(p.Body, "jira-demo-3f9c2a") {
		t.Fatalf("first request: %d %s", p.StatusCode, p.Body)
	}
	if n := sm.Calls(""); n != 1 {
		t.Errorf("%d Secrets Manager calls in all, want 1 (the init's batch)", n)
	}
	summaryLine(t, f) // the answer can arrive before the log pipe has carried its line
	logs := f.logs.String()
	if !strings.Contains(logs, `"message":"prefetch"`) || !strings.Contains(logs, `"read":1`) || !strings.Contains(logs, `"failed":1`) ||
		!strings.Contains(logs, `"level":"WARN","message":"secret read failed","secret_arn":"`+missing) {
		t.Errorf("prefetch not logged as expected:\n%s", logs)
	}
	if strings.Index(logs, `"message":"prefetch"`) > strings.Index(logs, `"message":"request"`) {
		t.Errorf("prefetch logged after the first request:\n%s", logs)
	}
}
