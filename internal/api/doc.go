// Package api is the function's front door: it takes a Lambda event (API
// Gateway HTTP API payload 2.0, REST API proxy payload 1.0, or a direct
// invocation whose event is the request itself), routes it, enforces the
// request limits, calls the resolver and shapes the answer for the event's
// source. Every response carries the contract's status and headers; a panic
// becomes a generic 500 and never a crashed invocation.
package api
