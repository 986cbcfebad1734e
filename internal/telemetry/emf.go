package telemetry

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/maskresolver/maskresolver/internal/answer"
)

// The dimension every metric carries, so that alarms can name it.
const serviceDimension, serviceName = "Service", "maskresolver"

// appendMetrics appends the CloudWatch Embedded Metric Format members of the
// summary line: the _aws directive and the metric values as top-level
// members. CloudWatch Logs turns them into metrics when the line is JSON
// (the default log format). Only counts and durations, never a value.
func (r *Recorder) appendMetrics(attrs []slog.Attr, s *Summary, st Reads, masks int, ms float64) []slog.Attr {
	errored, throttled := 0, 0
	if s.Status >= 400 {
		errored = 1
	}
	for _, c := range s.Codes {
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
	n := st.Hits + st.Misses
	if n > 0 {
		attrs = append(attrs, slog.Float64("CacheHitRatio", 100*float64(st.Hits)/float64(n)))
	}
	// Only a scoped request can call STS: its lines carry the count, 0
	// included, and unscoped lines stay as they were.
	scoped := s.Scope != ""
	if scoped {
		attrs = append(attrs, slog.Int("AssumeRoleCalls", s.AssumeRoleCalls))
	}
	if errored == 1 {
		attrs = append(attrs, slog.String("ErrorCode", s.Outcome()), slog.Int("ErrorsByCode", 1))
	}
	return append(attrs, slog.Any("_aws", emfDirective{ts: time.Now().UnixMilli(), metrics: r.emf.pick(n > 0, scoped, errored == 1)}))
}

// emfDirective is the _aws member of a summary line: the timestamp and
// the CloudWatchMetrics list, which NewRecorder builds once for each
// kind of line.
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

// emfLists are the CloudWatchMetrics lists of the summary line, one for
// each kind of line: [hasRatio][scoped][errored], with or without the
// cache hit ratio (only requests that looked a secret up have one), with
// or without AssumeRoleCalls (only scoped requests have it), and with or
// without the ErrorsByCode directive (dimensioned by the code that decided
// a failed request's status).
type emfLists [2][2][2][]byte

// pick is the list for a line with or without a hit ratio, a scope and an
// error.
func (l emfLists) pick(hasRatio, scoped, errored bool) []byte {
	return l[b2i(hasRatio)][b2i(scoped)][b2i(errored)]
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// newEMFLists builds the lists for namespace; they depend on nothing else,
// so each Recorder builds them once.
func newEMFLists(namespace string) (lists emfLists) {
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
		for scoped := range 2 {
			for errored := range 2 {
				ms := slices.Clone(names)
				if ratio == 1 {
					ms = append(ms, metric{"CacheHitRatio", "Percent"})
				}
				if scoped == 1 {
					ms = append(ms, metric{"AssumeRoleCalls", "Count"})
				}
				ds := []directive{{namespace, [][]string{{serviceDimension}}, ms}}
				if errored == 1 {
					ds = append(ds, directive{namespace, [][]string{{serviceDimension, "ErrorCode"}}, []metric{{"ErrorsByCode", "Count"}}})
				}
				b, err := json.Marshal(ds)
				if err != nil {
					panic(err) // strings and slices only: cannot fail
				}
				lists[ratio][scoped][errored] = b
			}
		}
	}
	return lists
}
