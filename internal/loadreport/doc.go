// Package loadreport is what the load tools share to measure a run and
// report it: the nearest-rank percentiles of latencies, lines of counts
// ("200: 40 · 503: 2"), and the devserver's GET /stats answer, which the
// devserver writes and cmd/loadtest reads. cmd/loadtest (`make load`) and
// cmd/fleet (`make fleet`) print their reports with it; the function
// itself never imports it.
package loadreport
