// Package resolve walks a request's JSON payload, finds the masks in its
// string values, asks the secrets store for their values and writes the
// payload back with the values in place.
//
// The walk is a streaming rewrite, not a decode into map[string]any: the
// original bytes are copied through and only the string tokens that hold
// masks are re-encoded. That keeps member order, number literals, unicode
// and escapes exactly as sent, and makes strings without masks cost no more
// than reading them.
package resolve
