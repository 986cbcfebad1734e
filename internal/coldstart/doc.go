// Package coldstart holds the benchmarks that run the built binaries: it
// builds the resolver's bootstrap and its baseline functions
// (testdata/echo-sdk initialises the same libraries and echoes;
// testdata/echo-bare is aws-lambda-go alone; testdata/echo-http also
// decodes an HTTP API event and its body and encodes them back), starts
// each against a minimal Lambda Runtime API served in-process, and
// measures the time from process start to the first answer and the
// stripped sizes (BenchmarkColdStart), and warm invocations and peak
// memory (BenchmarkWarm). It has no code of its own beyond its tests.
package coldstart
