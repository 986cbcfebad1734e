package secrets

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// The retry policy of a read. Secrets Manager's quotas are per account and
// region and shared by the whole fleet (docs/operations.md, "Fleet and
// quotas"), so a throttle says "come back shortly", not "give up":
// throttled attempts go on while the read's deadline allows. Other
// retryable failures keep the SDK's small, fixed number of attempts.
const (
	// DefaultMaxAttempts is how many attempts a read makes after a
	// failure that is not a throttle (a 5xx, a reset connection).
	DefaultMaxAttempts = 3
	// maxThrottledAttempts caps a throttled read however long its deadline:
	// at the backoff below, 64 attempts span well over a minute.
	maxThrottledAttempts = 64
	// throttleBaseDelay and throttleMaxBackoff shape the jittered
	// exponential backoff between attempts. The quota buckets refill
	// continuously (one second of burst), so retries are spread over
	// fractions of a second rather than the SDK's default of whole
	// seconds, which would leave a storm's refilled quota unused. Measured
	// with make fleet (40 environments at 0.04 of the quotas), a 1 s cap
	// answered the cold storm in 1.9× the quota-ideal time, 500 ms in
	// 1.5–1.6×, for about as many throttled calls.
	throttleBaseDelay  = 50 * time.Millisecond
	throttleMaxBackoff = 500 * time.Millisecond
	// minAttempt is the least time left for another attempt to be worth
	// sending: a throttled read that cannot make one more before its
	// deadline ends as Throttled rather than running into a Timeout.
	minAttempt = 20 * time.Millisecond
	// batchPause is how long a region's batch reads stay off after a
	// BatchGetSecretValue was throttled: the quota (100/s, not adjustable)
	// refills in about a second, and until then GetSecretValue, with a
	// hundred times the quota, serves the secrets instead.
	batchPause = time.Second
)

var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

// isThrottle reports whether err is Secrets Manager replying that the
// quota is spent (ThrottlingException and its kin, by code).
func isThrottle(err error) bool { return throttles.IsErrorThrottle(err).Bool() }

// NewRetryer is the store's retryer when the aws.Config brings none, and
// the one for the function's other clients (STS's), so that they retry as
// its reads do: the SDK's standard retryer (or its adaptive mode, which
// adds a client-side send-rate limiter, when AWS_RETRY_MODE=adaptive),
// with the backoff above and without the SDK's retry quota, which would
// end a throttled read after a fixed number of retries whatever its
// deadline; the deadline is the bound here.
func NewRetryer(mode aws.RetryMode) aws.RetryerV2 {
	std := func(o *retry.StandardOptions) {
		o.MaxAttempts = DefaultMaxAttempts
		o.MaxBackoff = throttleMaxBackoff
		o.Backoff = jitterBackoff{}
		o.RateLimiter = ratelimit.None
	}
	if mode == aws.RetryModeAdaptive {
		return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, std)
		})
	}
	return retry.NewStandard(std)
}

// jitterBackoff is exponential backoff with full jitter: a uniform delay
// in [0, min(max, base·2^(attempt-1))).
type jitterBackoff struct{}

func (jitterBackoff) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	ceiling := throttleMaxBackoff
	if attempt < 16 {
		ceiling = min(ceiling, throttleBaseDelay<<max(attempt-1, 0))
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1)), nil
}

// counters are what one Get's reads did, added up across its goroutines.
type counters struct {
	calls     atomic.Int64 // Secrets Manager calls sent (attempts not counted)
	throttles atomic.Int64 // throttled replies absorbed by a retry or a move to GetSecretValue
}

// readRetryer wraps the client's retryer for one call. It lets throttled
// attempts go on while the call's deadline leaves room for another
// attempt, keeps the wrapped retryer's attempt limit for every other
// failure, and counts the throttles it absorbs. It is used by one call,
// whose attempts run one after another.
type readRetryer struct {
	aws.RetryerV2
	deadline time.Time // zero: no deadline, and the wrapped limit holds for throttles too
	n        *counters
	// throttled says whether the last failed attempt was throttled, so
	// that a read that runs out of time while throttled is reported as
	// Throttled, which it is, rather than as a Timeout.
	throttled bool
}

// withReadRetryer installs a readRetryer on one call.
func withReadRetryer(ctx context.Context, n *counters, rr **readRetryer) func(*secretsmanager.Options) {
	return func(o *secretsmanager.Options) {
		r := &readRetryer{RetryerV2: asV2(o.Retryer), n: n}
		r.deadline, _ = ctx.Deadline()
		*rr = r
		o.Retryer = r
	}
}

func (r *readRetryer) MaxAttempts() int {
	if r.deadline.IsZero() {
		return r.RetryerV2.MaxAttempts()
	}
	return max(maxThrottledAttempts, r.RetryerV2.MaxAttempts())
}

func (r *readRetryer) IsErrorRetryable(err error) bool {
	r.throttled = isThrottle(err)
	return r.RetryerV2.IsErrorRetryable(err)
}

// RetryDelay ends the call (by returning err) when the wrapped limit is
// reached for a failure that is not a throttle, or when a throttled call
// has no time left for another attempt.
func (r *readRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	throttled := isThrottle(err)
	if limit := r.RetryerV2.MaxAttempts(); !throttled && limit > 0 && attempt >= limit {
		return 0, err
	}
	d, derr := r.RetryerV2.RetryDelay(attempt, err)
	if derr != nil {
		return 0, derr
	}
	if throttled {
		if !r.deadline.IsZero() && time.Now().Add(d+minAttempt).After(r.deadline) {
			return 0, err
		}
		r.n.throttles.Add(1)
	}
	return d, nil
}

// batchRetryer wraps the client's retryer for a BatchGetSecretValue call:
// a throttle is not retried, since the secrets move to GetSecretValue at
// once, and the call bypasses the adaptive mode's send-rate limiter so
// that the small batch quota does not slow the client's single reads.
type batchRetryer struct{ aws.RetryerV2 }

func (r batchRetryer) IsErrorRetryable(err error) bool {
	return !isThrottle(err) && r.RetryerV2.IsErrorRetryable(err)
}

// GetAttemptToken takes no token: the adaptive mode's limiter paces the
// client's single reads, and a batch throttle is handled by batchPause.
func (batchRetryer) GetAttemptToken(context.Context) (func(error) error, error) {
	return func(error) error { return nil }, nil
}

func withBatchRetryer(o *secretsmanager.Options) { o.Retryer = batchRetryer{asV2(o.Retryer)} }

// asV2 gives r the context-aware attempt token of aws.RetryerV2.
func asV2(r aws.Retryer) aws.RetryerV2 {
	if v2, ok := r.(aws.RetryerV2); ok {
		return v2
	}
	return v1Retryer{r}
}

type v1Retryer struct{ aws.Retryer }

func (r v1Retryer) GetAttemptToken(context.Context) (func(error) error, error) {
	return r.GetInitialToken(), nil
}

// retryTruncated makes the SDK's retryer also retry a reply whose body
// was cut off (io.ErrUnexpectedEOF inside a deserialization error), which
// the standard retryer treats as final although a read is safe to repeat.
type retryTruncated struct{ aws.Retryer }

func (r retryTruncated) IsErrorRetryable(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || r.Retryer.IsErrorRetryable(err)
}

// GetAttemptToken keeps the wrapped retryer's per-attempt token, so the
// wrapper is an aws.RetryerV2 like the retryer it wraps.
func (r retryTruncated) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	return asV2(r.Retryer).GetAttemptToken(ctx)
}
