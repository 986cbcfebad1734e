package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// seedARN is the first secret of events/secrets.json.
const seedARN = "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-jira-credentials-FsmeTs"

// batchGet sends sm one BatchGetSecretValue of the seed secret, as the SDK
// would in us-east-1, and returns the answer.
func batchGet(ctx context.Context, sm http.Handler) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/", strings.NewReader(`{"SecretIdList":["`+seedARN+`"]}`))
	req.Header.Set("X-Amz-Target", "secretsmanager.BatchGetSecretValue")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=00")
	rec := httptest.NewRecorder()
	sm.ServeHTTP(rec, req)
	return rec
}

// The double enforces -sm-quota-scale with -sm-quota-burst, and /stats
// tells its throttles from -sm-throttle-percent's.
func TestDoubleQuotas(t *testing.T) {
	t.Parallel()
	// BatchGetSecretValue at 0.1/s with 20 s of burst: two calls, then a
	// throttle unless the test stalls for 10 s.
	o := options{secrets: "../../events/secrets.json", smQuotaScale: 0.001, smQuotaBurst: 20 * time.Second}
	sm, throttle, err := newDouble(o)
	if err != nil {
		t.Fatal(err)
	}
	if throttle != nil {
		t.Error("a throttling fault without -sm-throttle-percent")
	}
	for i, want := range []int{http.StatusOK, http.StatusOK, http.StatusBadRequest} {
		if rec := batchGet(t.Context(), sm); rec.Code != want {
			t.Errorf("call %d: %d %s, want %d", i, rec.Code, rec.Body, want)
		}
	}

	st := &statsSource{sm: sm, quotas: true}
	got := st.collect().SecretsManager
	if got.Calls != 3 || got.QuotaThrottled != 1 || got.QuotaThrottledByOperation["BatchGetSecretValue"] != 1 || got.Throttled != 0 {
		t.Errorf("stats = %+v, want 3 calls, 1 of them throttled by the quotas", got)
	}
	var report strings.Builder
	st.report(&report)
	if !strings.Contains(report.String(), "3 calls (BatchGetSecretValue 3, DescribeSecret 0, GetSecretValue 0), of them 1 throttled by -sm-quota-scale\n") {
		t.Errorf("report: %s", report.String())
	}
}

// -sm-throttle-percent throttles that share of the double's calls, at once
// even with -sm-latency, and /stats counts them among the calls.
func TestDoubleThrottlePercent(t *testing.T) {
	t.Parallel()
	// A latency no call waits out: a call the throttle passes over is
	// abandoned when its context ends, one it throttles is answered.
	o := options{secrets: "../../events/secrets.json", smThrottlePercent: 50, smLatency: time.Hour}
	sm, throttle, err := newDouble(o)
	if err != nil {
		t.Fatal(err)
	}
	// The calls run at once, each given far more time than a throttle
	// takes to answer even on a loaded machine (a 10 ms budget once let a
	// throttle the double counted go unanswered), so the test's count and
	// the double's agree; the calls passed over all end together.
	const n = 40
	recs := make([]*httptest.ResponseRecorder, n)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { recs[i] = batchGet(ctx, sm) })
	}
	wg.Wait()
	cancel()
	throttled := 0
	for i, rec := range recs {
		switch {
		case rec.Code == http.StatusBadRequest && rec.Header().Get("X-Amzn-Errortype") == "ThrottlingException":
			throttled++
		case rec.Body.Len() != 0:
			t.Errorf("call %d: %d %s, want a throttle or no answer", i, rec.Code, rec.Body)
		}
	}
	if throttled < n/4 || throttled > 3*n/4 {
		t.Errorf("%d of %d calls throttled, want about half", throttled, n)
	}

	st := &statsSource{sm: sm, throttle: throttle}
	got := st.collect().SecretsManager
	if got.Calls != n || got.Throttled != throttled || got.ThrottledByOperation["BatchGetSecretValue"] != throttled ||
		got.ThrottledByOperation["GetSecretValue"] != 0 || got.QuotaThrottled != 0 {
		t.Errorf("stats = %+v, want %d calls, %d of them throttled BatchGetSecretValue", got, n, throttled)
	}
	var report strings.Builder
	st.report(&report)
	if want := ", of them " + strconv.Itoa(throttled) + " throttled by -sm-throttle-percent\n"; !strings.Contains(report.String(), want) {
		t.Errorf("report %q, want %q", report.String(), want)
	}
}

// The double's VersionIds are fixed by the seed file (each is derived
// from the secret's ARN and its place in the file), so every start of the
// devserver answers the same version_id for a secret until it rotates.
func TestDoubleVersionIDsAreStableAcrossStarts(t *testing.T) {
	t.Parallel()
	versionID := func() string {
		sm, _, err := newDouble(options{secrets: "../../events/secrets.json"})
		if err != nil {
			t.Fatal(err)
		}
		rec := batchGet(t.Context(), sm)
		var out struct {
			SecretValues []struct{ VersionId string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.SecretValues) != 1 {
			t.Fatalf("batch get: %d %s (%v)", rec.Code, rec.Body, err)
		}
		return out.SecretValues[0].VersionId
	}
	first, second := versionID(), versionID()
	if first == "" || first != second {
		t.Errorf("version ids %q and %q: want one, the same on every start", first, second)
	}
	t.Logf("the seed example's version_id: %s", first)
}
