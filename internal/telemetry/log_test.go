package telemetry

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// writeJSON's lines are the JSON handler's, byte for byte, for every kind
// and value the summary line can hold; for anything else it declines and
// the handler writes the line.
func TestWriteJSONMatchesSlog(t *testing.T) {
	t.Parallel()
	emf := emfDirective{ts: 1796126400123, metrics: newEMFLists("maskresolver").pick(true, true, true)}
	at := time.Date(2026, 12, 1, 23, 44, 4, 120000000, time.UTC)
	lambdaCtx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "8476a536-e9f4-11e8-9739-2dfe598c3fcd"})
	for _, tt := range []struct {
		name  string
		ctx   context.Context
		at    time.Time
		attrs []slog.Attr
	}{
		{"summary", lambdaCtx, at, []slog.Attr{
			slog.String("source", "http-api"), slog.String("route", "POST /v1/resolve"), slog.Int("status", 200),
			slog.Float64("duration_ms", 0.123), slog.String("outcome", "OK"),
			slog.String("caller", "arn:aws:sts::137149879143:assumed-role/workato-connector/session"),
			slog.Bool("dry_run", false), slog.Int("masks", 5), slog.Int("unique_secrets", 2),
			slog.Any("error_codes", []string{"SecretNotFound", "Throttled"}),
			slog.String(serviceDimension, serviceName), slog.Float64("Duration", 12.5),
			slog.Float64("CacheHitRatio", 100*2.0/3), slog.Any("_aws", emf),
		}},
		{"no request id, local time", context.Background(), at.In(time.FixedZone("X", -7*3600)), []slog.Attr{slog.Int("status", 404)}},
		{"whole second", lambdaCtx, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), nil},
		{"monotonic clock", lambdaCtx, time.Now(), []slog.Attr{slog.Bool("dry_run", true)}},
		{"strings that need escapes", lambdaCtx, at, []slog.Attr{
			slog.String("route", "POST /a\"b\\c\n\r\t\x00\x1f\x7f<>&"),
			slog.String("caller", "é \u2028 \u2029 \xff\xfe 😀"),
			slog.String("key \"quoted\"", "v"),
			slog.Any("error_codes", []string{"a<b", "é\u2028"}),
		}},
		{"floats", lambdaCtx, at, []slog.Attr{
			slog.Float64("a", 0), slog.Float64("b", math.Copysign(0, -1)), slog.Float64("c", 1e-7), slog.Float64("d", 1e-6),
			slog.Float64("e", 123456789.125), slog.Float64("f", 1e20), slog.Float64("g", 1e21), slog.Float64("h", -2.5e-9),
			slog.Float64("i", math.MaxFloat64), slog.Float64("j", math.SmallestNonzeroFloat64),
		}},
		{"ints", lambdaCtx, at, []slog.Attr{slog.Int("a", -1), slog.Int64("b", math.MinInt64), slog.Int64("c", math.MaxInt64)}},
		{"empty list", lambdaCtx, at, []slog.Attr{slog.Any("error_codes", []string{})}},
	} {
		var want bytes.Buffer
		h := NewLogHandler(&want, slog.LevelInfo, "")
		r := slog.NewRecord(tt.at, slog.LevelInfo, "request", 0)
		r.AddAttrs(tt.attrs...)
		if err := h.Handle(tt.ctx, r); err != nil {
			t.Fatal(err)
		}
		got, ok := appendJSONLine(tt.ctx, nil, tt.at, "request", tt.attrs)
		if !ok || string(got) != want.String() {
			t.Errorf("%s: ok %v\ngot  %s\nwant %s", tt.name, ok, got, want.String())
		}
	}
}

// What writeJSON does not write as the handler would, it declines.
func TestWriteJSONDeclines(t *testing.T) {
	t.Parallel()
	for _, a := range []slog.Attr{
		slog.Float64("nan", math.NaN()), slog.Float64("inf", math.Inf(1)),
		slog.Any("codes", []string{"a\bb"}), slog.Any("other", map[string]int{"a": 1}),
		slog.Duration("d", time.Second), slog.Time("t", time.Now()), slog.Uint64("u", 1),
		slog.Group("g", slog.Int("a", 1)), slog.String("time", "x"), slog.String("msg", "x"), slog.String("", "x"),
	} {
		if _, ok := appendJSONLine(context.Background(), nil, time.Now(), "request", []slog.Attr{a}); ok {
			t.Errorf("%v: written by hand", a)
		}
	}
}

// Through the logger: the summary line is written by hand in the JSON
// format, by the handler in the text format and once attributes are
// added, and not at all above INFO.
func TestLogInfoPaths(t *testing.T) {
	t.Parallel()
	attrs := []slog.Attr{slog.Int("status", 200), slog.Float64("duration_ms", 1.5)}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	for _, tt := range []struct {
		name   string
		logger func(*bytes.Buffer) *slog.Logger
		want   string // a part of the line; "" for no line
	}{
		{"json", func(b *bytes.Buffer) *slog.Logger { return slog.New(NewLogHandler(b, slog.LevelInfo, "")) },
			`"level":"INFO","message":"request","status":200,"duration_ms":1.5,"requestId":"req-1"}`},
		{"text", func(b *bytes.Buffer) *slog.Logger { return slog.New(NewLogHandler(b, slog.LevelInfo, "Text")) },
			`level=INFO message=request status=200 duration_ms=1.5 requestId=req-1`},
		{"with attrs", func(b *bytes.Buffer) *slog.Logger {
			return slog.New(NewLogHandler(b, slog.LevelInfo, "")).With("function", "f")
		}, `"message":"request","function":"f","status":200,"duration_ms":1.5,"requestId":"req-1"}`},
		{"warn", func(b *bytes.Buffer) *slog.Logger { return slog.New(NewLogHandler(b, slog.LevelWarn, "")) }, ""},
	} {
		var b bytes.Buffer
		logInfo(ctx, tt.logger(&b), "request", attrs)
		if got := b.String(); tt.want == "" && got != "" || !bytes.Contains(b.Bytes(), []byte(tt.want)) || bytes.Count(b.Bytes(), []byte("\n")) > 1 {
			t.Errorf("%s: %q, want a line with %q", tt.name, got, tt.want)
		}
	}
}
