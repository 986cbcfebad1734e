package smfake_test

import (
	"math"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

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
