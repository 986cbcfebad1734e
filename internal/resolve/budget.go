package resolve

import (
	"fmt"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/mask"
)

// DefaultMaxResponseBytes keeps an answer under Lambda's 6 MB (6,291,456
// bytes) synchronous response limit, API Gateway's proxy envelope
// included, with 4 KiB to spare for the envelope's own members.
const DefaultMaxResponseBytes = 6<<20 - 4<<10

// tooLarge is the request-level refusal of an answer of at least n bytes.
func (r *Resolver) tooLarge(n int, what string) *RequestError {
	return &RequestError{Code: answer.ResponseTooLarge, Message: fmt.Sprintf(
		"%s would make an answer of at least %d bytes, more than %d (MAX_RESPONSE_BYTES)", what, n, r.maxResponseBytes)}
}

// answerLenBound bounds from below the length of the answer once every
// mask has its outcome: the failing entries, or the connection with its
// masks replaced by their values (left as sent on a dry run) and every
// entry.
func answerLenBound(res *Result, conn []byte, holders []holder, matches []mask.Match, values []string) int {
	if res.Failed > 0 {
		return answer.EntriesLen(res.Masks)
	}
	n := answer.ResolvedFrameLen + len(conn) + answer.EntriesLen(res.Masks)
	if res.DryRun {
		return n
	}
	for _, h := range holders {
		for i := h.first; i < h.first+h.n; i++ {
			m := matches[i]
			n += len(values[i]) - (h.rawAt(m.End) - h.rawAt(m.Start))
		}
	}
	return n
}
