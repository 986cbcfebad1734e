// Package api is the function's front door, event in and response out: it
// takes a Lambda event (API Gateway HTTP API payload 2.0, REST API proxy
// payload 1.0, or a direct invocation whose event is the request itself),
// routes it, enforces the request limits, calls the resolver and wraps the
// answer (internal/answer) for the event's source. Every answer carries
// its code's status and the headers docs/api.md lists; a panic becomes a
// generic 500 and never a crashed invocation. What a request did goes to
// internal/telemetry as a Summary, which writes the summary line, its
// metrics and the trace annotations.
package api
