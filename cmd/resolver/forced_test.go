package main

// Forced reads (max_age 0) while Secrets Manager fails: REFRESH_MIN_INTERVAL
// bounds them as it bounds forced reads that succeed.

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// TestForcedReadFailureThroughBinary: within REFRESH_MIN_INTERVAL after a
// failed forced read, forced requests get the same failure with no
// Secrets Manager call; requests without max_age get the cached value
// (and, past CACHE_TTL, the stale one); after the interval a forced
// request reads again.
func TestForcedReadFailureThroughBinary(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, fault, code string
		status            int
	}{
		// AWS_MAX_ATTEMPTS is left at its default: a 5xx read makes 3
		// attempts; a throttled one goes on until the deadline.
		{"unavailable", "InternalServiceError", "UpstreamError", 502},
		{"throttled", "ThrottlingException", "Throttled", 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const interval, ttl = 4 * time.Second, 10 * time.Second
			e, sm := startWithFake(t, "REFRESH_MIN_INTERVAL=4s", "CACHE_TTL=10s", "CACHE_STALE_IF_ERROR=1h", "AWS_LAMBDA_FUNCTION_TIMEOUT=2")
			arn, err := sm.Put(smfake.Secret{ARN: "arn:aws:secretsmanager:us-east-1:" + account + ":secret:forced-" + tc.name,
				String: aws.String(`{"k":"forced-value-` + tc.name + `"}`)})
			if err != nil {
				t.Fatal(err)
			}
			e.noLeak("forced-value-" + tc.name)
			conn := `{"k":"` + mask("k", arn) + `"}`
			plain := post(t, `{"connection":`+conn+`}`)
			forced := post(t, `{"connection":`+conn+`,"max_age":0}`)
			resolved := func(p proxyResponse) {
				t.Helper()
				wantResolved(t, p, `{"k":"forced-value-`+tc.name+`"}`,
					answer.MaskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Status: "resolved"})
			}
			failed := func(p proxyResponse) {
				t.Helper()
				wantMaskFailures(t, p, tc.status, answer.MaskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Code: tc.code})
			}

			// The value is read between cachedAt and readBy.
			cachedAt := time.Now()
			resolved(e.invokeProxy(t, plain))
			readBy := time.Now()
			time.Sleep(interval + 100*time.Millisecond) // too old for max_age 0
			sm.Inject(smfake.Fault{Op: "GetSecretValue", SecretID: arn, Code: tc.fault})
			sm.ResetCalls()

			// The failed read ends between triedAt and failedAt.
			triedAt := time.Now()
			failed(e.invokeProxy(t, forced))
			failedAt := time.Now()
			calls := sm.Calls("")
			if calls == 0 {
				t.Fatal("the forced request made no Secrets Manager call")
			}

			// An answer that came back within the interval of triedAt was
			// decided within the interval of the failed read.
			replayed := 0
			for range 5 {
				p := e.invokeProxy(t, forced)
				if time.Since(triedAt) >= interval {
					break
				}
				failed(p)
				replayed++
			}
			if replayed == 0 {
				t.Fatalf("no forced request answered within %v of the failed one: too slow to tell", interval)
			}
			if n := sm.Calls(""); n != calls {
				t.Errorf("%d forced requests within the interval made %d Secrets Manager calls, want 0", replayed, n-calls)
			}
			if p := e.invokeProxy(t, plain); time.Since(cachedAt) < ttl*9/10 {
				resolved(p)
				if n := sm.Calls(""); n != calls {
					t.Errorf("without max_age, within CACHE_TTL: %d calls, want 0", n-calls)
				}
			}

			time.Sleep(time.Until(failedAt.Add(interval + 100*time.Millisecond)))
			failed(e.invokeProxy(t, forced))
			if n := sm.Calls(""); n == calls {
				t.Error("a forced request after the interval made no Secrets Manager call")
			}

			time.Sleep(time.Until(readBy.Add(ttl + 100*time.Millisecond)))
			calls = sm.Calls("")
			resolved(e.invokeProxy(t, plain)) // expired: stale-if-error
			if n := sm.Calls(""); n == calls {
				t.Error("the expired value was served without trying to refresh it")
			}
		})
	}
}
