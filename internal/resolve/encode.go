package resolve

import "github.com/maskresolver/maskresolver/internal/answer"

// AppendJSON appends the answer for a request that was understood: the
// connection and its masks when every mask resolved, else
// MaskResolutionFailed listing every failing mask. internal/answer writes
// both.
func (r *Result) AppendJSON(dst []byte) []byte {
	if r.Failed > 0 {
		return answer.AppendFailed(dst, r.Masks)
	}
	return answer.AppendResolved(dst, r.connection, r.Masks, r.DryRun)
}

// Cap estimates the length of AppendJSON's output, to size its buffer once.
func (r *Result) Cap() int { return answer.Cap(r.connection, r.Masks) }
