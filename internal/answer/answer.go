// Package answer is the resolve API's answer body as clients read it: one
// decoder type for maskctl, the load test and the tests. It has no
// dependency beyond the standard library, so a client that imports it
// does not link the function's handler (X-Ray, the SDK, …).
package answer

import "encoding/json"

// Body is the JSON body of an answer: a success {"connection": …,
// "masks": […]} or a failure {"error": …}. The handler writes bodies
// itself (internal/resolve's AppendJSON); this type is the one decoder.
type Body struct {
	Connection json.RawMessage `json:"connection,omitempty"`
	Masks      []MaskEntry     `json:"masks,omitempty"`
	Error      *ErrorBody      `json:"error,omitempty"`
}

// MaskEntry is an entry of "masks" or of "error.masks".
type MaskEntry struct {
	Path      string `json:"path"`
	Key       string `json:"key,omitempty"`
	SecretARN string `json:"secret_arn,omitempty"`
	// Status is "resolved" or "verified" on a success.
	Status    string `json:"status,omitempty"`
	VersionID string `json:"version_id,omitempty"`
	// Code and Message say why a mask failed.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// ErrorBody is the "error" member of a failed answer; Masks lists every
// failing mask of a MaskResolutionFailed and is empty for a request-level
// error.
type ErrorBody struct {
	Code    string      `json:"code"`
	Message string      `json:"message"`
	Masks   []MaskEntry `json:"masks,omitempty"`
}
