package main

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/maskresolver/maskresolver/internal/smfake"
)

func TestIdealSeconds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		demand int
		q      smfake.Quotas
		want   float64
	}{
		// (1000 − 20·4 − 400) / (20·4 + 400) = 520/480
		{"40 envs × 25 at scale 0.04", 40 * 25, smfake.AccountQuotas(0.04), 520.0 / 480},
		// The same pressure at AWS's quotas: (25000 − 2000 − 10000) / 12000
		{"1000 envs × 25 at AWS's quotas", 1000 * 25, smfake.AccountQuotas(1), 13000.0 / 12000},
		{"within the burst", 480, smfake.AccountQuotas(0.04), 0},
		{"no demand", 0, smfake.AccountQuotas(1), 0},
		{"unmetered", 1e6, smfake.Quotas{}, 0},
		// Two seconds of burst hold twice as much.
		{"longer burst", 2000, smfake.Quotas{Batch: 4, Read: 400, Burst: 2 * time.Second}, (2000 - 960) / 480.0},
		{"single reads only", 1000, smfake.Quotas{Read: 400}, 600 / 400.0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := idealSeconds(tc.demand, tc.q); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("idealSeconds(%d, %+v) = %g, want %g", tc.demand, tc.q, got, tc.want)
			}
		})
	}
	if got := idealSeconds(1000, smfake.AccountQuotas(0.04)); math.Abs(got-1.083) > 0.001 {
		t.Errorf("40×25 at 0.04: %gs, want about 1.08s", got)
	}
}

// The storm's block states its goal in the report's own terms, beside the
// ratio it is read against.
func TestStormReportStatesTheGoal(t *testing.T) {
	r := &Report{Environments: 40, QuotaScale: 0.04, StandsFor: 1000, GOMAXPROCS: 2}
	r.Scenarios = []*ScenarioReport{{
		Name: scenarioStorm, Environments: 40, Status: map[string]int{"200": 40},
		WallSeconds: 1.5, IdealSeconds: 1, WallOverIdeal: 1.5, Demand: 1000,
	}}
	var out strings.Builder
	r.printText(&out)
	want := "wall/ideal 1.50×  (goal: every answer 200, the wall within 3× the quota-ideal)\n"
	if !strings.Contains(out.String(), want) {
		t.Errorf("the storm block lacks %q:\n%s", want, out.String())
	}
	if strings.Contains(out.String(), "§") {
		t.Errorf("the report cites a section of a document instead of stating the goal:\n%s", out.String())
	}
}

func TestLogSinkAddsUpSummaryLines(t *testing.T) {
	s := newLogSink()
	lines := `{"timestamp":"t","level":"INFO","message":"request","status":200,"secretsmanager_calls":3,"throttles_absorbed":2,"cache_hits":1,"cache_misses":4,"stale_served":0,"_aws":{"Timestamp":1}}
{"level":"WARN","message":"secret read failed","secret_arn":"arn:aws:secretsmanager:us-east-1:1:secret:x","code":"UpstreamError","error":"operation error Secrets Manager: GetSecretValue, https response error StatusCode: 0, RequestID: , request send failed, Post \"http://127.0.0.1:41234/\": dial tcp 127.0.0.1:41234: socket: too many open files"}
{"level":"INFO","message":"request","status":503,"secretsmanager_calls":1,"throttles_absorbed":5,"cache_hits":0,"cache_misses":2,"stale_served":1}
{"level":"INFO","message":"something else"}
`
	// slog writes one line per Write; several in one Write count alike.
	split := newLogSink()
	for l := range strings.SplitAfterSeq(lines, "\n") {
		if _, err := split.Write([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Write([]byte(lines)); err != nil {
		t.Fatal(err)
	}
	if a, b := split.totals(), s.totals(); !reflect.DeepEqual(a, b) {
		t.Errorf("line by line %+v, all at once %+v", a, b)
	}
	got := s.totals()
	if got.Requests != 2 || got.Status["200"] != 1 || got.Status["503"] != 1 || got.SMCalls != 4 ||
		got.ThrottlesAbsorbed != 7 || got.CacheHits != 1 || got.CacheMisses != 6 || got.StaleServed != 1 {
		t.Errorf("totals %+v", got)
	}
	if got.ReadFailures["UpstreamError"] != 1 || got.OpenFileErrors != 1 {
		t.Errorf("failures %v, open-file errors %d", got.ReadFailures, got.OpenFileErrors)
	}
	if want := "dial tcp N.N.N.N:N: socket: too many open files"; got.FailureCauses[want] != 1 {
		t.Errorf("causes %v, want %q", got.FailureCauses, want)
	}
}
