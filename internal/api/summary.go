package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/maskresolver/maskresolver/internal/resolve"
)

// summary collects what one request did, for its one summary log line.
type summary struct {
	status int
	codes  []resolve.Code
	result *resolve.Result
}

func (h *Handler) logSummary(ctx context.Context, r request, s summary, start time.Time) {
	attrs := []slog.Attr{
		slog.String("source", r.source.String()),
		slog.String("route", r.method+" "+r.path),
		slog.Int("status", s.status),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
	}
	if r.caller != "" {
		attrs = append(attrs, slog.String("caller", r.caller))
	}
	if res := s.result; res != nil {
		attrs = append(attrs,
			slog.Bool("dry_run", res.DryRun),
			slog.Int("masks", len(res.Masks)),
			slog.Int("unique_secrets", res.Unique),
			slog.Int("cache_hits", res.Stats.Hits),
			slog.Int("cache_misses", res.Stats.Misses),
			slog.Int("stale_served", res.Stats.Stale),
			slog.Int("secretsmanager_calls", res.Stats.Calls),
		)
	}
	if len(s.codes) > 0 {
		codes := make([]string, len(s.codes))
		for i, c := range s.codes {
			codes[i] = string(c)
		}
		attrs = append(attrs, slog.Any("error_codes", codes))
	}
	h.logger.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
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
