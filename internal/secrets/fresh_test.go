package secrets

import (
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

var forced = Freshness{MaxAge: 0, Bounded: true}

// A rotation inside the TTL: without max_age the old value and version
// are served; with max_age 0 the secret is read again, and the new value
// and version replace the cached ones for every later request.
func TestFreshRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	arn := f.put(t, dbARN, aws.String(`{"password":"old"}`))
	old, _ := f.get(t, arn)
	f.put(t, arn, aws.String(`{"password":"new"}`))
	f.clock.Add(2 * DefaultRefreshMinInterval)

	res, st := f.store.Get(t.Context(), []string{arn}, Freshness{})
	if v, _ := res[0].Secret.Lookup("password"); v != "old" || res[0].Secret.VersionID != old.VersionID || st.Hits != 1 {
		t.Fatalf("without max_age: %q %s, %+v; want the cached old value", v, res[0].Secret.VersionID, st)
	}
	res, st = f.store.Get(t.Context(), []string{arn}, forced)
	v, _ := res[0].Secret.Lookup("password")
	if v != "new" || res[0].Secret.VersionID == old.VersionID || res[0].Secret.VersionID == "" || st.Forced != 1 || st.Calls != 1 {
		t.Fatalf("max_age 0: %q %s, %+v; want the new value, a new version, 1 forced read", v, res[0].Secret.VersionID, st)
	}
	newVersion := res[0].Secret.VersionID
	res, st = f.store.Get(t.Context(), []string{arn}, Freshness{})
	if v, _ := res[0].Secret.Lookup("password"); v != "new" || res[0].Secret.VersionID != newVersion || st.Calls != 0 {
		t.Errorf("after the forced read: %q, %+v; want the new value from memory", v, st)
	}
}

// REFRESH_MIN_INTERVAL: a value read at most that long ago is fresh for
// any max_age, so a flood of max_age 0 costs one read per interval.
func TestFreshMinInterval(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithRefreshMinInterval(time.Second))
	arn := f.put(t, dbARN, aws.String(dbValue))
	f.get(t, arn)
	f.sm.ResetCalls()
	for range 50 {
		f.clock.Add(10 * time.Millisecond) // 500 ms in all
		if res, _ := f.store.Get(t.Context(), []string{arn}, forced); res[0].Err != nil {
			t.Fatal(res[0].Err)
		}
	}
	if n := f.sm.Calls(""); n != 0 {
		t.Errorf("50 forced requests within the interval: %d calls, want 0", n)
	}
	f.clock.Add(501 * time.Millisecond)
	for range 50 {
		f.store.Get(t.Context(), []string{arn}, forced)
	}
	if n := f.sm.Calls(""); n != 1 {
		t.Errorf("50 forced requests in the next interval: %d calls, want 1", n)
	}
	// max_age N: a value younger than N is served.
	f.clock.Add(3 * time.Second)
	if _, st := f.store.Get(t.Context(), []string{arn}, Freshness{MaxAge: 5 * time.Second, Bounded: true}); st.Hits != 1 {
		t.Errorf("max_age 5 s on a 3 s old value: %+v, want a hit", st)
	}
	if _, st := f.store.Get(t.Context(), []string{arn}, Freshness{MaxAge: 2 * time.Second, Bounded: true}); st.Forced != 1 {
		t.Errorf("max_age 2 s on a 3 s old value: %+v, want a forced read", st)
	}
}

// Concurrent forced requests share one read.
func TestFreshForcedReadsShared(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	arn := f.put(t, dbARN, aws.String(dbValue))
	f.get(t, arn)
	f.clock.Add(time.Minute)
	f.sm.ResetCalls()
	f.sm.Inject(smfake.Fault{Latency: 50 * time.Millisecond})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if res, _ := f.store.Get(t.Context(), []string{arn}, forced); res[0].Err != nil {
				t.Error(res[0].Err)
			}
		})
	}
	wg.Wait()
	if n := f.sm.SecretReads(arn); n != 1 {
		t.Errorf("20 concurrent forced requests read the secret %d times, want 1", n)
	}
}

// A forced read that fails is never answered with the cached value,
// which stays for requests without max_age (stale-if-error included).
func TestFreshFailedForcedRead(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithTTL(time.Minute), WithStaleIfError(time.Hour))
	arn := f.put(t, dbARN, aws.String(dbValue))
	f.get(t, arn)
	f.clock.Add(10 * time.Second)
	f.sm.Inject(smfake.Fault{Op: "GetSecretValue", Code: "InternalServiceError"})
	res, st := f.store.Get(t.Context(), []string{arn}, forced)
	if res[0].Err == nil || res[0].Err.Code != answer.UpstreamError || st.Stale != 0 {
		t.Fatalf("failed forced read: %+v, %+v; want UpstreamError and no stale value", res[0], st)
	}
	if res, st := f.store.Get(t.Context(), []string{arn}, Freshness{}); res[0].Err != nil || st.Hits != 1 {
		t.Errorf("without max_age: %+v, %+v; want the cached value", res[0], st)
	}
	f.clock.Add(time.Minute) // past the TTL: the refresh fails, stale-if-error serves
	if res, st := f.store.Get(t.Context(), []string{arn}, Freshness{}); res[0].Err != nil || st.Stale != 1 {
		t.Errorf("expired, refresh failing: %+v, %+v; want the stale value", res[0], st)
	}
	if res, _ := f.store.Get(t.Context(), []string{arn}, forced); res[0].Err == nil {
		t.Error("expired, forced, refresh failing: served the stale value")
	}
}

// A remembered SecretNotFound is a cached answer too: max_age bypasses it.
func TestFreshBypassesNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	arn := "arn:aws:secretsmanager:us-east-1:123456789012:secret:soon-AbCdEf"
	if res, _ := f.store.Get(t.Context(), []string{arn}, Freshness{}); res[0].Err == nil || res[0].Err.Code != answer.SecretNotFound {
		t.Fatalf("%+v, want SecretNotFound", res[0])
	}
	f.put(t, arn, aws.String(dbValue))
	if res, _ := f.store.Get(t.Context(), []string{arn}, Freshness{}); res[0].Err == nil {
		t.Fatal("the remembered SecretNotFound was not served")
	}
	f.clock.Add(DefaultRefreshMinInterval + time.Millisecond)
	if res, _ := f.store.Get(t.Context(), []string{arn}, forced); res[0].Err != nil {
		t.Errorf("max_age 0 after the secret was created: %v", res[0].Err)
	}
}

// Batch reads carry each secret's VersionId too.
func TestVersionIDFromBatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	arns := putN(t, f, "us-east-1", 3)
	res, st := f.store.Get(t.Context(), arns, Freshness{})
	if f.sm.Calls("BatchGetSecretValue") != 1 || st.Calls != 1 {
		t.Fatalf("not one batch: %+v", st)
	}
	seen := map[string]bool{}
	for i, r := range res {
		if r.Err != nil || r.Secret.VersionID == "" || seen[r.Secret.VersionID] {
			t.Errorf("%s: %+v, want a version id of its own", arns[i], r)
			continue
		}
		seen[r.Secret.VersionID] = true
	}
}

// Prefetch reads its secrets (once each, batched) and reports the ones
// it could not read.
func TestPrefetch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	arns := putN(t, f, "us-east-1", 4)
	missing := "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf"
	read, failed := f.store.Prefetch(t.Context(), append(arns, missing, arns[0]))
	if read != 4 || len(failed) != 1 || failed[0].ARN != missing || failed[0].Code != answer.SecretNotFound {
		t.Fatalf("read %d, failed %+v; want 4 and the missing one", read, failed)
	}
	if n := f.sm.Calls(""); n != 1 {
		t.Errorf("%d calls, want 1 batch", n)
	}
	f.sm.ResetCalls()
	if _, st := f.store.Get(t.Context(), arns, Freshness{}); st.Hits != 4 || f.sm.Calls("") != 0 {
		t.Errorf("after prefetch: %+v, %d calls; want all hits", st, f.sm.Calls(""))
	}
}

// max_age only refuses values older than it: a stale value younger than a
// generous max_age still stands in for a refresh that fails transiently.
func TestFreshStaleWithinMaxAge(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithTTL(time.Minute), WithStaleIfError(time.Hour))
	arn := f.put(t, dbARN, aws.String(dbValue))
	f.get(t, arn)
	f.clock.Add(2 * time.Minute) // expired, inside the stale window
	f.sm.Inject(smfake.Fault{Op: "GetSecretValue", Code: "InternalServiceError"})
	if res, st := f.store.Get(t.Context(), []string{arn}, Freshness{MaxAge: time.Hour, Bounded: true}); res[0].Err != nil || st.Stale != 1 {
		t.Errorf("max_age 1 h, value 2 min old, refresh failing: %+v, %+v; want the stale value", res[0], st)
	}
	if res, _ := f.store.Get(t.Context(), []string{arn}, Freshness{MaxAge: time.Minute, Bounded: true}); res[0].Err == nil {
		t.Error("max_age 1 min, value 2 min old, refresh failing: served the stale value")
	}
}

// REFRESH_MIN_INTERVAL bounds forced reads that fail too: within the
// interval after a failed read, forced requests get that failure (same
// code) with no call, requests without max_age keep the cached value, and
// a forced request after the interval reads again.
func TestFreshFailedForcedReadRemembered(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fault string
		code  answer.Code
	}{
		{"InternalServiceError", answer.UpstreamError},
		{"ThrottlingException", answer.Throttled},
		{"AccessDeniedException", answer.AccessDenied},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, WithTTL(time.Minute), WithRefreshMinInterval(time.Second))
			arn := f.put(t, dbARN, aws.String(dbValue))
			f.get(t, arn)
			f.clock.Add(10 * time.Second)
			f.sm.Inject(smfake.Fault{Op: "GetSecretValue", Code: tc.fault})
			f.sm.ResetCalls()
			res, st := f.store.Get(shortContext(t), []string{arn}, forced)
			if res[0].Err == nil || res[0].Err.Code != tc.code || st.Calls != 1 {
				t.Fatalf("failed forced read: %+v, %+v; want %s after 1 call", res[0], st, tc.code)
			}
			first, calls := res[0].Err, f.sm.Calls("")
			for range 5 {
				f.clock.Add(190 * time.Millisecond) // 950 ms in all
				res, st := f.store.Get(t.Context(), []string{arn}, forced)
				if e := res[0].Err; e == nil || e.Code != first.Code || e.Transient != first.Transient || st.Calls != 0 || st.Forced != 0 {
					t.Errorf("forced, within the interval: %+v, %+v; want %s again, no read", res[0], st, tc.code)
				}
			}
			if n := f.sm.Calls(""); n != calls {
				t.Errorf("5 forced requests within the interval: %d calls, want none", n-calls)
			}
			if tc.code != answer.AccessDenied { // a denial evicts the value
				if res, st := f.store.Get(t.Context(), []string{arn}, Freshness{}); res[0].Err != nil || st.Hits != 1 || st.Calls != 0 {
					t.Errorf("without max_age: %+v, %+v; want the cached value", res[0], st)
				}
			}
			f.clock.Add(50 * time.Millisecond) // the interval has passed
			if res, st := f.store.Get(shortContext(t), []string{arn}, forced); res[0].Err == nil || st.Calls != 1 {
				t.Errorf("forced, after the interval: %+v, %+v; want a new read", res[0], st)
			}
			f.sm.ClearFaults()
			f.clock.Add(time.Second)
			if res, st := f.store.Get(t.Context(), []string{arn}, forced); res[0].Err != nil || st.Calls != 1 {
				t.Errorf("forced, once Secrets Manager answers: %+v, %+v; want the value read", res[0], st)
			}
		})
	}
}

// Any failed read starts the interval, forced or not; a request whose
// max_age accepts the stale value still gets it from the remembered
// failure, without a call.
func TestFreshFailedRefreshRemembered(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithTTL(time.Minute), WithStaleIfError(time.Hour))
	arn := f.put(t, dbARN, aws.String(dbValue))
	f.get(t, arn)
	f.clock.Add(2 * time.Minute) // expired, inside the stale window
	f.sm.Inject(smfake.Fault{Op: "GetSecretValue", Code: "InternalServiceError"})
	if res, st := f.store.Get(t.Context(), []string{arn}, Freshness{}); res[0].Err != nil || st.Stale != 1 || st.Calls != 1 {
		t.Fatalf("expired, refresh failing: %+v, %+v; want the stale value after 1 call", res[0], st)
	}
	if res, st := f.store.Get(t.Context(), []string{arn}, forced); res[0].Err == nil || res[0].Err.Code != answer.UpstreamError || st.Calls != 0 {
		t.Errorf("forced, within the interval of the failed refresh: %+v, %+v; want UpstreamError, no call", res[0], st)
	}
	if res, st := f.store.Get(t.Context(), []string{arn}, Freshness{MaxAge: time.Hour, Bounded: true}); res[0].Err != nil || st.Stale != 1 || st.Calls != 0 {
		t.Errorf("max_age 1 h, within the interval: %+v, %+v; want the stale value, no call", res[0], st)
	}
}
