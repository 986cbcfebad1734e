package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/maskresolver/maskresolver/internal/loadreport"
)

type statsClient struct {
	client *http.Client
	url    string
}

func (s *statsClient) get(ctx context.Context) (*loadreport.Stats, error) {
	if s.url == "" {
		return nil, errNoStats
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", s.url, resp.Status)
	}
	var st loadreport.Stats
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&st); err != nil {
		return nil, fmt.Errorf("GET %s: %w", s.url, err)
	}
	return &st, nil
}

// memSample is the resident memory of the devserver's processes at one
// moment of the run.
type memSample struct {
	label string
	at    time.Duration // since the load started
	rss   map[string]proc
}

type proc struct {
	pid int
	kib int64 // VmRSS; -1 when unreadable
}

// sampler reads VmRSS of the devserver and of each function process at the
// start (once every environment has had time to start its function),
// middle and end of the load.
type sampler struct {
	stats *statsClient
	ds    *devserverProc
	mu    sync.Mutex
	taken []memSample
	wg    sync.WaitGroup
	endC  chan struct{}
	begin time.Time
}

func newSampler(st *statsClient, ds *devserverProc) *sampler {
	return &sampler{stats: st, ds: ds, endC: make(chan struct{})}
}

func (s *sampler) start(ctx context.Context, begin time.Time, d time.Duration) {
	if s.stats.url == "" {
		close(s.endC)
		return
	}
	s.begin = begin
	early := min(max(d/10, 500*time.Millisecond), 2*time.Second)
	s.wg.Go(func() {
		for _, p := range []struct {
			label string
			at    time.Duration
		}{{"start", early}, {"middle", d / 2}} {
			select {
			case <-time.After(time.Until(begin.Add(p.at))):
			case <-ctx.Done():
				return
			case <-s.endC:
				return
			}
			s.take(ctx, p.label, time.Since(begin))
		}
	})
}

// wait takes the end sample (the load is over) and waits for the others.
func (s *sampler) wait() {
	select {
	case <-s.endC:
	default:
		close(s.endC)
		s.wg.Wait()
		s.take(context.Background(), "end", time.Since(s.begin))
		return
	}
	s.wg.Wait()
}

func (s *sampler) take(ctx context.Context, label string, at time.Duration) {
	st, err := s.stats.get(ctx)
	if err != nil {
		return
	}
	if s.ds != nil {
		s.ds.lastStats = st
	}
	m := memSample{label: label, at: at, rss: map[string]proc{}}
	m.rss["devserver"] = proc{st.PID, vmRSS(st.PID)}
	for i, e := range st.Environments {
		for j, pid := range e.FunctionPIDs {
			name := fmt.Sprintf("function %d", i+1)
			if j > 0 {
				name += fmt.Sprintf(".%d", j+1)
			}
			m.rss[name] = proc{pid, vmRSS(pid)}
		}
	}
	s.mu.Lock()
	s.taken = append(s.taken, m)
	s.mu.Unlock()
}

func (s *sampler) samples() []memSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.taken)
}

// vmRSS reads a process's resident set size in KiB from /proc.
func vmRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return n
				}
			}
		}
	}
	return -1
}

// result is what a run found.
type result struct {
	cfg          config
	target       string
	mix          *mix
	started      time.Time // the devserver's start: caches can fill from here
	elapsed      time.Duration
	load         *loadResult
	stats        *loadreport.Stats
	memory       []memSample
	devserverErr error
	devserverLog []string
	failures     []string
}

func (r *result) fail(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *result) passed() bool { return len(r.failures) == 0 }

// memoryGrowth is how much a process's RSS may grow from the middle of the
// run to its end: by then the caches are full and the heap at its steady
// size, so growth past this is a leak.
const (
	memoryGrowthShare = 0.25
	memoryGrowthFloor = 8 << 10 // KiB
)

// jitter is the internal/secrets TTL jitter: an entry lives between 90 %
// and 100 % of CACHE_TTL.
const ttlJitter = 0.1

// refreshes is how many times, at most, one environment reads one secret
// over the run: once, then once each time its entry expires, which is no
// sooner than 90 % of CACHE_TTL after the read.
func (r *result) refreshes() int {
	life := time.Duration(float64(r.cfg.cacheTTL) * (1 - ttlJitter))
	return int(r.elapsed/life) + 1
}

func (r *result) check() {
	l := r.load
	if l.interrupted {
		r.fail("the run was interrupted")
	}
	if l.unexplained > 0 {
		r.fail("%d unexplained errors", l.unexplained)
	}
	if l.ok+l.explained+l.unexplained == 0 {
		r.fail("no request completed")
	}
	if r.devserverErr != nil {
		r.fail("%v", r.devserverErr)
	}
	if st := r.stats; st != nil {
		envs := len(st.Environments)
		var inv int64
		for _, e := range st.Environments {
			inv += e.Invocations
		}
		if done := int64(l.ok + l.explained + l.unexplained); inv < done {
			r.fail("the environments report %d invocations for %d answered requests", inv, done)
		}
		if sm := st.SecretsManager; sm != nil && r.mix != nil && r.mix.unique > 0 {
			bound := r.mix.unique*r.refreshes()*envs + sm.AllThrottled()
			if sm.Calls > bound {
				r.fail("%d Secrets Manager calls, more than the bound %d", sm.Calls, bound)
			}
			perSecret := r.refreshes()*envs + sm.AllThrottled()
			for arn, n := range sm.SecretReads {
				if n > perSecret {
					r.fail("secret %s read %d times, more than %d", arn, n, perSecret)
				}
			}
		}
	}
	r.checkMemory()
}

// checkMemory fails a process that grew past memoryGrowth* from the middle
// sample to the end, or was replaced (a function that crashed and
// restarted has another pid).
func (r *result) checkMemory() {
	var mid, end *memSample
	for i := range r.memory {
		switch r.memory[i].label {
		case "middle":
			mid = &r.memory[i]
		case "end":
			end = &r.memory[i]
		}
	}
	if mid == nil || end == nil {
		return
	}
	for name, p := range mid.rss {
		e, ok := end.rss[name]
		switch {
		case !ok:
			r.fail("%s (pid %d) is gone at the end of the run", name, p.pid)
		case e.pid != p.pid:
			r.fail("%s restarted during the run (pid %d, then %d)", name, p.pid, e.pid)
		case p.kib > 0 && e.kib > p.kib+max(int64(float64(p.kib)*memoryGrowthShare), memoryGrowthFloor):
			r.fail("%s grew from %s to %s in the second half of the run", name, mib(p.kib), mib(e.kib))
		}
	}
}

func mib(kib int64) string {
	if kib < 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
}

// latency prints the nearest-rank percentile p of the sorted latencies.
func latency(sorted []time.Duration, p float64) string {
	return fmt.Sprintf("%.1f ms", loadreport.Millis(loadreport.Percentile(sorted, p)))
}

func (r *result) print(w io.Writer) {
	c, l := r.cfg, r.load
	fmt.Fprintf(w, "\nmaskresolver load test: %d clients for %s against %s\n", c.concurrency, c.duration, r.target)
	if c.url == "" {
		fmt.Fprintf(w, "  %d environments, Secrets Manager double with %s latency and %g%% throttling, CACHE_TTL=%s\n",
			c.environments, c.smLatency, c.smThrottlePercent, c.cacheTTL)
	}
	if m := r.mix; m != nil && len(m.secrets) > 0 {
		fmt.Fprintf(w, "  %d secrets (%d from %s, %d generated), %d distinct requests\n",
			len(m.secrets), m.seeded, c.seed, len(m.secrets)-m.seeded, len(m.templates))
	}
	n := len(l.latencies)
	span := l.end.Sub(l.start)
	fmt.Fprintf(w, "\nrequests      %d in %.2f s: %.1f req/s\n", n, span.Seconds(), float64(n)/span.Seconds())
	fmt.Fprintf(w, "latency       p50 %s   p90 %s   p99 %s   max %s\n",
		latency(l.latencies, 50), latency(l.latencies, 90), latency(l.latencies, 99), latency(l.latencies, 100))
	statuses := loadreport.ByKey(l.statuses)
	for i := range statuses {
		if statuses[i].Name == "0" {
			statuses[i].Name = "no answer"
		}
	}
	fmt.Fprintf(w, "statuses      %s\n", loadreport.Line(statuses, "   "))
	fmt.Fprintf(w, "requests by kind  %s\n", loadreport.Line(loadreport.ByKey(l.kinds), "   "))
	fmt.Fprintf(w, "answers       %d as expected (200, or 422 KeyNotFound where asked for), %d explained errors (503 Throttled past the SDK's retries), %d unexplained errors\n",
		l.ok, l.explained, l.unexplained)
	for _, e := range l.examples {
		fmt.Fprintf(w, "  unexplained: %s\n", e)
	}

	if st := r.stats; st != nil {
		inv := make([]loadreport.Count, len(st.Environments))
		for i, e := range st.Environments {
			inv[i] = loadreport.Count{Name: strconv.Itoa(i + 1), N: int(e.Invocations)}
		}
		fmt.Fprintf(w, "invocations   by environment  %s\n", loadreport.Line(inv, "   "))
		if sm := st.SecretsManager; sm != nil {
			var parts []string
			for _, op := range slices.Sorted(maps.Keys(sm.ByOperation)) {
				parts = append(parts, fmt.Sprintf("%s %d", op, sm.ByOperation[op]))
			}
			fmt.Fprintf(w, "Secrets Manager calls  %d (%s), %d of them throttled\n",
				sm.Calls, strings.Join(parts, ", "), sm.AllThrottled())
			if m := r.mix; m != nil && m.unique > 0 {
				envs := len(st.Environments)
				life := time.Duration(float64(c.cacheTTL) * (1 - ttlJitter))
				bound := m.unique*r.refreshes()*envs + sm.AllThrottled()
				verdict := "ok"
				if sm.Calls > bound {
					verdict = "EXCEEDED"
				}
				fmt.Fprintf(w, "  bound         %d secrets × %d reads (⌊%.1f s since start ÷ %s, the TTL less its 10%% jitter⌋ + 1) × %d environments + %d throttled = %d: %s\n",
					m.unique, r.refreshes(), r.elapsed.Seconds(), life, envs, sm.AllThrottled(), bound, verdict)
				most, mostARN, total := 0, "", 0
				for arn, n := range sm.SecretReads {
					total += n
					if n > most || (n == most && arn < mostARN) {
						most, mostARN = n, arn
					}
				}
				fmt.Fprintf(w, "  reads         %d secret reads in all; the most read secret %d times (bound %d × %d = %d): %s\n",
					total, most, r.refreshes(), envs, r.refreshes()*envs, mostARN)
			}
		}
	}
	if len(r.memory) > 0 {
		fmt.Fprintf(w, "memory (VmRSS)")
		for _, s := range r.memory {
			fmt.Fprintf(w, "   %-8s at %4.1f s", s.label, s.at.Seconds())
		}
		fmt.Fprintln(w)
		names := map[string]bool{}
		for _, s := range r.memory {
			for k := range s.rss {
				names[k] = true
			}
		}
		for _, name := range slices.SortedFunc(maps.Keys(names), func(a, b string) int {
			// The devserver first, then the functions in order.
			if (a == "devserver") != (b == "devserver") {
				if a == "devserver" {
					return -1
				}
				return 1
			}
			return strings.Compare(a, b)
		}) {
			fmt.Fprintf(w, "  %-12s", name)
			for _, s := range r.memory {
				p, ok := s.rss[name]
				v := "-"
				if ok {
					v = mib(p.kib)
				}
				fmt.Fprintf(w, "   %17s", v)
			}
			fmt.Fprintln(w)
		}
	}
	for _, line := range r.devserverLog {
		fmt.Fprintln(w, line)
	}
	if r.passed() {
		fmt.Fprintln(w, "\nPASS: no unexplained error, Secrets Manager calls within their bound, memory flat")
		return
	}
	fmt.Fprintln(w, "\nFAIL:")
	for _, f := range r.failures {
		fmt.Fprintln(w, "  "+f)
	}
}
