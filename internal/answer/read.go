package answer

import "encoding/json"

// Body is an answer as a client reads it: a success {"connection": …,
// "masks": […]} or a failure {"error": …}. It is the one decoder of what
// the writers in write.go write (roundtrip_test.go holds them to it).
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
