package secrets

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

func TestStoreCache(t *testing.T) {
	t.Parallel()
	const ttl = time.Minute
	f := newFixture(t, WithTTL(ttl))
	f.put(t, dbARN, aws.String(dbValue))

	sec, st := f.get(t, dbARN)
	if v, ok := sec.Lookup("password"); !ok || v != "hunter2" {
		t.Fatalf("Lookup(password) = %q, %v", v, ok)
	}
	if want := (Stats{Misses: 1, Calls: 1}); st != want {
		t.Errorf("first Get: Stats = %+v, want %+v", st, want)
	}
	if n := f.sm.Calls("GetSecretValue"); n != 1 {
		t.Fatalf("after a miss: %d GetSecretValue calls, want 1", n)
	}

	// Expiry is jittered down by at most a tenth of the TTL: just before
	// nine tenths every read is a hit, from the full TTL on a miss.
	for _, step := range []time.Duration{ttl * 3 / 10, ttl * 3 / 10, ttl*3/10 - time.Nanosecond} {
		f.clock.Add(step)
		got, st := f.get(t, dbARN)
		if got != sec {
			t.Error("a hit returned a different *Secret")
		}
		if want := (Stats{Hits: 1}); st != want {
			t.Errorf("Get within TTL: Stats = %+v, want %+v", st, want)
		}
	}
	if n := f.sm.Calls("GetSecretValue"); n != 1 {
		t.Fatalf("hits within TTL made calls: %d GetSecretValue calls, want 1", n)
	}

	f.clock.Add(ttl/10 + time.Nanosecond)
	if _, st := f.get(t, dbARN); st != (Stats{Misses: 1, Calls: 1}) {
		t.Errorf("Get after TTL: Stats = %+v, want one miss and one call", st)
	}
	if n := f.sm.SecretReads(dbARN); n != 2 {
		t.Errorf("after TTL: %d reads, want 2", n)
	}
	if _, st := f.get(t, dbARN); st != (Stats{Hits: 1}) {
		t.Errorf("Get after refresh: Stats = %+v, want a hit", st)
	}
}

// The TTL works on the wall clock too, not only on the test clock.
func TestStoreTTLWallClock(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithTTL(50*time.Millisecond), withClock(time.Now))
	f.put(t, dbARN, aws.String(dbValue))
	f.get(t, dbARN)
	f.get(t, dbARN)
	if n := f.sm.SecretReads(dbARN); n != 1 {
		t.Fatalf("%d reads before the TTL passed, want 1", n)
	}
	time.Sleep(60 * time.Millisecond)
	f.get(t, dbARN)
	if n := f.sm.SecretReads(dbARN); n != 2 {
		t.Errorf("%d reads after the TTL passed, want 2", n)
	}
}

// A zero TTL (CACHE_TTL=0) reads every time.
func TestStoreZeroTTL(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithTTL(0))
	f.put(t, dbARN, aws.String(dbValue))
	for range 3 {
		f.get(t, dbARN)
	}
	if n := f.sm.SecretReads(dbARN); n != 3 {
		t.Errorf("%d reads, want 3", n)
	}
}

func TestStoreLRU(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithMaxEntries(2))
	a := f.put(t, "arn:aws:secretsmanager:us-east-1:123456789012:secret:a-AAAAAA", aws.String(`{"k":"a"}`))
	b := f.put(t, "arn:aws:secretsmanager:us-east-1:123456789012:secret:b-BBBBBB", aws.String(`{"k":"b"}`))
	c := f.put(t, "arn:aws:secretsmanager:us-east-1:123456789012:secret:c-CCCCCC", aws.String(`{"k":"c"}`))

	f.get(t, a)
	f.get(t, b)
	f.get(t, a) // a is now more recently used than b
	f.get(t, c) // evicts b
	if _, st := f.get(t, a); st.Hits != 1 {
		t.Errorf("touched entry was evicted: Stats = %+v", st)
	}
	sec, st := f.get(t, b)
	if st.Misses != 1 {
		t.Errorf("least recently used entry was kept: Stats = %+v", st)
	}
	if v, _ := sec.Lookup("k"); v != "b" {
		t.Errorf("re-read b: k = %q", v)
	}
	for arn, want := range map[string]int{a: 1, b: 2, c: 1} {
		if n := f.sm.SecretReads(arn); n != want {
			t.Errorf("%s: %d reads, want %d", arn, n, want)
		}
	}
}

func TestNewRejectsEmptyCache(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, -1} {
		if _, err := New(testConfig("http://127.0.0.1:1"), WithMaxEntries(n)); err == nil {
			t.Errorf("New(WithMaxEntries(%d)): no error", n)
		}
	}
}

// SecretNotFound is remembered for the not-found TTL, so a caller that
// repeats made-up ARNs costs no calls; then the secret is read again (and
// found, if it was created meanwhile). Other failures are not remembered,
// and remembered misses do not push real secrets out of the cache.
func TestStoreNotFoundCached(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithMaxEntries(2), WithNotFoundTTL(5*time.Second))
	real := []string{f.put(t, dbARN, aws.String(dbValue)), f.put(t, "arn:aws:secretsmanager:us-east-1:123456789012:secret:other", aws.String(dbValue))}
	var madeUp []string
	for i := range 100 {
		madeUp = append(madeUp, fmt.Sprintf("arn:aws:secretsmanager:us-east-1:123456789012:secret:made-up-%03d-AbCdEf", i))
	}
	f.store.Get(t.Context(), real, Freshness{})
	f.sm.ResetCalls()
	res, st := f.store.Get(t.Context(), madeUp, Freshness{})
	if res[0].Err == nil || res[0].Err.Code != answer.SecretNotFound || st.Calls != 5 {
		t.Fatalf("made-up ARNs: %+v, %+v; want SecretNotFound in 5 batch calls", res[0], st)
	}
	f.clock.Add(4 * time.Second)
	res, st = f.store.Get(t.Context(), madeUp, Freshness{})
	if res[99].Err == nil || res[99].Err.Code != answer.SecretNotFound || st.Calls != 0 || st.Hits != 100 || f.sm.Calls("") != 5 {
		t.Errorf("within the TTL: %+v, %+v, %d calls; want SecretNotFound from memory", res[99], st, f.sm.Calls(""))
	}
	if _, st := f.store.Get(t.Context(), real, Freshness{}); st.Hits != 2 {
		t.Errorf("the real secrets were pushed out of the cache: %+v", st)
	}

	// Created meanwhile: found once the TTL has passed.
	created := f.put(t, madeUp[7], aws.String(dbValue))
	f.clock.Add(time.Second)
	res, _ = f.store.Get(t.Context(), []string{madeUp[7]}, Freshness{})
	if res[0].Err != nil || res[0].Secret.ARN != created {
		t.Errorf("after the TTL: %+v, want the secret created meanwhile", res[0])
	}

	// AccessDenied is never remembered: the next request asks again.
	denied := "arn:aws:secretsmanager:us-east-1:123456789012:secret:denied-AbCdEf"
	f.sm.Inject(smfake.Fault{Op: "GetSecretValue", SecretID: denied, Code: "AccessDeniedException", Times: 1})
	f.put(t, denied, aws.String(dbValue))
	if res, _ := f.store.Get(t.Context(), []string{denied}, Freshness{}); res[0].Err == nil || res[0].Err.Code != answer.AccessDenied {
		t.Fatalf("%+v, want AccessDenied", res[0])
	}
	if res, _ := f.store.Get(t.Context(), []string{denied}, Freshness{}); res[0].Err != nil {
		t.Errorf("after AccessDenied: %+v, want a fresh read", res[0].Err)
	}
}
