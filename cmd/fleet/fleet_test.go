package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"
)

// The scenarios run through run itself, which sets the process
// environment: these tests must not run in parallel with each other.

// small is a fleet of 8 standing for 1,000, as the default 40 does.
func small(scenarios ...string) config {
	c := defaultConfig()
	c.environments = 8
	c.quotaScale = 0.008
	c.secrets = 15
	c.scenarios = scenarios
	c.timeout = time.Minute
	return c
}

func runJSON(t *testing.T, c config) *Report {
	t.Helper()
	if err := c.complete(); err != nil {
		t.Fatal(err)
	}
	c.json = true
	var out bytes.Buffer
	if _, err := run(context.Background(), c, &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("-json printed no report: %v\n%s", err, out.String())
	}
	if len(rep.Scenarios) != len(c.scenarios) {
		t.Fatalf("got %d scenario reports, want %d", len(rep.Scenarios), len(c.scenarios))
	}
	return &rep
}

func TestStormAnswersEveryRequestAndCountsConsistently(t *testing.T) {
	c := small(scenarioStorm)
	rep := runJSON(t, c)
	s := rep.Scenarios[0]
	demand := c.environments * c.secrets
	if s.Status["200"] != c.environments || s.Requests != c.environments {
		t.Errorf("answers %v of %d requests, want %d × 200", s.Status, s.Requests, c.environments)
	}
	if s.ValuesChecked != demand || s.WrongValues != 0 {
		t.Errorf("values: %d checked, %d wrong; want %d checked, 0 wrong", s.ValuesChecked, s.WrongValues, demand)
	}
	if len(rep.Failures) != 0 {
		t.Errorf("failures: %q", rep.Failures)
	}
	// Every environment's cold batch is sent at once into a bucket of one
	// batch: at least all but one are throttled and read singly.
	if s.Calls["BatchGetSecretValue"] == 0 || s.Calls["GetSecretValue"] == 0 {
		t.Errorf("calls %v: want both batch and single reads", s.Calls)
	}
	throttled := 0
	for _, n := range s.Throttled {
		throttled += n
	}
	if throttled == 0 {
		t.Errorf("throttled %v: the quotas refused nothing", s.Throttled)
	}
	l := s.Log
	if l == nil {
		t.Fatal("no totals from the summary lines")
	}
	// All answers are 200, so every throttle was absorbed, and each
	// secret was read exactly once per environment.
	if l.ThrottlesAbsorbed != throttled {
		t.Errorf("throttles_absorbed %d, the double throttled %d", l.ThrottlesAbsorbed, throttled)
	}
	if l.Requests != c.environments || l.Status["200"] != c.environments {
		t.Errorf("summary lines: %d, statuses %v", l.Requests, l.Status)
	}
	if l.CacheMisses != demand || l.CacheHits != 0 || s.SecretReads != demand {
		t.Errorf("misses %d, hits %d, secret reads %d; want %d, 0, %d", l.CacheMisses, l.CacheHits, s.SecretReads, demand, demand)
	}
	if s.Demand != demand || !(s.IdealSeconds > 0) || !(s.WallOverIdeal > 0) {
		t.Errorf("demand %d, ideal %gs, wall/ideal %g: want %d, > 0, > 0", s.Demand, s.IdealSeconds, s.WallOverIdeal, demand)
	}
	if s.Latency.Max < s.Latency.P99 || s.Latency.P99 < s.Latency.P50 || !(s.Latency.Max > 0) {
		t.Errorf("latency %+v is not ordered", s.Latency)
	}
}

func TestBaselineRunsAndReports(t *testing.T) {
	c := small(scenarioBaseline)
	c.secrets = 5
	rep := runJSON(t, c)
	s := rep.Scenarios[0]
	answered := 0
	for _, n := range s.Status {
		answered += n
	}
	if answered != c.environments || s.Requests != c.environments {
		t.Errorf("answers %v of %d requests, want %d", s.Status, s.Requests, c.environments)
	}
	if s.Calls["BatchGetSecretValue"] != 0 || s.Calls["GetSecretValue"] < s.Status["200"]*c.secrets {
		t.Errorf("calls %v: the naive resolver reads one secret per call, never in batches", s.Calls)
	}
	if s.WrongValues != 0 || s.ValuesChecked != s.Status["200"]*c.secrets {
		t.Errorf("values: %d checked, %d wrong, for %d answers of 200", s.ValuesChecked, s.WrongValues, s.Status["200"])
	}
	if s.Log != nil {
		t.Errorf("the naive resolver writes no summary line, yet the report has %+v", s.Log)
	}
	if s.Demand != c.environments*c.secrets {
		t.Errorf("demand %d, want %d", s.Demand, c.environments*c.secrets)
	}
}

func TestSteadyServesRotatedValuesWithinATTL(t *testing.T) {
	c := small(scenarioSteady)
	c.environments, c.secrets = 4, 5
	// Quotas with room to spare: this checks freshness, not throttling.
	c.quotaScale = 1
	c.ttl = 300 * time.Millisecond
	c.rate = 10
	c.duration = 1200 * time.Millisecond
	rep := runJSON(t, c)
	s := rep.Scenarios[0]
	st := s.Steady
	if st == nil {
		t.Fatal("no steady block")
	}
	if st.WarmupStatus["200"] != c.environments {
		t.Errorf("warm-up answered %v", st.WarmupStatus)
	}
	if s.Requests == 0 || s.Status["200"] != s.Requests || s.WrongValues != 0 {
		t.Errorf("answers %v of %d requests, %d wrong values", s.Status, s.Requests, s.WrongValues)
	}
	if st.Rotated == 0 || st.AnswersAfterBound == 0 {
		t.Errorf("rotated %d secrets, %d answers after the bound: nothing was checked", st.Rotated, st.AnswersAfterBound)
	}
	if st.OldAfterBound != 0 {
		t.Errorf("%d answers carried an old value after rotation+TTL", st.OldAfterBound)
	}
	// Several TTLs pass: every environment refreshed its secrets.
	if s.SecretReads <= c.environments*c.secrets || s.Log.CacheHits == 0 {
		t.Errorf("secret reads %d, cache hits %d: want refreshes beyond %d and warm hits", s.SecretReads, s.Log.CacheHits, c.environments*c.secrets)
	}
	if len(rep.Failures) != 0 {
		t.Errorf("failures: %q", rep.Failures)
	}
}

func TestTextReportNamesEveryScenario(t *testing.T) {
	c := small(scenarioStorm, scenarioBaseline)
	c.secrets = 5
	if err := c.complete(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := run(context.Background(), c, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"fleet: 8 environments at 0.008 ×", "≈ 1000 environments", "storm:", "baseline:", "quota-ideal", "wall/ideal", "BatchGetSecretValue"} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestConfigComplete(t *testing.T) {
	c := defaultConfig()
	if err := c.complete(); err != nil {
		t.Fatal(err)
	}
	if c.quotaScale != 0.04 || c.duration != 7*time.Second {
		t.Errorf("defaults: scale %g, duration %s; want 0.04 (40/1000), 7s (3×2s+1s)", c.quotaScale, c.duration)
	}
	bad := defaultConfig()
	bad.environments, bad.retryMode, bad.scenarios = 0, "legacy", []string{"storm", "storm", "thunder"}
	err := bad.complete()
	if err == nil {
		t.Fatal("a bad configuration was accepted")
	}
	for _, want := range []string{"-environments", "-retry-mode", "named twice", "unknown scenario"} {
		if !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

var _ io.Writer = (*logSink)(nil)
