package loadreport

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{d, 50, 50 * time.Millisecond},
		{d, 90, 90 * time.Millisecond},
		{d, 99, 99 * time.Millisecond},
		{d, 100, 100 * time.Millisecond},
		{d, 0, time.Millisecond},
		// Nearest rank: p50 of two is the first, never a mean of both.
		{[]time.Duration{1, 9}, 50, 1},
		{[]time.Duration{1, 9}, 51, 9},
		{[]time.Duration{7}, 99, 7},
		{nil, 50, 0},
	} {
		if got := Percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("p%g of %d durations = %s, want %s", tc.p, len(tc.sorted), got, tc.want)
		}
	}
}

func TestMillis(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]float64{
		0:                         0,
		1500 * time.Microsecond:   1.5,
		1234567 * time.Nanosecond: 1.234, // to the microsecond
		2 * time.Second:           2000,
	} {
		if got := Millis(d); got != want {
			t.Errorf("Millis(%s) = %g, want %g", d, got, want)
		}
	}
}

func TestCountLines(t *testing.T) {
	t.Parallel()
	statuses := map[int]int{503: 2, 200: 40, 0: 1}
	if got, want := Line(ByKey(statuses), " · "), "0: 1 · 200: 40 · 503: 2"; got != want {
		t.Errorf("ByKey: %q, want %q", got, want)
	}
	codes := map[string]int{"Throttled": 3, "KeyNotFound": 3, "Timeout": 1, "AccessDenied": 9}
	if got, want := Line(Largest(codes), "   "), "AccessDenied: 9   KeyNotFound: 3   Throttled: 3   Timeout: 1"; got != want {
		t.Errorf("Largest: %q, want %q", got, want)
	}
	if got := Line(ByKey(map[string]int{}), " · "); got != "" {
		t.Errorf("no counts: %q", got)
	}
}

// The devserver writes Stats and the load test reads it back: the two
// must agree on every member, and AllThrottled counts both causes.
func TestStatsRoundTrip(t *testing.T) {
	t.Parallel()
	in := Stats{
		PID:          7,
		Environments: []EnvStats{{URL: "http://127.0.0.1:1", EmulatorPID: 8, FunctionPIDs: []int{9}, Invocations: 10}},
		SecretsManager: &SMStats{
			Calls: 12, ByOperation: map[string]int{"GetSecretValue": 12},
			Throttled: 2, ThrottledByOperation: map[string]int{"GetSecretValue": 2},
			QuotaThrottled: 3, QuotaThrottledByOperation: map[string]int{"GetSecretValue": 3},
			SecretReads: map[string]int{"arn:aws:secretsmanager:us-east-1:123456789012:secret:a": 7},
		},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Stats
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n got %+v\nwant %+v", out, in)
	}
	if got := out.SecretsManager.AllThrottled(); got != 5 {
		t.Errorf("AllThrottled = %d, want 5", got)
	}
	// With SECRETS_MANAGER=aws there is no double to count.
	b, _ = json.Marshal(Stats{PID: 1})
	if want := `{"pid":1,"environments":null}`; string(b) != want {
		t.Errorf("without the double: %s, want %s", b, want)
	}
}
