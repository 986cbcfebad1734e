package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maskresolver/maskresolver/internal/lambdatest"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// TestConcurrentInvocationsShareReads runs the built bootstrap in Lambda's
// multi-concurrency mode (AWS_LAMBDA_MAX_CONCURRENCY: several invocations
// at once in one execution environment, which aws-lambda-go supports and
// the emulator does not) and sends it 16 cold requests for the same
// secrets at once: the secret is read once in all and every answer is
// right.
func TestConcurrentInvocationsShareReads(t *testing.T) {
	t.Parallel()
	f := startTraced(t, "AWS_LAMBDA_MAX_CONCURRENCY=16")
	f.sm.Inject(smfake.Fault{Latency: 200 * time.Millisecond}) // so that all 16 overlap
	event := eventFile(t, "http-resolve.json")
	var wg sync.WaitGroup
	answers := make([]lambdatest.Answer, 16)
	errs := make([]error, 16)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for i := range answers {
		wg.Go(func() { answers[i], errs[i] = f.api.Invoke(ctx, lambdatest.Invocation{Payload: event}) })
	}
	wg.Wait()
	for i, a := range answers {
		if errs[i] != nil {
			t.Fatalf("invocation %d: %v\n%s", i, errs[i], f.logs.String())
		}
		var p proxyResponse
		if err := json.Unmarshal(a.Body, &p); err != nil || p.StatusCode != 200 || !strings.Contains(p.Body, `"client_secret": "jira-demo-3f9c2a"`) {
			t.Errorf("invocation %d: %s", i, a.Body)
		}
	}
	if n := f.sm.SecretReads(jiraARN); n != 1 {
		t.Errorf("16 concurrent cold invocations read the secret %d times, want 1", n)
	}
	if n := f.sm.Calls(""); n != 1 {
		t.Errorf("%d Secrets Manager calls, want 1", n)
	}
	// They did overlap: more than one invocation missed the cache (and
	// joined the one read) — run one after another, all but the first
	// would have hit it.
	var missed int
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		missed = strings.Count(f.logs.String(), `"cache_misses":1`)
		if strings.Count(f.logs.String(), `"message":"request"`) == 16 {
			break
		}
	}
	if missed < 2 {
		t.Errorf("only %d invocations missed the cache: they did not run concurrently\n%s", missed, f.logs.String())
	}
	t.Logf("%d of 16 concurrent invocations missed the cache and shared one read", missed)
}
