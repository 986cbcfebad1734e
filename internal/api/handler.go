package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"
	"unsafe"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/jsonlex"
	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/telemetry"
)

// Route is the one path the function answers.
const Route = "/v1/resolve"

// Defaults and bounds of the handler.
const (
	DefaultMaxBodyBytes = 1 << 20
	// maxReadBudget keeps Secrets Manager reads well inside API Gateway's
	// 30 s integration timeout, whatever the function's own timeout.
	maxReadBudget = 25 * time.Second
	// The share of the invocation's remaining time held back for writing
	// the response, within these bounds.
	minReserve = 100 * time.Millisecond
	maxReserve = time.Second
)

// CallerRules decide whether caller (an IAM principal ARN, or "" for a
// direct invocation) may resolve a secret ARN.
type CallerRules func(caller, secretARN string) bool

// Handler answers Lambda invocations. It implements lambda.Handler, taking
// the raw event so that each source can be told apart and the payload is
// decoded only once.
type Handler struct {
	resolver     *resolve.Resolver
	maxBodyBytes int
	// maxResponseBytes bounds the response, envelope included.
	maxResponseBytes int
	allowlist        resolve.Allow
	callerRules      CallerRules
	logger           *slog.Logger
	namespace        string
	// recorder writes each request's summary line and its metrics.
	recorder *telemetry.Recorder
}

// Option configures a Handler.
type Option func(*Handler)

// WithMaxBodyBytes limits the request body (PayloadTooLarge above it),
// counted after base64 decoding.
func WithMaxBodyBytes(n int) Option { return func(h *Handler) { h.maxBodyBytes = n } }

// WithMaxResponseBytes limits the response, with its API Gateway envelope,
// so that it stays under Lambda's 6 MB response limit (ResponseTooLarge
// above it). Give the resolver the same limit, so that it refuses early.
func WithMaxResponseBytes(n int) Option { return func(h *Handler) { h.maxResponseBytes = n } }

// WithAllowlist sets the secrets any request may resolve, scoped or not
// (SECRET_ARN_ALLOWLIST); nil allows every secret.
func WithAllowlist(a resolve.Allow) Option { return func(h *Handler) { h.allowlist = a } }

// WithCallerRules sets which secrets each caller may resolve in a request
// that names no scope (CALLER_RULES); nil allows every secret. A scoped
// request is not held to them: its scope's callers and secrets stand in
// for them.
func WithCallerRules(c CallerRules) Option { return func(h *Handler) { h.callerRules = c } }

// WithMetricsNamespace sets the CloudWatch namespace of the metrics that
// each request's summary line carries in Embedded Metric Format; "" turns
// them off.
func WithMetricsNamespace(ns string) Option { return func(h *Handler) { h.namespace = ns } }

// WithLogger sets the logger; lines carry paths, keys and ARNs, never values.
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.logger = l } }

// New returns a Handler that resolves requests with r.
func New(r *resolve.Resolver, opts ...Option) *Handler {
	h := &Handler{resolver: r, maxBodyBytes: DefaultMaxBodyBytes, maxResponseBytes: resolve.DefaultMaxResponseBytes,
		logger: slog.New(slog.DiscardHandler), namespace: telemetry.DefaultNamespace}
	for _, o := range opts {
		o(h)
	}
	h.recorder = telemetry.NewRecorder(h.logger, h.namespace)
	return h
}

// source is where an event came from, which decides the response's shape.
type source int

const (
	direct source = iota
	httpAPI
	restAPI
)

func (s source) String() string {
	return [...]string{"direct", "http-api", "rest-api"}[s]
}

// request is an event reduced to what routing and resolving need.
type request struct {
	source source
	method string
	path   string
	caller string
	body   []byte
	// cacheControl is the request's Cache-Control header, "" if none.
	cacheControl string
}

// response is an answer with its status and headers, before it is shaped
// for the event's source.
type response struct {
	status int
	body   []byte
	allow  bool        // a 405 names the allowed method
	code   answer.Code // a request-level error's code, "" otherwise
}

// Invoke handles one event and returns the answer shaped for the event's
// source. Every outcome is an answer, a refusal or a recovered panic (a
// generic 500) included: the error is always nil, and exists because
// lambda.Handler has one.
func (h *Handler) Invoke(ctx context.Context, payload []byte) (out []byte, err error) {
	start := time.Now()
	req := request{source: direct}
	var sum telemetry.Summary
	defer func() {
		if p := recover(); p != nil {
			// The panic value is not logged: it might hold data from the
			// payload or a secret. Its kind and the stack are enough.
			kind := fmt.Sprintf("%T", p)
			if re, ok := p.(runtime.Error); ok {
				kind = re.Error()
			}
			h.logger.ErrorContext(ctx, "recovered panic", "panic", kind, "stack", string(debug.Stack()))
			a := errorResponse(answer.InternalError, "internal error; the detail is in the function's log")
			sum.Codes, sum.Status = []answer.Code{answer.InternalError}, a.status
			out, err = envelop(req.source, a), nil
		}
		sum.Source, sum.Route = req.source.String(), telemetry.Echo(req.method+" "+req.path)
		if req.caller != "" {
			sum.Caller = telemetry.Echo(req.caller)
		}
		h.recorder.Record(ctx, &sum, start)
	}()
	var a response
	req, a = h.parse(payload)
	if a.status == 0 {
		a = h.serve(ctx, req, &sum)
	}
	if len(sum.Codes) == 0 && a.code != "" {
		// Refused before resolving (a route, method, size or event
		// error): the response's own code decided the status.
		sum.Codes = []answer.Code{a.code}
	}
	sum.Status = a.status
	return envelop(req.source, a), nil
}

// serve routes and resolves req inside the "resolve" subsegment, which
// is closed, with the summary's annotations, on every path: a panic too
// (recorded as the 500 Invoke answers with).
func (h *Handler) serve(ctx context.Context, req request, sum *telemetry.Summary) (a response) {
	spanCtx, end := telemetry.Start(ctx, "resolve")
	defer func() {
		if p := recover(); p != nil {
			sum.Codes, sum.Status = []answer.Code{answer.InternalError}, answer.Status(answer.InternalError)
			end(sum.Annotations()...)
			panic(p)
		}
		end(sum.Annotations()...)
	}()
	a = h.route(spanCtx, req, sum)
	if b, refused := limitResponse(req.source, a, h.maxResponseBytes); refused {
		a, sum.Codes = b, []answer.Code{answer.ResponseTooLarge}
	}
	if len(sum.Codes) == 0 && a.code != "" {
		sum.Codes = []answer.Code{a.code}
	}
	sum.Status = a.status
	return a
}

// parse reads an event in one pass. API Gateway events are told from a
// direct invocation by their requestContext; a direct event is the
// request itself.
func (h *Handler) parse(payload []byte) (request, response) {
	if !bytes.Contains(payload, []byte(`"requestContext"`)) {
		return h.readBody(request{source: direct, method: "POST", path: Route}, payload, false)
	}
	ev, err := decodeEvent(payload)
	var syntax *eventSyntaxError
	switch {
	case errors.As(err, &syntax):
		return request{source: direct}, errorResponse(answer.InvalidRequest, "the event is not a JSON object: "+err.Error())
	case err != nil && ev.Version == "2.0":
		// Valid JSON with a member of the wrong type: answer in the
		// shape of the source it claims to be.
		return request{source: httpAPI}, errorResponse(answer.InvalidRequest, "malformed HTTP API event: "+err.Error())
	case err != nil && ev.HTTPMethod != nil:
		return request{source: restAPI}, errorResponse(answer.InvalidRequest, "malformed REST API event: "+err.Error())
	case err != nil:
		return request{source: direct}, errorResponse(answer.InvalidRequest, "malformed event: "+err.Error())
	}
	if ev.Version != "2.0" && ev.HTTPMethod == nil {
		// Neither payload format: the request object itself, which
		// happens to hold a member named requestContext.
		return h.readBody(request{source: direct, method: "POST", path: Route}, payload, false)
	}
	r, body, b64 := ev.request()
	return h.readBody(r, body, b64)
}

// readBody decodes a base64 body and applies MAX_BODY_BYTES, refusing an
// oversized encoded body before decoding it.
func (h *Handler) readBody(r request, body []byte, b64 bool) (request, response) {
	tooLarge := func() response {
		return errorResponse(answer.PayloadTooLarge, "the body is larger than "+strconv.Itoa(h.maxBodyBytes)+" bytes (MAX_BODY_BYTES)")
	}
	if b64 {
		if len(body) > base64.StdEncoding.EncodedLen(h.maxBodyBytes) {
			return r, tooLarge()
		}
		dec := make([]byte, base64.StdEncoding.DecodedLen(len(body)))
		n, err := base64.StdEncoding.Decode(dec, body)
		if err != nil {
			return r, errorResponse(answer.InvalidRequest, "the body is marked base64 but does not decode: "+err.Error())
		}
		body = dec[:n]
	}
	if len(body) > h.maxBodyBytes {
		return r, tooLarge()
	}
	r.body = body
	return r, response{}
}

func (h *Handler) route(ctx context.Context, r request, sum *telemetry.Summary) response {
	if r.path != Route {
		return errorResponse(answer.NotFound, "no route "+strconv.Quote(telemetry.Echo(r.path))+"; the function answers POST "+Route)
	}
	if r.method != "POST" {
		a := errorResponse(answer.MethodNotAllowed, "method "+strconv.Quote(telemetry.Echo(r.method))+" is not allowed on "+Route+"; use POST")
		a.allow = true
		return a
	}
	p := resolve.Params{Allowlist: h.allowlist, Caller: r.caller, Direct: r.source == direct}
	if h.callerRules != nil {
		p.CallerRules = func(arn string) bool { return h.callerRules(r.caller, arn) }
	}
	var err error
	if p.MaxAge, p.MaxAgeSet, err = parseCacheControl(r.cacheControl); err != nil {
		sum.Codes = []answer.Code{answer.InvalidRequest}
		return errorResponse(answer.InvalidRequest, err.Error())
	}
	ctx, cancel := readDeadline(ctx)
	defer cancel()
	res, err := h.resolver.Resolve(ctx, r.body, p)
	if err != nil {
		re, ok := err.(*resolve.RequestError)
		if !ok {
			panic(err) // Resolve returns no other error; reaching here is a bug
		}
		sum.Codes = []answer.Code{re.Code}
		sum.Scope, sum.AssumeRoleCalls = telemetry.Echo(re.Scope), re.AssumeRoleCalls
		return errorResponse(re.Code, re.Message)
	}
	sum.Resolved, sum.DryRun, sum.Masks, sum.Unique = true, res.DryRun, len(res.Masks), res.Unique
	sum.Scope, sum.AssumeRoleCalls = res.Scope, res.AssumeRoleCalls
	st := res.Stats
	sum.Reads = telemetry.Reads{Hits: st.Hits, Misses: st.Misses, Stale: st.Stale, Calls: st.Calls, Throttles: st.Throttles, Forced: st.Forced}
	if res.Failed > 0 {
		sum.Codes = res.Codes()
		h.recorder.MaskFailures(ctx, res.Masks)
		return response{status: answer.Worst(sum.Codes), body: res.AppendJSON(make([]byte, 0, res.Cap()))}
	}
	return response{status: 200, body: res.AppendJSON(make([]byte, 0, res.Cap()))}
}

// readDeadline bounds the reads of one request: the invocation's deadline
// less a reserve for answering, and never more than maxReadBudget.
func readDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	budget := maxReadBudget
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		budget = min(budget, left-min(max(left/10, minReserve), maxReserve))
	}
	return context.WithTimeout(ctx, budget)
}

// errorResponse is the response refusing a request as a whole with c.
func errorResponse(c answer.Code, msg string) response {
	return response{status: answer.Status(c), body: answer.AppendError(make([]byte, 0, 64+len(msg)), c, msg), code: c}
}

// envelop wraps a response for the event's source: the API Gateway proxy
// response object ({"statusCode", "headers", "body"}, the members both
// payload formats read), or the bare body for a direct invocation. The
// envelope is written by hand into one buffer sized from a count of the
// body's quotes and backslashes, with the body escaped straight into it:
// no string copy of the body and no reflection.
func envelop(src source, a response) []byte {
	if src == direct {
		return a.body
	}
	// The body is JSON text: its escapes are nearly all \" and \\ (two
	// fast counts), and append grows the buffer for the rare rest (raw
	// newlines of a pretty-printed payload, U+2028).
	out := make([]byte, 0, envelopeLen(src, a)+len(a.body)+bytes.Count(a.body, []byte{'"'})+bytes.Count(a.body, []byte{'\\'})+len(a.body)/64)
	out = append(out, `{"statusCode":`...)
	out = strconv.AppendInt(out, int64(a.status), 10)
	out = append(out, envelopeHeaders...)
	if a.allow {
		out = append(out, envelopeAllow...)
	}
	out = append(out, envelopeBody...)
	// The body is only read while it is escaped, so a string view of it
	// saves the copy a conversion would make.
	out = jsonlex.AppendEscaped(out, unsafe.String(unsafe.SliceData(a.body), len(a.body)))
	return append(out, envelopeEnd...)
}
