package secrets

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// BenchmarkFreshness compares a request served from memory with one whose
// max_age 0 forces a read (REFRESH_MIN_INTERVAL 0, so every iteration
// reads), against the double on loopback: the price of asking for a fresh
// value, without network latency.
func BenchmarkFreshness(b *testing.B) {
	for _, tc := range []struct {
		name string
		f    Freshness
	}{
		{"cached", Freshness{}},
		{"forced", Freshness{MaxAge: 0, Bounded: true}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := newFixture(b, WithRefreshMinInterval(0))
			arn := f.put(b, dbARN, aws.String(dbValue))
			f.store.Get(b.Context(), []string{arn}, Freshness{})
			arns := []string{arn}
			b.ReportAllocs()
			for b.Loop() {
				if tc.f.Bounded {
					f.clock.Add(time.Millisecond) // the cached value is older than 0 s
				}
				if res, _ := f.store.Get(b.Context(), arns, tc.f); res[0].Err != nil {
					b.Fatal(res[0].Err)
				}
			}
		})
	}
}
