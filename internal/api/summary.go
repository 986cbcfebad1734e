package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/secrets"
)

// summary collects what one request did, for its one summary log line,
// its metrics and its trace annotations. It holds counts and codes only.
type summary struct {
	status int
	codes  []answer.Code
	result *resolve.Result
}

// outcome is the code that decided the status ("OK" on success): the
// first code of the highest class, as the status itself is chosen.
func (s *summary) outcome() string {
	best, code := 0, "OK"
	for _, c := range s.codes {
		if st := answer.Status(c); st > best {
			best, code = st, string(c)
		}
	}
	return code
}

func (s *summary) annotations() []any {
	kv := []any{"outcome", s.outcome(), "status", s.status}
	if res := s.result; res != nil {
		kv = append(kv, "masks", len(res.Masks), "unique_secrets", res.Unique,
			"cache_hits", res.Stats.Hits, "cache_misses", res.Stats.Misses,
			"throttles_absorbed", res.Stats.Throttles, "forced_reads", res.Stats.Forced)
	}
	return kv
}

func (h *Handler) logSummary(ctx context.Context, r request, s summary, start time.Time) {
	if !h.logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	ms := float64(time.Since(start).Microseconds()) / 1000
	attrs := make([]slog.Attr, 0, 32) // the most a line holds, with its metrics
	attrs = append(attrs,
		slog.String("source", r.source.String()),
		slog.String("route", echoed(r.method+" "+r.path)),
		slog.Int("status", s.status),
		slog.Float64("duration_ms", ms),
		slog.String("outcome", s.outcome()),
	)
	if r.caller != "" {
		attrs = append(attrs, slog.String("caller", echoed(r.caller)))
	}
	var st secrets.Stats
	masks := 0
	if res := s.result; res != nil {
		st, masks = res.Stats, len(res.Masks)
		attrs = append(attrs,
			slog.Bool("dry_run", res.DryRun),
			slog.Int("masks", masks),
			slog.Int("unique_secrets", res.Unique),
			slog.Int("cache_hits", st.Hits),
			slog.Int("cache_misses", st.Misses),
			slog.Int("stale_served", st.Stale),
			slog.Int("secretsmanager_calls", st.Calls),
			slog.Int("throttles_absorbed", st.Throttles),
			slog.Int("forced_reads", st.Forced),
		)
	}
	if len(s.codes) > 0 {
		codes := make([]string, len(s.codes))
		for i, c := range s.codes {
			codes[i] = string(c)
		}
		attrs = append(attrs, slog.Any("error_codes", codes))
	}
	if h.namespace != "" {
		attrs = h.appendMetrics(attrs, s, st, masks, ms)
	}
	logInfo(ctx, h.logger, "request", attrs)
}

// The dimension every metric carries, so that alarms can name it.
const serviceDimension, serviceName = "Service", "maskresolver"

// appendMetrics appends the CloudWatch Embedded Metric Format members of the
// summary line: the _aws directive and the metric values as top-level
// members. CloudWatch Logs turns them into metrics when the line is JSON
// (the default log format). Only counts and durations, never a value.
func (h *Handler) appendMetrics(attrs []slog.Attr, s summary, st secrets.Stats, masks int, ms float64) []slog.Attr {
	errored, throttled := 0, 0
	if s.status >= 400 {
		errored = 1
	}
	for _, c := range s.codes {
		if c == answer.Throttled {
			throttled = 1
		}
	}
	attrs = append(attrs,
		slog.String(serviceDimension, serviceName),
		slog.Int("Requests", 1),
		slog.Int("Errors", errored),
		slog.Int("Throttled", throttled),
		slog.Int("Masks", masks),
		slog.Int("SecretsRead", st.Misses-st.Stale),
		slog.Int("SecretsManagerCalls", st.Calls),
		// Quota pressure that retries hid from the caller: it rises
		// before Throttled (503s) does.
		slog.Int("ThrottlesAbsorbed", st.Throttles),
		// Cached values read again because a caller's max_age refused them.
		slog.Int("ForcedReads", st.Forced),
		slog.Float64("Duration", ms),
	)
	// The hit ratio exists only for requests that looked a secret up.
	ratio := 0
	if n := st.Hits + st.Misses; n > 0 {
		ratio = 1
		attrs = append(attrs, slog.Float64("CacheHitRatio", 100*float64(st.Hits)/float64(n)))
	}
	if errored == 1 {
		attrs = append(attrs, slog.String("ErrorCode", s.outcome()), slog.Int("ErrorsByCode", 1))
	}
	return append(attrs, slog.Any("_aws", emfDirective{ts: time.Now().UnixMilli(), metrics: h.emf[ratio][errored]}))
}

// emfDirective is the _aws member of a summary line: the timestamp and
// the CloudWatchMetrics list, which New builds once per shape.
type emfDirective struct {
	ts      int64
	metrics []byte
}

func (d emfDirective) MarshalJSON() ([]byte, error) {
	return d.appendJSON(make([]byte, 0, len(d.metrics)+48)), nil
}

func (d emfDirective) appendJSON(b []byte) []byte {
	b = append(b, `{"Timestamp":`...)
	b = strconv.AppendInt(b, d.ts, 10)
	b = append(b, `,"CloudWatchMetrics":`...)
	b = append(b, d.metrics...)
	return append(b, '}')
}

// emfMetrics builds the CloudWatchMetrics lists of the summary line, one
// for each shape: with or without the cache hit ratio (only requests that
// looked a secret up have one), and with or without the ErrorsByCode
// directive (dimensioned by the code that decided a failed request's
// status). They depend only on the namespace, so they are built once.
func emfMetrics(namespace string) (lists [2][2][]byte) {
	type metric struct{ Name, Unit string }
	type directive struct {
		Namespace  string
		Dimensions [][]string
		Metrics    []metric
	}
	names := []metric{
		{"Requests", "Count"}, {"Errors", "Count"}, {"Throttled", "Count"},
		{"Masks", "Count"}, {"SecretsRead", "Count"}, {"SecretsManagerCalls", "Count"},
		{"ThrottlesAbsorbed", "Count"}, {"ForcedReads", "Count"}, {"Duration", "Milliseconds"},
	}
	for ratio := range 2 {
		for errored := range 2 {
			ms := slices.Clone(names)
			if ratio == 1 {
				ms = append(ms, metric{"CacheHitRatio", "Percent"})
			}
			ds := []directive{{namespace, [][]string{{serviceDimension}}, ms}}
			if errored == 1 {
				ds = append(ds, directive{namespace, [][]string{{serviceDimension, "ErrorCode"}}, []metric{{"ErrorsByCode", "Count"}}})
			}
			b, err := json.Marshal(ds)
			if err != nil {
				panic(err) // strings and slices only: cannot fail
			}
			lists[ratio][errored] = b
		}
	}
	return lists
}

// logFailures names each failing mask by path, key and ARN (never a value).
func (h *Handler) logFailures(ctx context.Context, res *resolve.Result) {
	if !h.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	for _, m := range res.Masks {
		if m.Code != "" {
			h.logger.DebugContext(ctx, "mask failed", "path", m.Path, "key", m.Key, "secret_arn", m.ARN, "code", string(m.Code), "reason", m.Message)
		}
	}
}
