// Package answer is the resolve API's answer in one place: its codes with
// their HTTP statuses (code.go), the writer the function answers with
// (write.go) and the reader clients decode it with (read.go), kept in step
// by a round trip (roundtrip_test.go). docs/api.md describes the answer
// for callers, and a test holds its table of codes to this package's.
//
// It imports the standard library only and sits at the bottom of the
// import graph: secrets, resolve and api import it, and a client (maskctl,
// the load test) that imports it links neither the AWS SDK nor X-Ray.
//
// # Adding a code
//
// A new code is one change, in code.go: a constant named as its text and
// its row (status and level) in the table codes. Status, Worst, the
// writers and the reader then know it; docs/api.md needs its row with the
// same status (internal/doccheck fails until it has one), and a code
// declared anywhere else fails internal/doccheck too.
package answer
