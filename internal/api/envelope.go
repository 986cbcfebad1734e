package api

import (
	"strconv"
	"unicode/utf8"

	"github.com/maskresolver/maskresolver/internal/answer"
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
	return envelopeLen(src, a) + escapedLen(a.body)
}

// escapedLen is the length of b escaped as resolve.AppendEscaped escapes
// it: \" and \\, \n \r \t, \u00XX for other control characters, \u2028
// and \u2029, and \ufffd for a byte that is not UTF-8.
func escapedLen(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
				n += 2
			case c < 0x20:
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == '\u2028' || r == '\u2029' || (r == utf8.RuneError && size == 1) {
			n += 6
		} else {
			n += size
		}
		i += size
	}
	return n
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
