package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maskresolver/maskresolver/internal/loadreport"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// maxBatch is BatchGetSecretValue's limit of secret ids per call: a batch
// read is worth this many single reads against the quotas.
const maxBatch = 20

// The Secrets Manager operations the double counts and meters.
var operations = []string{"BatchGetSecretValue", "GetSecretValue", "DescribeSecret"}

// idealSeconds is the least time quotas q allow for demand secret reads
// that all arrive at once: both buckets start full (a burst of batches of
// maxBatch and a burst of single reads), and after that the quotas refill
// at maxBatch·Batch + Read reads a second. Unmetered quotas need no time.
//
//	ideal = max(0, (D − maxBatch·Bb − Br) / (maxBatch·Rb + Rr))
func idealSeconds(demand int, q smfake.Quotas) float64 {
	rate := maxBatch*q.Batch + q.Read
	if !(rate > 0) {
		return 0
	}
	burst := q.Burst.Seconds()
	if burst <= 0 {
		burst = 1 // the double's default burst
	}
	return max(0, (float64(demand)-maxBatch*q.Batch*burst-q.Read*burst)/rate)
}

// setIdeal sets the quota-ideal time of the scenario's demand and how far
// the wall time is from it.
func (s *ScenarioReport) setIdeal(q smfake.Quotas) {
	s.IdealSeconds = idealSeconds(s.Demand, q)
	s.WallOverIdeal = 0
	if s.IdealSeconds > 0 {
		s.WallOverIdeal = s.WallSeconds / s.IdealSeconds
	}
}

// stormGoal is how far from the quota-ideal a cold storm should end. A
// deploy makes every environment cold at once, and the storm must turn
// into latency, not errors: 1,000 environments each naming 25 cold secrets
// are 25,000 reads against quotas that serve about 12,000 a second, an
// ideal near 1 s, and all should have answered 200 within 3 s. The report
// shows the goal beside the ratio; only a wrong value or an answer other
// than 200 fails the run.
const stormGoal = 3.0

// Report is what a run found; -json prints it as it is.
type Report struct {
	Environments      int               `json:"environments"`
	QuotaScale        float64           `json:"quota_scale"`
	StandsFor         float64           `json:"stands_for_environments"`
	Quotas            quotaReport       `json:"quotas"`
	SecretsPerRequest int               `json:"secrets_per_request"`
	GOMAXPROCS        int               `json:"gomaxprocs"`
	RetryMode         string            `json:"retry_mode"`
	OpenFilesLimit    uint64            `json:"open_files_limit"`
	OpenFilesNote     string            `json:"open_files_note,omitempty"`
	Scenarios         []*ScenarioReport `json:"scenarios"`
	// AcceptErrors counts the double's failures to accept a connection
	// (the process out of file descriptors): the machine, not the quotas.
	AcceptErrors int      `json:"accept_errors"`
	Failures     []string `json:"failures"`
}

type quotaReport struct {
	BatchPerSecond float64 `json:"batch_per_second"`
	ReadPerSecond  float64 `json:"read_per_second"`
	BurstSeconds   float64 `json:"burst_seconds"`
}

// ScenarioReport is one scenario's block.
type ScenarioReport struct {
	Name         string `json:"name"`
	Environments int    `json:"environments"`
	// BuildSeconds is how long building the environments took, before
	// anything was sent; it is not in the wall time.
	BuildSeconds float64 `json:"build_seconds"`
	Requests     int     `json:"requests"`
	// Status counts answers by HTTP status; ErrorCodes counts failed
	// answers by the codes they carry.
	Status       map[string]int `json:"status"`
	ErrorCodes   map[string]int `json:"error_codes,omitempty"`
	InvokeErrors int            `json:"invoke_errors,omitempty"`
	// Calls and Throttled are the double's counts by operation; Throttled
	// calls are in Calls too.
	Calls     map[string]int `json:"calls"`
	Throttled map[string]int `json:"throttled"`
	// SecretReads is how many secret values the double looked up, in
	// single reads and batch entries; throttled calls read nothing.
	SecretReads int `json:"secret_reads"`
	// Log is what the summary lines said; the baseline writes none.
	Log            *logTotals    `json:"log,omitempty"`
	Latency        latencyReport `json:"latency_ms"`
	WallSeconds    float64       `json:"wall_seconds"`
	Demand         int           `json:"demand"`
	IdealSeconds   float64       `json:"ideal_seconds"`
	WallOverIdeal  float64       `json:"wall_over_ideal,omitempty"` // 0 when the ideal is 0
	CPUCores       float64       `json:"cpu_cores"`
	ValuesChecked  int           `json:"values_checked"` // steady: with the warm-up's
	WrongValues    int           `json:"wrong_values"`
	OpenFileErrors int           `json:"open_file_errors,omitempty"`
	Steady         *steadyReport `json:"steady,omitempty"`
}

type latencyReport struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// steadyReport is what only the steady scenario measures.
type steadyReport struct {
	TTLSeconds      float64 `json:"ttl_seconds"`
	Rate            float64 `json:"rate_per_environment"`
	DurationSeconds float64 `json:"duration_seconds"`
	// The warm-up is the cold start before the traffic, counted apart.
	WarmupStatus      map[string]int `json:"warmup_status"`
	WarmupWallSeconds float64        `json:"warmup_wall_seconds"`
	Rotated           int            `json:"rotated"`
	// Times are from the start of the traffic.
	RotationSeconds float64 `json:"rotation_seconds"`
	SlackSeconds    float64 `json:"slack_seconds"`
	BoundSeconds    float64 `json:"bound_seconds"`
	// Answers to requests sent after the bound, and those of them that
	// still carried an old value: none may, since a cached value lives at
	// most one CACHE_TTL.
	AnswersAfterBound int `json:"answers_after_bound"`
	OldAfterBound     int `json:"old_after_bound"`
	// Old values served to requests sent after the rotation, and the
	// latest such request, from the rotation.
	OldAfterRotation     int     `json:"old_after_rotation"`
	LastOldAfterRotation float64 `json:"last_old_after_rotation_seconds"`
	ReadsPerSecond       float64 `json:"reads_per_second"`
	ExpectedPerSecond    float64 `json:"expected_reads_per_second"`
	QuotaReadsPerSecond  float64 `json:"quota_reads_per_second"`
	SkippedTicks         int     `json:"skipped_ticks"`
}

// tally adds up the answers of one scenario's environments.
type tally struct {
	status         map[string]int
	codes          map[string]int
	invokeErrors   int
	openFileErrors int
	lat            []time.Duration
	checked, wrong int
}

func newTally() *tally { return &tally{status: map[string]int{}, codes: map[string]int{}} }

func statusKey(s int) string { return strconv.Itoa(s) }

func (t *tally) add(a answer, d time.Duration) {
	t.lat = append(t.lat, d)
	if transportErr(a.err) {
		t.openFileErrors++
	}
	if a.status == 0 {
		t.invokeErrors++
		t.status["error"]++
		return
	}
	t.status[statusKey(a.status)]++
	for _, c := range a.codes {
		t.codes[c]++
	}
}

func (t *tally) merge(o *tally) {
	for k, v := range o.status {
		t.status[k] += v
	}
	for k, v := range o.codes {
		t.codes[k] += v
	}
	t.invokeErrors += o.invokeErrors
	t.openFileErrors += o.openFileErrors
	t.lat = append(t.lat, o.lat...)
	t.checked += o.checked
	t.wrong += o.wrong
}

// fill copies the tally into r.
func (t *tally) fill(r *ScenarioReport) {
	r.Requests = len(t.lat)
	r.Status = maps.Clone(t.status)
	r.ErrorCodes = maps.Clone(t.codes)
	r.InvokeErrors = t.invokeErrors
	r.OpenFileErrors = t.openFileErrors
	r.ValuesChecked, r.WrongValues = t.checked, t.wrong
	lat := slices.Clone(t.lat)
	slices.Sort(lat)
	r.Latency = latencyReport{
		P50: loadreport.Millis(loadreport.Percentile(lat, 50)),
		P99: loadreport.Millis(loadreport.Percentile(lat, 99)),
		Max: loadreport.Millis(loadreport.Percentile(lat, 100)),
	}
}

// printText writes the report as the readable blocks `make fleet` shows.
func (r *Report) printText(w io.Writer) {
	fmt.Fprintf(w, "fleet: %d environments at %g × AWS's Secrets Manager quotas (BatchGetSecretValue %s/s, GetSecretValue+DescribeSecret %s/s, %gs burst)\n",
		r.Environments, r.QuotaScale, num(r.Quotas.BatchPerSecond), num(r.Quotas.ReadPerSecond), r.Quotas.BurstSeconds)
	fmt.Fprintf(w, "       ≈ %s environments at AWS's quotas; %d secrets per request; GOMAXPROCS %d; AWS_RETRY_MODE %s; open files %d\n",
		num(r.StandsFor), r.SecretsPerRequest, r.GOMAXPROCS, r.RetryMode, r.OpenFilesLimit)
	if r.OpenFilesNote != "" {
		fmt.Fprintf(w, "       %s\n", r.OpenFilesNote)
	}
	for _, s := range r.Scenarios {
		fmt.Fprintln(w)
		s.printText(w, r)
	}
	if r.AcceptErrors > 0 {
		fmt.Fprintf(w, "\nthe double failed to accept %d connections (out of file descriptors): the machine, not the quotas, refused them\n", r.AcceptErrors)
	}
	fmt.Fprintln(w)
	if len(r.Failures) == 0 {
		fmt.Fprintln(w, "PASS: every answer was right; storm and steady answered 200 only")
		return
	}
	for _, f := range r.Failures {
		fmt.Fprintln(w, "FAIL:", f)
	}
}

func (s *ScenarioReport) printText(w io.Writer, r *Report) {
	switch s.Name {
	case scenarioStorm:
		fmt.Fprintf(w, "storm: %d cold environments, one first request each naming %d cold secrets, sent together\n", s.Environments, r.SecretsPerRequest)
	case scenarioBaseline:
		fmt.Fprintf(w, "baseline: the same storm through a naive resolver (SDK client with its default retryer, no cache, no batching, one GetSecretValue per mask in turn)\n")
	case scenarioSteady:
		st := s.Steady
		fmt.Fprintf(w, "steady: %d warm environments, CACHE_TTL %s, %g requests/s each for %s; %d secrets rotated at +%.2fs\n",
			s.Environments, seconds(st.TTLSeconds), st.Rate, seconds(st.DurationSeconds), st.Rotated, st.RotationSeconds)
		fmt.Fprintf(w, "  warm-up    %s in %.3fs (the cold start, not counted below)\n", statusLine(st.WarmupStatus), st.WarmupWallSeconds)
	}
	answers := statusLine(s.Status)
	if len(s.ErrorCodes) > 0 {
		answers += "  (codes: " + countsLine(s.ErrorCodes) + ")"
	}
	fmt.Fprintf(w, "  answers    %s\n", answers)
	calls := make([]string, 0, len(operations))
	for _, op := range operations {
		calls = append(calls, fmt.Sprintf("%s %d (throttled %d)", op, s.Calls[op], s.Throttled[op]))
	}
	fmt.Fprintf(w, "  calls      %s\n", strings.Join(calls, " · "))
	if l := s.Log; l != nil {
		fmt.Fprintf(w, "  absorbed   throttles_absorbed %d in %d summary lines (secretsmanager_calls %d, cache misses %d, hits %d, stale served %d)\n",
			l.ThrottlesAbsorbed, l.Requests, l.SMCalls, l.CacheMisses, l.CacheHits, l.StaleServed)
		if len(l.ReadFailures) > 0 {
			fmt.Fprintf(w, "  failures   secret reads failed: %s\n", countsLine(l.ReadFailures))
			causes := loadreport.Largest(l.FailureCauses)
			for _, c := range causes[:min(len(causes), 3)] {
				fmt.Fprintf(w, "             %d× %s\n", c.N, c.Name)
			}
		}
	} else {
		fmt.Fprintf(w, "  absorbed   - (the naive resolver writes no summary line)\n")
	}
	fmt.Fprintf(w, "  latency    p50 %s · p99 %s · max %s\n", msText(s.Latency.P50), msText(s.Latency.P99), msText(s.Latency.Max))
	ratio := "-"
	if s.WallOverIdeal > 0 {
		ratio = fmt.Sprintf("%.2f×", s.WallOverIdeal)
	}
	goal := ""
	if s.Name == scenarioStorm {
		goal = fmt.Sprintf("  (goal: every answer 200, the wall within %g× the quota-ideal)", stormGoal)
	}
	fmt.Fprintf(w, "  wall       %.3fs · quota-ideal %.3fs for %d secret reads · wall/ideal %s%s\n", s.WallSeconds, s.IdealSeconds, s.Demand, ratio, goal)
	if st := s.Steady; st != nil {
		fmt.Fprintf(w, "  refresh    %d secret reads = %.0f/s; expected E×S/TTL = %.0f/s (%.2f×); the quotas serve up to %.0f reads/s\n",
			s.SecretReads, st.ReadsPerSecond, st.ExpectedPerSecond, st.ReadsPerSecond/st.ExpectedPerSecond, st.QuotaReadsPerSecond)
		fmt.Fprintf(w, "  rotation   %d answers to requests sent after rotation+TTL+%s (+%.2fs): %d carried an old value; %d old values after the rotation, the last to a request sent at rotation+%.3fs\n",
			st.AnswersAfterBound, seconds(st.SlackSeconds), st.BoundSeconds, st.OldAfterBound, st.OldAfterRotation, st.LastOldAfterRotation)
		if st.SkippedTicks > 0 {
			fmt.Fprintf(w, "  pacing     %d ticks skipped because the previous request was still running\n", st.SkippedTicks)
		}
	}
	served := 0
	calls0 := 0
	for _, op := range operations {
		served += s.Calls[op] - s.Throttled[op]
		calls0 += s.Calls[op]
	}
	if s.WallSeconds > 0 {
		fmt.Fprintf(w, "  machine    %d environments built in %.2fs beforehand · CPU %.2f of %d cores · the double answered %.0f calls/s, %.0f/s within quota, %.0f secret reads/s (the quotas allow %s reads/s)\n",
			s.Environments, s.BuildSeconds, s.CPUCores, r.GOMAXPROCS, float64(calls0)/s.WallSeconds, float64(served)/s.WallSeconds, float64(s.SecretReads)/s.WallSeconds,
			num(maxBatch*r.Quotas.BatchPerSecond+r.Quotas.ReadPerSecond))
	}
	fmt.Fprintf(w, "  values     %d checked, %d wrong", s.ValuesChecked, s.WrongValues)
	if s.OpenFileErrors > 0 || (s.Log != nil && s.Log.OpenFileErrors > 0) {
		n := s.OpenFileErrors
		if s.Log != nil {
			n += s.Log.OpenFileErrors
		}
		fmt.Fprintf(w, " · %d reads failed for want of file descriptors", n)
	}
	fmt.Fprintln(w)
}

// statusLine is "200: 40 · 503: 2", statuses in order.
func statusLine(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	return loadreport.Line(loadreport.ByKey(m), " · ")
}

// countsLine lists m's counts, largest first.
func countsLine(m map[string]int) string { return loadreport.Line(loadreport.Largest(m), " · ") }

// num prints a rate or count without a needless fraction.
func num(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 4, 64)
}

// msText prints milliseconds as ms below a second and as seconds above.
func msText(ms float64) string {
	if ms < 1000 {
		return fmt.Sprintf("%.1fms", ms)
	}
	return fmt.Sprintf("%.3fs", ms/1000)
}

func seconds(s float64) string { return time.Duration(s * float64(time.Second)).String() }
