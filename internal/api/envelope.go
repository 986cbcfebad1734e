package api

import (
	"strconv"
	"unicode/utf8"

	"github.com/maskresolver/maskresolver/internal/resolve"
)

// envelopeOverhead bounds what API Gateway's proxy response object adds
// around the body: the status, the headers and the member names (a test
// checks it against the real encoding).
const envelopeOverhead = 256

// wireLen is the length of body once shaped for src: as it is for a
// direct invocation; for API Gateway, as the "body" string of the proxy
// response object, which encoding/json writes with \" and \\ escapes and
// with <, > and & as \u003c-style escapes.
func wireLen(src source, body []byte) int {
	if src == direct {
		return len(body)
	}
	n := envelopeOverhead
	for i := 0; i < len(body); {
		c := body[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				n += 2
			case c == '<' || c == '>' || c == '&':
				n += 6
			case c == '\n' || c == '\r' || c == '\t':
				n += 2
			case c < 0x20:
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(body[i:])
		if r == '\u2028' || r == '\u2029' || (r == utf8.RuneError && size == 1) {
			n += 6
		} else {
			n += size
		}
		i += size
	}
	return n
}

// bounded replaces an answer that would exceed max once shaped for src
// with the request-level ResponseTooLarge. The resolver has already
// refused answers whose text alone is too long; this catches the escapes
// the envelope adds, so the function never returns more than Lambda
// accepts.
func bounded(src source, a answer, max int) (answer, bool) {
	n := wireLen(src, a.body)
	if n <= max {
		return a, false
	}
	return errorAnswer(resolve.CodeResponseTooLarge, "the answer would be "+strconv.Itoa(n)+
		" bytes with its envelope, more than "+strconv.Itoa(max)+" (MAX_RESPONSE_BYTES)"), true
}
