// Package telemetry is everything the function tells its operators, in
// one room: the log lines (log.go: JSON as Lambda writes it, with the
// request id), each request's summary line with its CloudWatch metrics in
// Embedded Metric Format (summary.go, emf.go), and X-Ray tracing
// (trace.go, setup.go). docs/operations.md describes what they carry.
//
// Tracing starts subsegments only when the invocation is traced and
// sampled, so that the rest — unsampled invocations (most of them under
// X-Ray's default sampling), tests, local runs, benchmarks — cost nothing
// and the X-Ray SDK logs nothing. Setup and Start are every use of the
// X-Ray SDK (in maintenance since 2026-02-25, end of support 2027-02-25):
// a move to OpenTelemetry changes this package only.
//
// What it records are counts, codes, paths, keys and ARNs: callers must
// never pass a value read from a secret. It knows the answer's codes
// (internal/answer) and nothing of the request path: the handler fills a
// Summary and the packages below it call Start.
package telemetry
