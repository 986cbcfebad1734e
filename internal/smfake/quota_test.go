package smfake_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/maskresolver/maskresolver/internal/smfake"
)

// fakeClock moves only when a test moves it, so that bucket refills are
// exact rather than a matter of scheduling.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// startMetered serves the double holding prod/db with q enforced on a
// clock that stands still until the test advances it.
func startMetered(t *testing.T, q smfake.Quotas) (*smfake.Server, aws.Config, *fakeClock) {
	t.Helper()
	s, ts := start(t, smfake.WithQuotas(q))
	clock := &fakeClock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	s.SetClock(clock.Now)
	return s, ts, clock
}

const (
	get      = "GetSecretValue"
	batch    = "BatchGetSecretValue"
	describe = "DescribeSecret"
	euRegion = "eu-west-1"
)

// call makes one call of op for prod/db with c. In eu-west-1 prod/db does
// not exist: the answer is then an error, but not a throttle.
func call(ctx context.Context, c *secretsmanager.Client, op string) error {
	id := aws.String("prod/db")
	var err error
	switch op {
	case get:
		_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: id})
	case batch:
		_, err = c.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{*id}})
	case describe:
		_, err = c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: id})
	default:
		panic("call: unknown op " + op)
	}
	return err
}

func throttled(err error) bool { return errorCode(err) == "ThrottlingException" }

func TestQuotas(t *testing.T) {
	t.Parallel()
	type step struct {
		advance   time.Duration // before the call
		op        string
		region    string // "" is us-east-1
		throttled bool
	}
	tests := []struct {
		name  string
		q     smfake.Quotas
		steps []step
	}{
		{"burst then throttle", smfake.Quotas{Read: 3}, []step{
			{op: get}, {op: get}, {op: get},
			{op: get, throttled: true}, {op: get, throttled: true},
		}},
		{"refill", smfake.Quotas{Read: 2}, []step{
			{op: get}, {op: get}, {op: get, throttled: true},
			{advance: 500 * time.Millisecond, op: get}, {op: get, throttled: true},
			{advance: 250 * time.Millisecond, op: get, throttled: true}, // half a token
			{advance: 250 * time.Millisecond, op: get},
			// An idle bucket fills up to its capacity and no further.
			{advance: time.Minute, op: get}, {op: get}, {op: get, throttled: true},
		}},
		{"burst holds seconds of rate", smfake.Quotas{Read: 2, Burst: 2 * time.Second}, []step{
			{op: get}, {op: get}, {op: get}, {op: get}, {op: get, throttled: true},
		}},
		{"bucket holds at least one token", smfake.Quotas{Read: 0.5}, []step{
			{op: get}, {op: get, throttled: true},
			{advance: time.Second, op: get, throttled: true},
			{advance: time.Second, op: get},
		}},
		{"batch and read independent", smfake.Quotas{Batch: 1, Read: 1}, []step{
			{op: batch}, {op: batch, throttled: true},
			{op: get}, {op: get, throttled: true},
			{op: batch, throttled: true},
		}},
		{"get and describe share one bucket", smfake.Quotas{Read: 2}, []step{
			{op: get}, {op: describe},
			{op: get, throttled: true}, {op: describe, throttled: true},
			{advance: 500 * time.Millisecond, op: describe}, {op: get, throttled: true},
		}},
		{"regions independent", smfake.Quotas{Batch: 1, Read: 1}, []step{
			{op: get}, {op: get, throttled: true},
			{op: get, region: euRegion}, {op: describe, region: euRegion, throttled: true},
			{op: batch, region: euRegion}, {op: batch}, {op: batch, throttled: true},
		}},
		{"unmetered batch", smfake.Quotas{Read: 1}, []step{
			{op: batch}, {op: batch}, {op: batch}, {op: get}, {op: get, throttled: true},
		}},
		{"zero quotas", smfake.Quotas{Burst: time.Second}, []step{
			{op: get}, {op: get}, {op: describe}, {op: batch}, {op: batch},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts, clock := startMetered(t, tt.q)
			clients := map[string]*secretsmanager.Client{}
			wantThrottled := map[string]int{}
			for i, st := range tt.steps {
				r := st.region
				if r == "" {
					r = region
				}
				if clients[r] == nil {
					clients[r] = client(ts, r)
				}
				clock.Advance(st.advance)
				err := call(t.Context(), clients[r], st.op)
				if got := throttled(err); got != st.throttled {
					t.Errorf("step %d (%s in %s): throttled = %t, want %t (err %v)", i, st.op, r, got, st.throttled, err)
				}
				if st.throttled {
					wantThrottled[st.op]++
					wantThrottled[""]++
				}
			}
			for _, op := range []string{"", get, batch, describe} {
				if got := s.Throttled(op); got != wantThrottled[op] {
					t.Errorf("Throttled(%q) = %d, want %d", op, got, wantThrottled[op])
				}
			}
			if got := s.Calls(""); got != len(tt.steps) {
				t.Errorf("Calls = %d, want %d: a throttled call is a call", got, len(tt.steps))
			}
		})
	}
}

// A quota's ThrottlingException must be one the SDK's retryers back off
// from, or the function under test would hammer the double.
func TestQuotaThrottleIsSDKThrottle(t *testing.T) {
	t.Parallel()
	s, ts, clock := startMetered(t, smfake.Quotas{Read: 1})
	c := client(ts, region)
	if err := call(t.Context(), c, get); err != nil {
		t.Fatal(err)
	}
	err := call(t.Context(), c, get)
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" || api.ErrorMessage() != "Rate exceeded" {
		t.Fatalf("err = %v, want ThrottlingException: Rate exceeded", err)
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
		t.Errorf("err = %v, want HTTP 400", err)
	}
	if got := retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err); got != aws.TrueTernary {
		t.Errorf("IsErrorThrottle = %v, want true", got)
	}

	// The standard retryer takes it for a throttle and retries once the
	// bucket has refilled (its backoff is where the clock moves on).
	retrying := client(ts, region, func(o *secretsmanager.Options) {
		o.RetryMaxAttempts = 0 // else it caps the retryer below at 1 attempt
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 2
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
				clock.Advance(time.Second)
				return 0, nil
			})
		})
	})
	s.ResetCalls()
	if err := call(t.Context(), retrying, get); err != nil {
		t.Fatalf("with a retry after a refill: %v", err)
	}
	if calls, thr := s.Calls(get), s.Throttled(get); calls != 2 || thr != 1 {
		t.Errorf("Calls = %d, Throttled = %d; want 2 and 1", calls, thr)
	}
}

func TestQuotaCounters(t *testing.T) {
	t.Parallel()
	s, ts, clock := startMetered(t, smfake.Quotas{Read: 1})
	c := client(ts, region)
	ctx := t.Context()

	if err := call(ctx, c, get); err != nil {
		t.Fatal(err)
	}
	// The throttled call must leave the fault armed for the next one.
	s.Inject(smfake.Fault{Op: get, Code: "AccessDeniedException", Times: 1})
	if err := call(ctx, c, get); !throttled(err) {
		t.Fatalf("second call: err = %v, want a throttle", err)
	}
	clock.Advance(time.Second)
	if err := call(ctx, c, get); errorCode(err) != "AccessDeniedException" {
		t.Fatalf("third call: err = %v, want the injected AccessDeniedException", err)
	}
	// An injected throttle is not the quota's.
	s.Inject(smfake.Fault{Op: get, Code: "ThrottlingException", Times: 1})
	clock.Advance(time.Second)
	if err := call(ctx, c, get); !throttled(err) {
		t.Fatalf("fourth call: err = %v, want the injected throttle", err)
	}

	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"Calls", s.Calls(get), 4},
		{"Throttled", s.Throttled(get), 1},
		{`Throttled("")`, s.Throttled(""), 1},
		{"Throttled(DescribeSecret)", s.Throttled(describe), 0},
		{"SecretReads", s.SecretReads(dbARN), 3},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
	s.ResetCalls()
	if s.Throttled("") != 0 || s.Calls("") != 0 {
		t.Errorf("after ResetCalls: Throttled %d, Calls %d", s.Throttled(""), s.Calls(""))
	}
}

func TestSetQuotas(t *testing.T) {
	t.Parallel()
	s, ts, _ := startMetered(t, smfake.Quotas{})
	c := client(ts, region)
	ctx := t.Context()
	steps := []struct {
		set       *smfake.Quotas
		throttled bool
	}{
		{}, {}, {}, // unmetered
		{set: &smfake.Quotas{Read: 1}}, {throttled: true},
		{set: &smfake.Quotas{Read: 1}}, // a fresh, full bucket
		{throttled: true},
		{set: &smfake.Quotas{}}, {}, {},
	}
	for i, st := range steps {
		if st.set != nil {
			s.SetQuotas(*st.set)
		}
		if err := call(ctx, c, get); throttled(err) != st.throttled {
			t.Errorf("step %d: err = %v, want throttled %t", i, err, st.throttled)
		}
	}
}

func TestAccountQuotas(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		scale float64
		want  smfake.Quotas
	}{
		{1, smfake.Quotas{Batch: 100, Read: 10000, Burst: time.Second}},
		{0.04, smfake.Quotas{Batch: 4, Read: 400, Burst: time.Second}},
		{0, smfake.Quotas{Burst: time.Second}},
	} {
		if got := smfake.AccountQuotas(tt.scale); got != tt.want {
			t.Errorf("AccountQuotas(%g) = %+v, want %+v", tt.scale, got, tt.want)
		}
	}
}

// With the clock standing still, a bucket hands out exactly its capacity
// however many goroutines race for it.
func TestQuotaConcurrent(t *testing.T) {
	t.Parallel()
	const capacity, goroutines, each = 50, 20, 10
	s, ts, _ := startMetered(t, smfake.Quotas{Read: capacity})
	c := client(ts, region)
	var mu sync.Mutex
	n := 0
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range each {
				if err := call(t.Context(), c, get); throttled(err) {
					mu.Lock()
					n++
					mu.Unlock()
				} else if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	want := goroutines*each - capacity
	if n != want || s.Throttled(get) != want {
		t.Errorf("%d calls throttled, Throttled = %d; want %d", n, s.Throttled(get), want)
	}
	if got := s.SecretReads(dbARN); got != capacity {
		t.Errorf("SecretReads = %d, want %d", got, capacity)
	}
}

// BenchmarkServeHTTP measures what metering adds to a call, against the
// unmetered server in the same run.
func BenchmarkServeHTTP(b *testing.B) {
	const auth = "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=00"
	body := []byte(`{"SecretId":"prod/db"}`)
	for _, bc := range []struct {
		name string
		q    smfake.Quotas
	}{
		{"unmetered", smfake.Quotas{}},
		{"metered", smfake.Quotas{Read: 1e12}},
		{"throttled", smfake.Quotas{Read: 1e-9}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := smfake.New(smfake.WithQuotas(bc.q))
			if _, err := s.Put(smfake.Secret{ARN: dbARN, String: aws.String(dbValue)}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				rd := bytes.NewReader(body)
				req := httptest.NewRequest(http.MethodPost, "/", rd)
				req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
				req.Header.Set("Authorization", auth)
				for pb.Next() {
					rd.Reset(body)
					s.ServeHTTP(httptest.NewRecorder(), req)
				}
			})
		})
	}
}
