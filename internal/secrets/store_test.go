package secrets

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

func TestStoreGetMany(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var arns []string
	for i := range 12 {
		arns = append(arns, f.put(t, fmt.Sprintf("arn:aws:secretsmanager:us-east-1:123456789012:secret:s%02d", i), aws.String(fmt.Sprintf(`{"i":%d}`, i))))
	}
	bin, err := f.sm.Put(smfake.Secret{ARN: binARN, Binary: []byte{0, 1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	missing := "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope"
	plain := f.put(t, "arn:aws:secretsmanager:us-east-1:123456789012:secret:plain", aws.String("not json"))
	arns = append(arns, bin, missing, plain)

	// Warm one so that hits and misses mix.
	f.get(t, arns[3])
	f.sm.ResetCalls()

	res, st := f.store.Get(t.Context(), arns, Freshness{})
	if len(res) != len(arns) {
		t.Fatalf("%d results for %d ARNs", len(res), len(arns))
	}
	for i := range 12 {
		if res[i].Err != nil {
			t.Fatalf("result %d: %v", i, res[i].Err)
		}
		if res[i].Secret.ARN != arns[i] {
			t.Errorf("result %d is for %s, want %s", i, res[i].Secret.ARN, arns[i])
		}
		if v, _ := res[i].Secret.Lookup("i"); v != fmt.Sprint(i) {
			t.Errorf("result %d: i = %q", i, v)
		}
	}
	if s := res[12].Secret; res[12].Err != nil || s.Kind != Binary {
		t.Errorf("binary secret: %+v", res[12])
	}
	if res[13].Err == nil || res[13].Err.Code != answer.SecretNotFound || res[13].Err.ARN != missing {
		t.Errorf("missing secret: %+v", res[13])
	}
	if s := res[14].Secret; res[14].Err != nil || s.Kind != NotObject {
		t.Errorf("non-JSON secret: %+v", res[14])
	}
	// 14 misses in one region: one batch call, no single reads.
	if want := (Stats{Hits: 1, Misses: 14, Calls: 1}); st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
	if n, b := f.sm.Calls("GetSecretValue"), f.sm.Calls("BatchGetSecretValue"); n != 0 || b != 1 {
		t.Errorf("%d GetSecretValue and %d BatchGetSecretValue calls, want 0 and 1", n, b)
	}
	for i, arn := range arns[:13] {
		want := 1
		if i == 3 {
			want = 0 // served from the cache
		}
		if n := f.sm.SecretReads(arn); n != want {
			t.Errorf("%s read %d times, want %d", arn, n, want)
		}
	}
}

// A partial ARN (no random suffix) is read as asked; the Secret carries the
// full ARN Secrets Manager answered with.
func TestStorePartialARN(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	full := f.put(t, dbARN, aws.String(dbValue))
	partial := "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db"
	sec, _ := f.get(t, partial)
	if sec.ARN != full {
		t.Errorf("ARN = %q, want %q", sec.ARN, full)
	}
	if _, st := f.get(t, partial); st.Hits != 1 {
		t.Errorf("second Get of the partial ARN: Stats = %+v, want a hit", st)
	}
}
