package secrets

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

func TestStoreStaleIfError(t *testing.T) {
	t.Parallel()
	const (
		ttl   = time.Minute
		stale = 10 * time.Minute
	)
	tests := []struct {
		name      string
		fault     smfake.Fault
		short     bool          // read under a deadline shorter than the latency
		age       time.Duration // how long after the first read the refresh runs
		wantStale bool
		wantCode  answer.Code
	}{
		{name: "throttled", fault: smfake.Fault{Code: "ThrottlingException"}, age: 2 * ttl, wantStale: true},
		{name: "5xx", fault: smfake.Fault{Code: "InternalServiceError"}, age: 2 * ttl, wantStale: true},
		{name: "timeout", fault: smfake.Fault{Latency: 5 * time.Second}, short: true, age: 2 * ttl, wantStale: true},
		{name: "connection reset", fault: smfake.Fault{Reset: true}, age: 2 * ttl, wantStale: true},
		{name: "end of stale window", fault: smfake.Fault{Code: "ThrottlingException"}, age: ttl*9/10 + stale - time.Nanosecond, wantStale: true},

		// errors
		{name: "access denied", fault: smfake.Fault{Code: "AccessDeniedException"}, age: 2 * ttl, wantCode: answer.AccessDenied},
		{name: "not found", fault: smfake.Fault{Code: "ResourceNotFoundException"}, age: 2 * ttl, wantCode: answer.SecretNotFound},
		{name: "decryption failure", fault: smfake.Fault{Code: "DecryptionFailure"}, age: 2 * ttl, wantCode: answer.DecryptionFailure},
		{name: "throttled past the stale window", fault: smfake.Fault{Code: "ThrottlingException"}, age: ttl + stale, wantCode: answer.Throttled},
		{name: "5xx past the stale window", fault: smfake.Fault{Code: "InternalServiceError"}, age: 2*ttl + stale, wantCode: answer.UpstreamError},
		{name: "timeout past the stale window", fault: smfake.Fault{Latency: 5 * time.Second}, short: true, age: ttl + stale, wantCode: answer.Timeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, WithTTL(ttl), WithStaleIfError(stale))
			f.put(t, dbARN, aws.String(dbValue))
			cached, _ := f.get(t, dbARN)

			f.clock.Add(tt.age)
			fault := tt.fault
			fault.Op, fault.Times = "GetSecretValue", 1
			f.sm.Inject(fault)
			ctx := t.Context()
			if tt.short {
				ctx = shortContext(t)
			}
			res, st := f.store.Get(ctx, []string{dbARN}, Freshness{})
			if n := f.sm.SecretReads(dbARN); n != 2 && !tt.short {
				t.Errorf("%d reads, want 2 (the refresh must be tried)", n)
			}
			if tt.wantStale {
				if res[0].Err != nil {
					t.Fatalf("err = %v, want the stale value", res[0].Err)
				}
				if res[0].Secret != cached {
					t.Error("served a different secret than the cached one")
				}
				if want := (Stats{Misses: 1, Stale: 1, Calls: 1}); st != want {
					t.Errorf("Stats = %+v, want %+v", st, want)
				}
				return
			}
			if res[0].Secret != nil {
				t.Fatalf("served the stale value after %s", tt.name)
			}
			if res[0].Err == nil || res[0].Err.Code != tt.wantCode {
				t.Fatalf("err = %v, want %s", res[0].Err, tt.wantCode)
			}
			if st.Stale != 0 {
				t.Errorf("Stats.Stale = %d, want 0", st.Stale)
			}
		})
	}
}

// Once Secrets Manager has said a secret is gone, denied or undecryptable,
// the old value is not a fallback any more: a later transient failure must
// not bring it back.
func TestStoreNoStaleAfterDefinitiveFailure(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"AccessDeniedException", "ResourceNotFoundException", "DecryptionFailure"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, WithTTL(time.Minute), WithStaleIfError(time.Hour))
			f.put(t, dbARN, aws.String(dbValue))
			f.get(t, dbARN)
			f.clock.Add(2 * time.Minute)

			f.sm.Inject(smfake.Fault{Op: "GetSecretValue", Code: code, Times: 1})
			f.sm.Inject(smfake.Fault{Op: "GetSecretValue", Code: "ThrottlingException", Times: 1})
			if res, _ := f.store.Get(t.Context(), []string{dbARN}, Freshness{}); res[0].Err == nil {
				t.Fatalf("%s: served the stale value", code)
			}
			f.clock.Add(DefaultNotFoundTTL) // past the remembered SecretNotFound
			res, st := f.store.Get(t.Context(), []string{dbARN}, Freshness{})
			if res[0].Err == nil || res[0].Err.Code != answer.Throttled || st.Stale != 0 {
				t.Errorf("throttled after %s: %+v, %+v; want Throttled and no stale value", code, res[0], st)
			}
		})
	}
}
