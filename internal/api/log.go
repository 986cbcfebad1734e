package api

import (
	"context"
	"io"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// NewLogHandler returns the function's slog handler: JSON lines (text when
// AWS_LAMBDA_LOG_FORMAT says Text), Lambda's field names, and the request
// id of the invocation on every line logged with its context.
func NewLogHandler(w io.Writer, level slog.Leveler, format string) slog.Handler {
	o := &slog.HandlerOptions{Level: level, ReplaceAttr: lambdacontext.ReplaceAttr}
	if format == "Text" || format == "TEXT" {
		return requestIDHandler{slog.NewTextHandler(w, o)}
	}
	return requestIDHandler{slog.NewJSONHandler(w, o)}
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
