package smfake_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/maskresolver/maskresolver/internal/smfake"
)

// faulted makes n calls of op on a fresh double with faults injected and
// returns the indexes of the calls answered with an error, and the handles
// of the faults.
func faulted(t *testing.T, n int, op string, faults ...smfake.Fault) ([]int, []*smfake.Injected) {
	t.Helper()
	s, ts := start(t)
	var inj []*smfake.Injected
	for _, f := range faults {
		inj = append(inj, s.Inject(f))
	}
	c := client(ts, region)
	var failed []int
	for i := range n {
		if err := call(t.Context(), c, op); err != nil {
			failed = append(failed, i)
		}
	}
	return failed, inj
}

func TestFaultPercent(t *testing.T) {
	t.Parallel()
	const n = 1000
	throttle := smfake.Fault{Op: get, Code: "ThrottlingException", Percent: 25}
	failed, inj := faulted(t, n, get, throttle)
	// The draws are seeded: the share is near 25% and the same each run.
	if len(failed) < 200 || len(failed) > 300 {
		t.Errorf("%d of %d calls throttled, want about 250", len(failed), n)
	}
	if got := inj[0].Calls(get); got != len(failed) || inj[0].Calls("") != got || inj[0].Calls(batch) != 0 {
		t.Errorf("Calls(%s) = %d, Calls(\"\") = %d, Calls(%s) = %d; want %d, %d, 0",
			get, got, inj[0].Calls(""), batch, inj[0].Calls(batch), len(failed), len(failed))
	}
	again, _ := faulted(t, n, get, throttle)
	if !slices.Equal(failed, again) {
		t.Error("a second run with the same calls throttled other calls")
	}
}

func TestFaultPercentPassesOn(t *testing.T) {
	t.Parallel()
	const n = 200
	// A call the first fault passes over meets the second, which takes
	// every call: every call fails, and the two counts add up.
	failed, inj := faulted(t, n, describe,
		smfake.Fault{Code: "ThrottlingException", Percent: 50},
		smfake.Fault{Code: "AccessDeniedException"})
	if len(failed) != n {
		t.Errorf("%d of %d calls failed, want all", len(failed), n)
	}
	first, second := inj[0].Calls(describe), inj[1].Calls(describe)
	if first+second != n || first < n/4 || second < n/4 {
		t.Errorf("the faults acted on %d and %d calls, want about half each of %d", first, second, n)
	}
}

func TestFaultPercentTimes(t *testing.T) {
	t.Parallel()
	// Times counts the calls picked, not the calls seen.
	failed, inj := faulted(t, 100, get, smfake.Fault{Code: "ThrottlingException", Percent: 10, Times: 3})
	if len(failed) != 3 || inj[0].Calls("") != 3 {
		t.Errorf("%d calls throttled (%v), counted %d; want 3", len(failed), failed, inj[0].Calls(""))
	}
	if len(failed) > 0 && failed[len(failed)-1] < 3 {
		t.Errorf("throttled calls %v: the first three, not a share", failed)
	}
}

func TestFaultPercentBatchEntries(t *testing.T) {
	t.Parallel()
	s, ts := start(t)
	inj := s.Inject(smfake.Fault{SecretID: dbARN, Code: "ThrottlingException", Percent: 50})
	c := client(ts, region)
	entries := 0
	for range 50 {
		out, err := c.BatchGetSecretValue(t.Context(), &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{dbARN}})
		if err != nil {
			t.Fatal(err)
		}
		entries += len(out.Errors)
	}
	if entries == 0 || entries == 50 || inj.Calls(batch) != entries {
		t.Errorf("%d of 50 entries throttled, counted %d; want a share, counted alike", entries, inj.Calls(batch))
	}
}

func TestFaultPercentAll(t *testing.T) {
	t.Parallel()
	for _, p := range []float64{0, 100} {
		failed, inj := faulted(t, 20, get, smfake.Fault{Code: "ThrottlingException", Percent: p})
		if len(failed) != 20 || inj[0].Calls(get) != 20 {
			t.Errorf("Percent %g: %d of 20 calls throttled, counted %d; want every call", p, len(failed), inj[0].Calls(get))
		}
	}
}

func TestFaultPercentRejects(t *testing.T) {
	t.Parallel()
	for _, p := range []float64{-1, 100.5, math.NaN(), math.Inf(1)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Percent %g: Inject did not panic", p)
				}
			}()
			smfake.New().Inject(smfake.Fault{Code: "ThrottlingException", Percent: p})
		}()
	}
}

func TestFaultCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code       string
		wantStatus int
		check      func(error) bool
	}{
		{"ResourceNotFoundException", 400, func(err error) bool { var e *types.ResourceNotFoundException; return errors.As(err, &e) }},
		{"DecryptionFailure", 400, func(err error) bool { var e *types.DecryptionFailure; return errors.As(err, &e) }},
		{"InvalidRequestException", 400, func(err error) bool { var e *types.InvalidRequestException; return errors.As(err, &e) }},
		{"InternalServiceError", 500, func(err error) bool { var e *types.InternalServiceError; return errors.As(err, &e) }},
		{"AccessDeniedException", 400, nil},
		{"ThrottlingException", 400, nil},
	}
	for _, tt := range tests {
		for _, secretID := range []string{"", "prod/db"} {
			t.Run(tt.code+"/secret="+secretID, func(t *testing.T) {
				t.Parallel()
				s, ts := start(t)
				s.Inject(smfake.Fault{Op: "GetSecretValue", SecretID: secretID, Code: tt.code, Message: "injected"})
				_, err := client(ts, region).GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(dbARN)})
				var api smithy.APIError
				if !errors.As(err, &api) || api.ErrorCode() != tt.code || api.ErrorMessage() != "injected" {
					t.Fatalf("err = %v, want API error %s: injected", err, tt.code)
				}
				if tt.check != nil && !tt.check(err) {
					t.Errorf("err = %T %v, not the modelled type", err, err)
				}
				var re *smithyhttp.ResponseError
				if !errors.As(err, &re) || re.HTTPStatusCode() != tt.wantStatus {
					t.Errorf("status = %v, want %d", err, tt.wantStatus)
				}
			})
		}
	}
}

func TestFaultScope(t *testing.T) {
	t.Parallel()
	s, ts := start(t)
	if _, err := s.Put(smfake.Secret{ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:other", String: aws.String("o")}); err != nil {
		t.Fatal(err)
	}
	s.Inject(smfake.Fault{SecretID: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db", Code: "AccessDeniedException"})
	s.Inject(smfake.Fault{Op: "DescribeSecret", Code: "ThrottlingException"})
	c := client(ts, region)

	if _, err := c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("other")}); err != nil {
		t.Errorf("other secret: %v", err)
	}
	_, err := c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/db")})
	if code := errorCode(err); code != "AccessDeniedException" {
		t.Errorf("prod/db: code %q (%v), want AccessDeniedException", code, err)
	}
	_, err = c.DescribeSecret(t.Context(), &secretsmanager.DescribeSecretInput{SecretId: aws.String("other")})
	if code := errorCode(err); code != "ThrottlingException" {
		t.Errorf("DescribeSecret: code %q (%v), want ThrottlingException", code, err)
	}
	// The fault names the us-east-1 secret; its eu-west-1 namesake is spared.
	if _, err := s.Put(smfake.Secret{ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db", String: aws.String("eu")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db")}); err != nil {
		t.Errorf("eu-west-1 prod/db: %v", err)
	}

	s.ClearFaults()
	if _, err := c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/db")}); err != nil {
		t.Errorf("after ClearFaults: %v", err)
	}
}

func TestFaultLatency(t *testing.T) {
	t.Parallel()
	s, ts := start(t)
	c := client(ts, region)

	s.Inject(smfake.Fault{Latency: 30 * time.Millisecond, Times: 1})
	begin := time.Now()
	if _, err := c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/db")}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d < 30*time.Millisecond {
		t.Errorf("answered after %v, want at least the 30ms latency", d)
	}

	s.Inject(smfake.Fault{Latency: time.Minute})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	begin = time.Now()
	_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/db")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(begin); d > 10*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

func TestFaultTransport(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]smfake.Fault{
		"reset":     {Reset: true},
		"truncate":  {Truncate: true},
		"malformed": {Malformed: true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, ts := start(t)
			f.Times = 1
			s.Inject(f)
			c := client(ts, region)
			_, err := c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/db")})
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("%s: %v", name, err)
			var api smithy.APIError
			if errors.As(err, &api) {
				t.Errorf("err = %v, want a transport or deserialization error, not an API error", err)
			}
			if _, err := c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/db")}); err != nil {
				t.Errorf("after the fault: %v", err)
			}
		})
	}
}

func TestFaultTimesRetry(t *testing.T) {
	t.Parallel()
	s, ts := start(t)
	s.Inject(smfake.Fault{Op: "GetSecretValue", Code: "ThrottlingException", Times: 1})
	c := client(ts, region, func(o *secretsmanager.Options) {
		o.RetryMaxAttempts = 0 // else it caps the retryer below at 1 attempt
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 2
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	})
	out, err := c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/db")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.SecretString) != dbValue {
		t.Errorf("SecretString = %q", aws.ToString(out.SecretString))
	}
	if n := s.Calls("GetSecretValue"); n != 2 {
		t.Errorf("Calls = %d, want 2 (one throttled, one retried)", n)
	}
	if n := s.SecretReads(dbARN); n != 2 {
		t.Errorf("SecretReads = %d, want 2", n)
	}
}
