package secrets

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// putN seeds n secrets in region and returns their full ARNs.
func putN(t *testing.T, f *fixture, region string, n int) []string {
	t.Helper()
	arns := make([]string, n)
	for i := range n {
		arns[i] = f.put(t, fmt.Sprintf("arn:aws:secretsmanager:%s:123456789012:secret:batch-%s-%03d", region, region, i), aws.String(fmt.Sprintf(`{"i":%d}`, i)))
	}
	return arns
}

// N cold secrets of one region cost exactly ceil(N/20) calls; within the
// TTL, none.
func TestBatchCallCount(t *testing.T) {
	t.Parallel()
	for _, n := range []int{2, 19, 20, 21, 40, 41, 100} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			arns := putN(t, f, "us-east-1", n)
			f.sm.ResetCalls()
			res, st := f.store.Get(t.Context(), arns, Freshness{})
			for i, r := range res {
				if r.Err != nil {
					t.Fatalf("%s: %v", arns[i], r.Err)
				}
				if v, _ := r.Secret.Lookup("i"); v != fmt.Sprint(i) {
					t.Fatalf("result %d holds i=%s", i, v)
				}
			}
			want := (n + maxBatch - 1) / maxBatch
			if got := f.sm.Calls("BatchGetSecretValue"); got != want || f.sm.Calls("") != want || st.Calls != want {
				t.Errorf("%d secrets: %d batch calls, %d in all, Stats.Calls %d; want %d", n, got, f.sm.Calls(""), st.Calls, want)
			}
			f.sm.ResetCalls()
			if _, st := f.store.Get(t.Context(), arns, Freshness{}); f.sm.Calls("") != 0 || st.Hits != n {
				t.Errorf("within the TTL: %d calls, %d hits; want 0 and %d", f.sm.Calls(""), st.Hits, n)
			}
		})
	}
}

// Each region gets its own batch; one secret alone is a GetSecretValue.
func TestBatchPerRegion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	arns := append(putN(t, f, "us-east-1", 3), putN(t, f, "eu-west-1", 25)...)
	arns = append(arns, putN(t, f, "ap-southeast-2", 1)...)
	f.sm.ResetCalls()
	res, st := f.store.Get(t.Context(), arns, Freshness{})
	for i, r := range res {
		if r.Err != nil || r.Secret.ARN != arns[i] {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	if b, g := f.sm.Calls("BatchGetSecretValue"), f.sm.Calls("GetSecretValue"); b != 3 || g != 1 || st.Calls != 4 {
		t.Errorf("%d batch + %d single calls (Stats %d); want 3 + 1", b, g, st.Calls)
	}
}

// The Errors list of a batch maps back to the secrets that failed, with the
// codes of a single read; the others resolve.
func TestBatchErrorsMapBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	arns := putN(t, f, "us-east-1", 4)
	deleted, err := f.sm.Put(smfake.Secret{ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:going", String: aws.String(`{}`), Deleted: true})
	if err != nil {
		t.Fatal(err)
	}
	missing := "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"
	partial := arns[3][:len(arns[3])-7] // the same secret, named without its suffix
	f.sm.Inject(smfake.Fault{Op: "BatchGetSecretValue", SecretID: arns[1], Code: "DecryptionFailure"})
	f.sm.Inject(smfake.Fault{Op: "BatchGetSecretValue", SecretID: arns[2], Code: "AccessDeniedException"})
	ids := []string{arns[0], arns[1], arns[2], partial, deleted, missing}
	res, _ := f.store.Get(t.Context(), ids, Freshness{})
	want := []answer.Code{"", answer.DecryptionFailure, answer.AccessDenied, "", answer.SecretNotFound, answer.SecretNotFound}
	for i, r := range res {
		var got answer.Code
		if r.Err != nil {
			got = r.Err.Code
		}
		if got != want[i] {
			t.Errorf("%s: code %q, want %q (%+v)", ids[i], got, want[i], r.Err)
		}
	}
	if res[3].Err == nil && res[3].Secret.ARN != arns[3] {
		t.Errorf("partial ARN answered with %s", res[3].Secret.ARN)
	}
	if b := f.sm.Calls("BatchGetSecretValue"); b != 1 {
		t.Errorf("%d batch calls, want 1", b)
	}
}

// A role without secretsmanager:BatchGetSecretValue gets single reads, and
// the store stops trying the batch for the rest of its life.
func TestBatchDeniedFallsBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	arns := putN(t, f, "us-east-1", 5)
	f.sm.Inject(smfake.Fault{Op: "BatchGetSecretValue", Code: "AccessDeniedException"})
	res, st := f.store.Get(t.Context(), arns[:3], Freshness{})
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", arns[i], r.Err)
		}
	}
	if b, g := f.sm.Calls("BatchGetSecretValue"), f.sm.Calls("GetSecretValue"); b != 1 || g != 3 || st.Calls != 4 {
		t.Errorf("first request: %d batch + %d single calls (Stats %d); want 1 + 3", b, g, st.Calls)
	}
	f.sm.ResetCalls()
	if res, _ := f.store.Get(t.Context(), arns[3:], Freshness{}); res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("second request: %+v", res)
	}
	if b, g := f.sm.Calls("BatchGetSecretValue"), f.sm.Calls("GetSecretValue"); b != 0 || g != 2 {
		t.Errorf("after the refusal: %d batch + %d single calls; want 0 + 2", b, g)
	}
}

// A throttled batch moves its secrets to GetSecretValue at once, without
// retrying the batch, and the region reads singly until batchPause has
// passed; the throttle counts as absorbed.
func TestBatchThrottledMovesToSingleReads(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	arns := putN(t, f, "us-east-1", 9)
	f.sm.Inject(smfake.Fault{Op: "BatchGetSecretValue", Code: "ThrottlingException", Times: 1})
	res, st := f.store.Get(t.Context(), arns[:3], Freshness{})
	for i, r := range res {
		if r.Err != nil {
			t.Errorf("%s: %v", arns[i], r.Err)
		}
	}
	if b, g := f.sm.Calls("BatchGetSecretValue"), f.sm.Calls("GetSecretValue"); b != 1 || g != 3 || st.Calls != 4 || st.Throttles != 1 {
		t.Errorf("throttled batch: %d batch + %d single calls, Stats %+v; want 1 + 3, 4 calls, 1 throttle", b, g, st)
	}

	f.sm.ResetCalls()
	f.clock.Add(batchPause - time.Millisecond)
	if res, _ := f.store.Get(t.Context(), arns[3:6], Freshness{}); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	if b, g := f.sm.Calls("BatchGetSecretValue"), f.sm.Calls("GetSecretValue"); b != 0 || g != 3 {
		t.Errorf("within the pause: %d batch + %d single calls; want 0 + 3", b, g)
	}

	f.sm.ResetCalls()
	f.clock.Add(time.Millisecond)
	if res, _ := f.store.Get(t.Context(), arns[6:], Freshness{}); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	if b, g := f.sm.Calls("BatchGetSecretValue"), f.sm.Calls("GetSecretValue"); b != 1 || g != 0 {
		t.Errorf("after the pause: %d batch + %d single calls; want 1 + 0", b, g)
	}
}

// A whole batch that fails transiently otherwise fails each of its secrets
// with that class, so stale values can stand in.
func TestBatchWholeCallUnavailable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	arns := putN(t, f, "us-east-1", 3)
	f.sm.Inject(smfake.Fault{Op: "BatchGetSecretValue", Code: "InternalServiceError"})
	res, _ := f.store.Get(t.Context(), arns, Freshness{})
	for i, r := range res {
		if r.Err == nil || r.Err.Code != answer.UpstreamError || !r.Err.Transient {
			t.Errorf("%s: %+v, want a transient UpstreamError", arns[i], r.Err)
		}
	}
}

// Concurrent requests over overlapping sets of cold secrets read each
// secret once in all.
func TestBatchConcurrentOverlap(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	arns := putN(t, f, "us-east-1", 30)
	f.sm.Inject(smfake.Fault{Latency: 30e6}) // 30 ms, so the requests overlap
	f.sm.ResetCalls()
	var wg sync.WaitGroup
	for g := range 50 {
		wg.Go(func() {
			lo := g % 10
			res, _ := f.store.Get(t.Context(), arns[lo:lo+21], Freshness{})
			for _, r := range res {
				if r.Err != nil {
					t.Error(r.Err)
				}
			}
		})
	}
	wg.Wait()
	for _, arn := range arns {
		if n := f.sm.SecretReads(arn); n != 1 {
			t.Errorf("%s read %d times, want 1", arn, n)
		}
	}
}

// Each secret of a batch is cached, and its TTL starts, when it was read:
// after a throttled batch, a quick single read is not held back (nor its
// TTL pushed later) by a slow sibling. The fleet simulation caught values
// outliving rotation + TTL because of that.
func TestBatchValuesCachedWhenRead(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	arns := putN(t, f, "us-east-1", 2)
	f.sm.Inject(smfake.Fault{Op: "BatchGetSecretValue", Code: "ThrottlingException", Times: 1})
	f.sm.Inject(smfake.Fault{Op: "GetSecretValue", SecretID: arns[1], Latency: 700 * time.Millisecond})
	got := make(chan []Result)
	go func() {
		res, _ := f.store.Get(t.Context(), arns, Freshness{})
		got <- res
	}()
	deadline := time.Now().Add(600 * time.Millisecond)
	for {
		_, quick := f.store.cache.Peek(arns[0])
		_, slow := f.store.cache.Peek(arns[1])
		if slow {
			t.Fatal("the slow secret was cached before the quick one")
		}
		if quick {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the quick secret was not cached while its slow sibling was still being read")
		}
		time.Sleep(5 * time.Millisecond)
	}
	f.clock.Add(10 * time.Second)
	for i, r := range <-got {
		if r.Err != nil {
			t.Fatalf("%s: %v", arns[i], r.Err)
		}
	}
	quick, _ := f.store.cache.Peek(arns[0])
	slow, _ := f.store.cache.Peek(arns[1])
	if d := slow.read.Sub(quick.read); d != 10*time.Second {
		t.Errorf("read stamps %v apart, want the 10 s that passed between the two reads", d)
	}
}

// One request may name a secret by its full and by its partial ARN: both
// resolve, from one batch call.
func TestBatchFullAndPartialARN(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	full := f.put(t, "arn:aws:secretsmanager:us-east-1:123456789012:secret:twice", aws.String(`{"k":"v"}`))
	partial := full[:len(full)-7]
	res, st := f.store.Get(t.Context(), []string{full, partial}, Freshness{})
	for i, r := range res {
		if r.Err != nil || r.Secret.ARN != full {
			t.Errorf("id %d: %+v", i, r)
		}
	}
	if st.Calls != 1 {
		t.Errorf("%d calls, want 1", st.Calls)
	}
}
