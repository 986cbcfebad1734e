// Package xtrace starts AWS X-Ray subsegments for the resolver's phases
// only when the invocation is traced, so that untraced runs (tests, local
// runs, benchmarks) cost nothing and the X-Ray SDK logs nothing.
//
// Annotations are counts and codes; callers must never pass a value read
// from a secret.
package xtrace

import (
	"context"

	"github.com/aws/aws-xray-sdk-go/xray"
)

// End records annotations (key, value pairs) on a subsegment and closes it.
type End func(kv ...any)

func noop(...any) {}

// Start begins a subsegment named name when ctx carries a segment or
// Lambda's trace header, and returns the context to pass on and its End.
func Start(ctx context.Context, name string) (context.Context, End) {
	if xray.GetSegment(ctx) == nil && ctx.Value(xray.LambdaTraceHeaderKey) == nil {
		return ctx, noop
	}
	ctx, seg := xray.BeginSubsegment(ctx, name)
	if seg == nil {
		return ctx, noop
	}
	return ctx, func(kv ...any) {
		for i := 0; i+1 < len(kv); i += 2 {
			if k, ok := kv[i].(string); ok {
				_ = seg.AddAnnotation(k, kv[i+1])
			}
		}
		seg.Close(nil)
	}
}
