package telemetry

import (
	"context"
	"log/slog"
	"time"

	"github.com/maskresolver/maskresolver/internal/answer"
)

// DefaultNamespace is the CloudWatch namespace of the summary line's
// metrics.
const DefaultNamespace = "maskresolver"

// Summary is what one request did, for its one summary line, its metrics
// and its trace annotations. It holds counts, codes and what the request
// named itself, never a value.
type Summary struct {
	// Source is the kind of event: "direct", "http-api" or "rest-api".
	Source string
	// Route ("METHOD /path") and Caller (an IAM principal ARN, "" for a
	// direct invocation) are logged as given: the caller cuts what it
	// repeats of an event.
	Route, Caller string
	Status        int
	// Codes are the error codes of the request, those of its failed masks
	// or its one request-level code; none on success.
	Codes []answer.Code
	// Resolved is true once the resolver understood the request; DryRun,
	// Masks, Unique and Reads are then its.
	Resolved bool
	DryRun   bool
	// Masks counts the request's masks, Unique the distinct secrets they
	// name.
	Masks, Unique int
	Reads         Reads
	// Scope is the scope the request named ("" for none): its name, or
	// as it was asked for (cut by Echo) when it was refused.
	Scope string
	// AssumeRoleCalls counts the sts:AssumeRole calls the request led.
	AssumeRoleCalls int
}

// Reads are the secret store's counts for one request.
type Reads struct {
	Hits, Misses int
	// Stale counts values served past their time to live because a read
	// failed in a way that may pass.
	Stale int
	// Calls counts the Secrets Manager API calls the request started.
	Calls int
	// Throttles counts throttled replies the reads absorbed by retrying:
	// quota pressure the caller did not see as an error.
	Throttles int
	// Forced counts cached values read again because the request's
	// max_age refused them.
	Forced int
}

// Outcome is the code that decided the status ("OK" on success): the
// first code of the highest status, as the status itself is chosen.
func (s *Summary) Outcome() string {
	best, code := 0, "OK"
	for _, c := range s.Codes {
		if st := answer.Status(c); st > best {
			best, code = st, string(c)
		}
	}
	return code
}

// Annotations are the key, value pairs of the request's "resolve"
// subsegment, for an End.
func (s *Summary) Annotations() []any {
	kv := []any{"outcome", s.Outcome(), "status", s.Status}
	if s.Resolved {
		kv = append(kv, "masks", s.Masks, "unique_secrets", s.Unique,
			"cache_hits", s.Reads.Hits, "cache_misses", s.Reads.Misses,
			"throttles_absorbed", s.Reads.Throttles, "forced_reads", s.Reads.Forced)
	}
	if s.Scope != "" {
		kv = append(kv, "scope", s.Scope, "assume_role_calls", s.AssumeRoleCalls)
	}
	return kv
}

// Recorder writes each request's summary line, with its metrics in
// Embedded Metric Format when it has a namespace.
type Recorder struct {
	logger    *slog.Logger
	namespace string
	emf       emfLists
}

// NewRecorder returns a Recorder logging to l, with metrics in namespace;
// "" turns the metrics off.
func NewRecorder(l *slog.Logger, namespace string) *Recorder {
	return &Recorder{logger: l, namespace: namespace, emf: newEMFLists(namespace)}
}

// Record writes the summary line of a request that started at start.
func (r *Recorder) Record(ctx context.Context, s *Summary, start time.Time) {
	if !r.logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	ms := float64(time.Since(start).Microseconds()) / 1000
	attrs := make([]slog.Attr, 0, 32) // the most an unscoped line holds, with its metrics
	attrs = append(attrs,
		slog.String("source", s.Source),
		slog.String("route", s.Route),
		slog.Int("status", s.Status),
		slog.Float64("duration_ms", ms),
		slog.String("outcome", s.Outcome()),
	)
	if s.Caller != "" {
		attrs = append(attrs, slog.String("caller", s.Caller))
	}
	if s.Scope != "" {
		attrs = append(attrs, slog.String("scope", s.Scope), slog.Int("assume_role_calls", s.AssumeRoleCalls))
	}
	var st Reads
	masks := 0
	if s.Resolved {
		st, masks = s.Reads, s.Masks
		attrs = append(attrs,
			slog.Bool("dry_run", s.DryRun),
			slog.Int("masks", masks),
			slog.Int("unique_secrets", s.Unique),
			slog.Int("cache_hits", st.Hits),
			slog.Int("cache_misses", st.Misses),
			slog.Int("stale_served", st.Stale),
			slog.Int("secretsmanager_calls", st.Calls),
			slog.Int("throttles_absorbed", st.Throttles),
			slog.Int("forced_reads", st.Forced),
		)
	}
	if len(s.Codes) > 0 {
		codes := make([]string, len(s.Codes))
		for i, c := range s.Codes {
			codes[i] = string(c)
		}
		attrs = append(attrs, slog.Any("error_codes", codes))
	}
	if r.namespace != "" {
		attrs = r.appendMetrics(attrs, s, st, masks, ms)
	}
	logInfo(ctx, r.logger, "request", attrs)
}

// MaskFailures logs, at DEBUG, each failing mask by path, key and ARN
// (never a value), with its code and reason, each cut by Echo.
func (r *Recorder) MaskFailures(ctx context.Context, masks []answer.Mask) {
	if !r.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	for _, m := range masks {
		if m.Code != "" {
			r.logger.DebugContext(ctx, "mask failed", "path", Echo(m.Path), "key", Echo(m.Key),
				"secret_arn", Echo(m.ARN), "code", string(m.Code), "reason", Echo(m.Message))
		}
	}
}
