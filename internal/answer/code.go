package answer

// Code names why a mask or a request failed. Every code the function
// answers is a constant below, named as its text, with one row in codes.
type Code string

// Codes of a whole request, answered alone in "error" (see docs/api.md).
const (
	InvalidRequest   Code = "InvalidRequest"
	PayloadTooLarge  Code = "PayloadTooLarge"
	TooManyMasks     Code = "TooManyMasks"
	ResponseTooLarge Code = "ResponseTooLarge"
	NotFound         Code = "NotFound"
	MethodNotAllowed Code = "MethodNotAllowed"
	InternalError    Code = "InternalError"
	// ScopeNotAllowed: the request's scope is unknown, or the caller may
	// not use it.
	ScopeNotAllowed Code = "ScopeNotAllowed"
	// ScopeUnavailable: the scope's role could not be assumed.
	ScopeUnavailable Code = "ScopeUnavailable"
	// MaskResolutionFailed heads the list of the masks that failed; its
	// status is the highest of theirs (Worst).
	MaskResolutionFailed Code = "MaskResolutionFailed"
)

// Codes of one mask, listed in "error.masks" under MaskResolutionFailed;
// Throttled and Timeout also stand alone, for a scope's role (STS).
const (
	InvalidMask       Code = "InvalidMask"
	SecretNotAllowed  Code = "SecretNotAllowed"
	SecretNotKeyValue Code = "SecretNotKeyValue"
	KeyNotFound       Code = "KeyNotFound"
	// The classes of a failed read of a secret.
	SecretNotFound    Code = "SecretNotFound"
	AccessDenied      Code = "AccessDenied"
	DecryptionFailure Code = "DecryptionFailure"
	UpstreamError     Code = "UpstreamError"
	Throttled         Code = "Throttled"
	Timeout           Code = "Timeout"
)

// Level says where a code may stand: alone as a request's error, as a
// mask's entry under MaskResolutionFailed, or both.
type Level uint8

// The levels of a code.
const (
	RequestLevel Level = 1 << iota
	MaskLevel
)

func (l Level) String() string {
	switch l {
	case RequestLevel:
		return "request"
	case MaskLevel:
		return "mask"
	case RequestLevel | MaskLevel:
		return "mask or request"
	}
	return "none"
}

// Row is one code of the answer with its HTTP status and its level.
type Row struct {
	Code   Code
	Status int
	Level  Level
}

// codes is the one table of codes: a code's status is decided here and
// nowhere else, and docs/api.md's table of codes is checked against it.
var codes = [...]Row{
	{InvalidRequest, 400, RequestLevel},
	{PayloadTooLarge, 413, RequestLevel},
	{TooManyMasks, 422, RequestLevel},
	{ResponseTooLarge, 422, RequestLevel},
	{MaskResolutionFailed, 422, RequestLevel},
	{InvalidMask, 422, MaskLevel},
	{SecretNotAllowed, 422, MaskLevel},
	{SecretNotFound, 422, MaskLevel},
	{AccessDenied, 422, MaskLevel},
	{SecretNotKeyValue, 422, MaskLevel},
	{KeyNotFound, 422, MaskLevel},
	{ScopeNotAllowed, 403, RequestLevel},
	{DecryptionFailure, 502, MaskLevel},
	{UpstreamError, 502, MaskLevel},
	{ScopeUnavailable, 502, RequestLevel},
	{Throttled, 503, MaskLevel | RequestLevel},
	{Timeout, 503, MaskLevel | RequestLevel},
	{NotFound, 404, RequestLevel},
	{MethodNotAllowed, 405, RequestLevel},
	{InternalError, 500, RequestLevel},
}

// Codes returns every code the function answers, with its status and
// level, in the order of docs/api.md's table.
func Codes() []Row { return codes[:] }

// Status is the HTTP status of an answer whose error has code c: 500 for
// a code missing from the table, which is a bug.
func Status(c Code) int {
	for i := range codes {
		if codes[i].Code == c {
			return codes[i].Status
		}
	}
	return 500
}

// Worst is the status of a request whose masks failed with codes: the
// highest status wins, so a 5xx outranks a 4xx.
func Worst(codes []Code) int {
	s := 0
	for _, c := range codes {
		s = max(s, Status(c))
	}
	return s
}
