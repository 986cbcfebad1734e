package secrets

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// An Errors entry names the id as it was requested, and only that id: a
// made-up T+"-ZZZZZZ" that is not found says nothing about a real secret
// T of the same batch whose own entry failed transiently. T keeps its
// cached value for other requests and is not remembered as missing.
func TestBatchErrorEntryNamesOnlyItsID(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithStaleIfError(time.Hour))
	real := f.put(t, dbARN, aws.String(dbValue))
	madeUp := real + "-ZZZZZZ"
	f.get(t, real)
	f.clock.Add(2 * DefaultRefreshMinInterval)
	f.sm.Inject(smfake.Fault{Op: "BatchGetSecretValue", SecretID: real, Code: "InternalServiceError"})

	res, _ := f.store.Get(t.Context(), []string{madeUp, real}, forced)
	if e := res[0].Err; e == nil || e.Code != answer.SecretNotFound {
		t.Errorf("made-up id: %+v, want SecretNotFound", res[0])
	}
	if e := res[1].Err; e == nil || e.Code != answer.UpstreamError || !e.Transient {
		t.Errorf("real id: %+v, want its own transient UpstreamError", res[1])
	}
	if f.sm.Calls("BatchGetSecretValue") != 1 {
		t.Fatalf("%d batch calls, want the two ids in one batch", f.sm.Calls("BatchGetSecretValue"))
	}
	if _, ok := f.store.cache.Peek(real); !ok {
		t.Error("the real secret was evicted on the made-up id's account")
	}
	if _, ok := f.store.notFound.Peek(real); ok {
		t.Error("the real secret is remembered as missing on the made-up id's account")
	}

	// Another caller, without max_age, still gets the cached value.
	f.sm.ClearFaults()
	f.sm.ResetCalls()
	if res, st := f.store.Get(t.Context(), []string{real}, Freshness{}); res[0].Err != nil || st.Hits != 1 || f.sm.Calls("") != 0 {
		t.Errorf("without max_age: %+v, %+v, %d calls; want the cached value", res[0].Err, st, f.sm.Calls(""))
	}
}

// A BatchGetSecretValue that fails as a whole with a 4xx says nothing
// about which secret caused it: its secrets are read one at a time, each
// gets its own answer (a deleted one, after DescribeSecret, is
// SecretNotFound), and none is evicted or remembered as missing on
// another's account.
func TestBatchWholeCallClientError(t *testing.T) {
	t.Parallel()
	for _, code := range []string{
		"InvalidParameterException", "InvalidRequestException", "ValidationException",
		"DecryptionFailure", "ResourceNotFoundException",
	} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			arns := putN(t, f, "us-east-1", 2)
			deleted, err := f.sm.Put(smfake.Secret{ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:going", String: aws.String(`{}`), Deleted: true})
			if err != nil {
				t.Fatal(err)
			}
			missing := "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"
			if res, _ := f.store.Get(t.Context(), arns, Freshness{}); res[0].Err != nil || res[1].Err != nil {
				t.Fatalf("warming: %+v", res)
			}
			f.clock.Add(2 * DefaultRefreshMinInterval)
			f.sm.ResetCalls()
			f.sm.Inject(smfake.Fault{Op: "BatchGetSecretValue", Code: code})

			ids := []string{arns[0], arns[1], deleted, missing}
			res, st := f.store.Get(t.Context(), ids, forced)
			want := []answer.Code{"", "", answer.SecretNotFound, answer.SecretNotFound}
			for i, r := range res {
				var got answer.Code
				if r.Err != nil {
					got = r.Err.Code
				}
				if got != want[i] {
					t.Errorf("%s: %q (%v), want %q", ids[i], got, r.Err, want[i])
				}
			}
			if b, g := f.sm.Calls("BatchGetSecretValue"), f.sm.Calls("GetSecretValue"); b != 1 || g != len(ids) || st.Calls != b+g+1 {
				t.Errorf("%d batch + %d single calls, Stats.Calls %d; want 1 + %d, and the DescribeSecret", b, g, st.Calls, len(ids))
			}
			for _, arn := range arns {
				if _, ok := f.store.cache.Peek(arn); !ok {
					t.Errorf("%s evicted", arn)
				}
				if _, ok := f.store.notFound.Peek(arn); ok {
					t.Errorf("%s remembered as missing", arn)
				}
			}

			// The batch is tried again by the next request: the error
			// was one batch's, not the role's.
			f.sm.ClearFaults()
			f.sm.ResetCalls()
			f.clock.Add(2 * DefaultRefreshMinInterval)
			if res, _ := f.store.Get(t.Context(), arns, forced); res[0].Err != nil || res[1].Err != nil || f.sm.Calls("BatchGetSecretValue") != 1 {
				t.Errorf("next forced request: %+v, %d batch calls; want the values from one batch", res, f.sm.Calls("BatchGetSecretValue"))
			}
		})
	}
}
