package api

import (
	"strconv"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/jsonlex"
)

// The proxy response object's text around the status and the body, as
// shape writes it.
const (
	envelopeHeaders = `,"headers":{"Content-Type":"application/json","Cache-Control":"no-store"`
	envelopeAllow   = `,"Allow":"POST"`
	envelopeBody    = `},"body":"`
	envelopeEnd     = `"}`
)

// envelopeLen is the length of envelop's output for a without its body.
func envelopeLen(src source, a response) int {
	if src == direct {
		return 0
	}
	n := len(`{"statusCode":`) + len(strconv.Itoa(a.status)) + len(envelopeHeaders) + len(envelopeBody) + len(envelopeEnd)
	if a.allow {
		n += len(envelopeAllow)
	}
	return n
}

// envelopedLen is the exact length of envelop's output for a.
func envelopedLen(src source, a response) int {
	if src == direct {
		return len(a.body)
	}
	return envelopeLen(src, a) + jsonlex.EscapedLen(a.body)
}

// limitResponse replaces a response that would exceed max once shaped for src
// with the request-level ResponseTooLarge. The resolver has already
// refused answers whose text alone is too long; this catches the escapes
// the envelope adds, so the function never returns more than Lambda
// accepts.
func limitResponse(src source, a response, max int) (response, bool) {
	// A body's text is JSON, so its escapes at most double it (\" and
	// \\; it holds no raw control character): only a body over half the
	// limit needs counting.
	if envelopeLen(src, a)+2*len(a.body) <= max {
		return a, false
	}
	n := envelopedLen(src, a)
	if n <= max {
		return a, false
	}
	return errorResponse(answer.ResponseTooLarge, "the response would be "+strconv.Itoa(n)+
		" bytes with its envelope, more than "+strconv.Itoa(max)+" (MAX_RESPONSE_BYTES)"), true
}
