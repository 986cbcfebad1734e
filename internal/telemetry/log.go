package telemetry

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/maskresolver/maskresolver/internal/jsonlex"
)

// NewLogHandler returns the function's slog handler: JSON lines (text when
// AWS_LAMBDA_LOG_FORMAT says Text), Lambda's field names, and the request
// id of the invocation on every line logged with its context.
func NewLogHandler(w io.Writer, level slog.Leveler, format string) slog.Handler {
	o := &slog.HandlerOptions{Level: level, ReplaceAttr: lambdacontext.ReplaceAttr}
	if format == "Text" || format == "TEXT" {
		return requestIDHandler{Handler: slog.NewTextHandler(w, o)}
	}
	lw := &lineWriter{w: w}
	return requestIDHandler{Handler: slog.NewJSONHandler(lw, o), lines: lw}
}

type requestIDHandler struct {
	slog.Handler
	// lines is where the JSON handler writes, and where writeJSON writes
	// the same lines by hand; nil for the text format, and once attrs or
	// groups are added (writeJSON knows none).
	lines *lineWriter
}

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{Handler: h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{Handler: h.Handler.WithGroup(name)}
}

// lineWriter makes each line one Write, whichever of the JSON handler and
// writeJSON wrote it, so that concurrent invocations' lines never mix.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// logInfo logs an INFO record of attrs with the request id of ctx. In the
// JSON format it writes the line by hand, byte for byte as the JSON
// handler would (TestWriteJSONMatchesSlog), for the kinds the summary line
// uses: in a warm invocation the handler's generic path — an attribute
// replacer call per attribute, encoding/json for floats and the EMF
// directive — cost about a tenth of the whole invocation.
func logInfo(ctx context.Context, l *slog.Logger, msg string, attrs []slog.Attr) {
	if !l.Enabled(ctx, slog.LevelInfo) {
		return
	}
	if h, ok := l.Handler().(requestIDHandler); ok && h.lines != nil {
		buf := linePool.Get().(*[]byte)
		defer linePool.Put(buf)
		if line, ok := appendJSONLine(ctx, (*buf)[:0], time.Now(), msg, attrs); ok {
			_, _ = h.lines.Write(line)
			if cap(line) <= maxPooledLine {
				*buf = line
			}
			return
		}
	}
	l.LogAttrs(ctx, slog.LevelInfo, msg, attrs...)
}

// linePool holds line buffers; a summary line is about 1 KB.
var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// maxPooledLine keeps the pool from holding the buffer of an outsized line.
const maxPooledLine = 16 << 10

// appendJSONLine appends the JSON handler's line for an INFO record at t,
// and reports false for an attribute kind it does not write as the
// handler would (the caller then logs through the handler).
func appendJSONLine(ctx context.Context, b []byte, t time.Time, msg string, attrs []slog.Attr) ([]byte, bool) {
	b = append(b, `{"timestamp":"`...)
	b = t.Round(0).AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","message":`...)
	b = appendJSONText(b, msg)
	for _, a := range attrs {
		var ok bool
		if b, ok = appendJSONAttr(b, a); !ok {
			return b, false
		}
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		b = append(b, `,"requestId":`...)
		b = appendJSONText(b, lc.AwsRequestID)
	}
	return append(b, "}\n"...), true
}

func appendJSONAttr(b []byte, a slog.Attr) ([]byte, bool) {
	if a.Key == "" || a.Key == slog.TimeKey || a.Key == slog.MessageKey {
		return b, false // the handler skips or renames these
	}
	b = append(b, ',')
	b = appendJSONText(b, a.Key)
	b = append(b, ':')
	switch v := a.Value; v.Kind() {
	case slog.KindString:
		return appendJSONText(b, v.String()), true
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10), true
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool()), true
	case slog.KindFloat64:
		return appendJSONFloat(b, v.Float64())
	case slog.KindAny:
		switch x := v.Any().(type) {
		case []string:
			b = append(b, '[')
			for i, s := range x {
				for j := 0; j < len(s); j++ {
					if s[j] < 0x20 {
						return b, false // encoding/json escapes \b and \f its own way
					}
				}
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONText(b, s)
			}
			return append(b, ']'), true
		case emfDirective:
			// Compact JSON, as the handler's encoder would leave it.
			return x.appendJSON(b), true
		}
	}
	return b, false
}

// appendJSONText is a JSON string as the handler writes one: the escapes
// of jsonlex.AppendEscaped are the handler's.
func appendJSONText(b []byte, s string) []byte {
	b = append(b, '"')
	b = jsonlex.AppendEscaped(b, s)
	return append(b, '"')
}

// appendJSONFloat formats f as encoding/json does (the handler calls it
// for floats); it has no text for NaN or the infinities.
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}
