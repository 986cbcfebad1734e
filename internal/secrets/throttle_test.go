package secrets

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

func deadlineContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// Throttled reads are retried while the deadline allows, not a fixed
// number of times, and the throttles they absorbed are counted.
func TestThrottledReadRetriedWithinDeadline(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	arn := f.put(t, dbARN, aws.String(`{"password":"x"}`))
	f.sm.Inject(smfake.Fault{Op: "GetSecretValue", Code: "ThrottlingException", Times: 4})
	res, st := f.store.Get(deadlineContext(t, 5*time.Second), []string{arn}, Freshness{})
	if res[0].Err != nil {
		t.Fatalf("throttled 4 times within a 5 s deadline: %v", res[0].Err)
	}
	if got := f.sm.Calls("GetSecretValue"); got != 5 || st.Calls != 1 || st.Throttles != 4 {
		t.Errorf("%d attempts, Stats %+v; want 5 attempts, 1 call, 4 absorbed throttles", got, st)
	}
}

// Throttling that outlasts the deadline ends as Throttled, before the
// deadline, not as a Timeout at it.
func TestPersistentThrottlingIsThrottledBeforeDeadline(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	arn := f.put(t, dbARN, aws.String(`{"password":"x"}`))
	f.sm.Inject(smfake.Fault{Op: "GetSecretValue", Code: "ThrottlingException"})
	const budget = 600 * time.Millisecond
	ctx := deadlineContext(t, budget)
	dl, _ := ctx.Deadline()
	res, st := f.store.Get(ctx, []string{arn}, Freshness{})
	if e := res[0].Err; e == nil || e.Code != answer.Throttled || !e.Transient {
		t.Fatalf("got %+v, want a transient Throttled", res[0].Err)
	}
	if now := time.Now(); !now.Before(dl) {
		t.Errorf("answered %v after the deadline", now.Sub(dl))
	}
	if attempts := f.sm.Calls("GetSecretValue"); attempts < 3 || st.Throttles != attempts-1 {
		t.Errorf("%d attempts, %d absorbed throttles; want several attempts, all but the last absorbed", attempts, st.Throttles)
	}
}

// Without a deadline the configured attempt limit holds for throttles too
// (here 1 attempt, as the fixture's config says).
func TestThrottleWithoutDeadlineKeepsAttemptLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	arn := f.put(t, dbARN, aws.String(`{"password":"x"}`))
	f.sm.Inject(smfake.Fault{Op: "GetSecretValue", Code: "ThrottlingException"})
	res, st := f.store.Get(t.Context(), []string{arn}, Freshness{})
	if e := res[0].Err; e == nil || e.Code != answer.Throttled {
		t.Fatalf("got %+v, want Throttled", res[0].Err)
	}
	if got := f.sm.Calls("GetSecretValue"); got != 1 || st.Throttles != 0 {
		t.Errorf("%d attempts, %d absorbed; want 1 and 0", got, st.Throttles)
	}
}

// Failures that are not throttles keep the configured attempt limit even
// with a deadline: a 5xx is not retried for as long as time allows.
func TestServerErrorKeepsAttemptLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	arn := f.put(t, dbARN, aws.String(`{"password":"x"}`))
	f.sm.Inject(smfake.Fault{Op: "GetSecretValue", Code: "InternalServiceError"})
	res, _ := f.store.Get(deadlineContext(t, 5*time.Second), []string{arn}, Freshness{})
	if e := res[0].Err; e == nil || e.Code != answer.UpstreamError {
		t.Fatalf("got %+v, want UpstreamError", res[0].Err)
	}
	if got := f.sm.Calls("GetSecretValue"); got != 1 {
		t.Errorf("%d attempts; want the fixture's 1", got)
	}
}

// A read that hangs is still a Timeout, ending before the request's
// deadline so that its waiters hear how it ended.
func TestHungReadIsTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	arn := f.put(t, dbARN, aws.String(`{"password":"x"}`))
	f.sm.Inject(smfake.Fault{Op: "GetSecretValue", Latency: 5 * time.Second})
	res, st := f.store.Get(deadlineContext(t, 300*time.Millisecond), []string{arn}, Freshness{})
	if e := res[0].Err; e == nil || e.Code != answer.Timeout {
		t.Fatalf("got %+v, want Timeout", res[0].Err)
	}
	if st.Calls != 1 {
		t.Errorf("Stats.Calls %d, want 1: a read this request led is not read again", st.Calls)
	}
}

func TestJitterBackoffBounds(t *testing.T) {
	t.Parallel()
	for attempt, ceiling := range map[int]time.Duration{1: 50 * time.Millisecond, 2: 100 * time.Millisecond, 4: 400 * time.Millisecond, 5: 500 * time.Millisecond, 40: 500 * time.Millisecond} {
		for range 200 {
			d, err := jitterBackoff{}.BackoffDelay(attempt, nil)
			if err != nil || d < 0 || d > ceiling {
				t.Fatalf("attempt %d: %v, %v; want within [0, %v]", attempt, d, err, ceiling)
			}
		}
	}
}
