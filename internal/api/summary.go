package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/secrets"
)

// summary collects what one request did, for its one summary log line,
// its metrics and its trace annotations. It holds counts and codes only.
type summary struct {
	status int
	codes  []resolve.Code
	result *resolve.Result
}

// outcome is the code that decided the status ("OK" on success): the
// first code of the highest class, as the status itself is chosen.
func (s *summary) outcome() string {
	best, code := 0, "OK"
	for _, c := range s.codes {
		if st := status(c); st > best {
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
	ms := float64(time.Since(start).Microseconds()) / 1000
	attrs := []slog.Attr{
		slog.String("source", r.source.String()),
		slog.String("route", r.method+" "+r.path),
		slog.Int("status", s.status),
		slog.Float64("duration_ms", ms),
		slog.String("outcome", s.outcome()),
	}
	if r.caller != "" {
		attrs = append(attrs, slog.String("caller", r.caller))
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
		attrs = append(attrs, h.metrics(s, st, masks, ms)...)
	}
	h.logger.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
}

// The dimension every metric carries, so that alarms can name it.
const serviceDimension, serviceName = "Service", "maskresolver"

// metrics returns the CloudWatch Embedded Metric Format members of the
// summary line: the _aws directive and the metric values as top-level
// members. CloudWatch Logs turns them into metrics when the line is JSON
// (the default log format). Only counts and durations, never a value.
func (h *Handler) metrics(s summary, st secrets.Stats, masks int, ms float64) []slog.Attr {
	errored, throttled := 0, 0
	if s.status >= 400 {
		errored = 1
	}
	for _, c := range s.codes {
		if c == resolve.Code(secrets.CodeThrottled) {
			throttled = 1
		}
	}
	metric := func(name, unit string) map[string]string { return map[string]string{"Name": name, "Unit": unit} }
	names := []map[string]string{
		metric("Requests", "Count"), metric("Errors", "Count"), metric("Throttled", "Count"),
		metric("Masks", "Count"), metric("SecretsRead", "Count"), metric("SecretsManagerCalls", "Count"),
		metric("ThrottlesAbsorbed", "Count"), metric("ForcedReads", "Count"), metric("Duration", "Milliseconds"),
	}
	attrs := []slog.Attr{
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
	}
	// The hit ratio exists only for requests that looked a secret up.
	if n := st.Hits + st.Misses; n > 0 {
		names = append(names, metric("CacheHitRatio", "Percent"))
		attrs = append(attrs, slog.Float64("CacheHitRatio", 100*float64(st.Hits)/float64(n)))
	}
	directives := []map[string]any{{
		"Namespace":  h.namespace,
		"Dimensions": [][]string{{serviceDimension}},
		"Metrics":    names,
	}}
	if errored == 1 {
		// Errors by code: one more directive, dimensioned by the code that
		// decided the status.
		directives = append(directives, map[string]any{
			"Namespace":  h.namespace,
			"Dimensions": [][]string{{serviceDimension, "ErrorCode"}},
			"Metrics":    []map[string]string{metric("ErrorsByCode", "Count")},
		})
		attrs = append(attrs, slog.String("ErrorCode", s.outcome()), slog.Int("ErrorsByCode", 1))
	}
	return append(attrs, slog.Any("_aws", map[string]any{
		"Timestamp":         time.Now().UnixMilli(),
		"CloudWatchMetrics": directives,
	}))
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
