package answer

import (
	"strconv"

	"github.com/maskresolver/maskresolver/internal/jsonlex"
)

// Mask is one mask's outcome, as an entry of the answer's masks list.
type Mask struct {
	Path string // RFC 6901 pointer to the string that held the mask
	Key  string
	ARN  string // as written in the mask; empty for an invalid mask
	// VersionID is the VersionId of the value used, on resolved and
	// verified masks.
	VersionID string
	// Code is empty when the mask resolved (or verified, on a dry run).
	Code    Code
	Message string
}

// The writers below append an answer's JSON text to dst by hand, in one
// buffer: the answer is on every request's path, and reflection and a
// string copy per member cost a warm request more than its own work.
// Strings are escaped as jsonlex.AppendEscaped escapes them. No secret
// value appears in a masks list or in a message: values exist only inside
// a connection, and only when nothing failed and the request was not a
// dry run.

// AppendResolved appends the answer of a request whose every mask
// resolved: {"connection": conn, "masks": […]}, conn being JSON text, each
// entry with status "resolved", or "verified" on a dry run (conn is then
// the connection as sent).
func AppendResolved(dst, conn []byte, masks []Mask, dryRun bool) []byte {
	status := "resolved"
	if dryRun {
		status = "verified"
	}
	dst = append(dst, `{"connection":`...)
	dst = append(dst, conn...)
	dst = append(dst, `,"masks":[`...)
	for i := range masks {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = masks[i].appendJSON(dst, status)
	}
	return append(dst, "]}"...)
}

// AppendFailed appends the answer of a request some of whose masks
// failed: MaskResolutionFailed, listing every mask with a Code.
func AppendFailed(dst []byte, masks []Mask) []byte {
	failed := 0
	for i := range masks {
		if masks[i].Code != "" {
			failed++
		}
	}
	dst = append(dst, `{"error":{"code":"`+MaskResolutionFailed+`","message":"`...)
	dst = strconv.AppendInt(dst, int64(failed), 10)
	dst = append(dst, " of "...)
	dst = strconv.AppendInt(dst, int64(len(masks)), 10)
	dst = append(dst, ` masks failed; no value was returned","masks":[`...)
	first := true
	for i := range masks {
		m := &masks[i]
		if m.Code == "" {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = m.appendJSON(dst, "")
	}
	return append(dst, "]}}"...)
}

// AppendError appends the answer of a request refused as a whole:
// {"error": {"code": c, "message": msg}}.
func AppendError(dst []byte, c Code, msg string) []byte {
	dst = append(dst, `{"error":{"code":"`...)
	dst = jsonlex.AppendEscaped(dst, string(c))
	dst = append(dst, `","message":"`...)
	dst = jsonlex.AppendEscaped(dst, msg)
	return append(dst, `"}}`...)
}

// appendJSON appends m as an entry of masks: with status when it is not
// "", else with its code and message.
func (m *Mask) appendJSON(dst []byte, status string) []byte {
	dst = append(dst, `{"path":"`...)
	dst = jsonlex.AppendEscaped(dst, m.Path)
	dst = append(dst, '"')
	if m.Key != "" {
		dst = append(dst, `,"key":"`...)
		dst = jsonlex.AppendEscaped(dst, m.Key)
		dst = append(dst, '"')
	}
	if m.ARN != "" {
		dst = append(dst, `,"secret_arn":"`...)
		dst = jsonlex.AppendEscaped(dst, m.ARN)
		dst = append(dst, '"')
	}
	if status != "" {
		dst = append(dst, `,"status":"`...)
		dst = append(dst, status...)
		if m.VersionID != "" {
			dst = append(dst, `","version_id":"`...)
			dst = jsonlex.AppendEscaped(dst, m.VersionID)
		}
		return append(dst, `"}`...)
	}
	dst = append(dst, `,"code":"`...)
	dst = jsonlex.AppendEscaped(dst, string(m.Code))
	dst = append(dst, `","message":"`...)
	dst = jsonlex.AppendEscaped(dst, m.Message)
	return append(dst, `"}`...)
}

// Cap estimates the length of the answer for conn and masks, to size its
// buffer once: a little over it when nothing needs escaping.
func Cap(conn []byte, masks []Mask) int {
	n := len(conn) + 64
	for i := range masks {
		m := &masks[i]
		n += len(m.Path) + len(m.Key) + len(m.ARN) + len(m.Message) + len(m.VersionID) + 96
	}
	return n
}

// The writers' own text around the strings of an entry of masks, and
// around a resolved answer's connection and list.
const (
	resolvedEntryLen = len(`{"path":"","key":"","secret_arn":"","status":"resolved"},`)
	failedEntryLen   = len(`{"path":"","key":"","secret_arn":"","code":"","message":""},`)
	// ResolvedFrameLen is a resolved answer's length less its connection
	// and its entries.
	ResolvedFrameLen = len(`{"connection":,"masks":[]}`)
)

// EntriesLen bounds from below the length of the masks list of the answer
// for masks: when a mask has failed, the answer lists the masks that
// failed; otherwise it lists every mask. Each entry repeats its string's
// path, which is how a small request could ask for a huge answer.
func EntriesLen(masks []Mask) int {
	failed, all := 0, 0
	for i := range masks {
		m := &masks[i]
		n := len(m.Path) + len(m.Key) + len(m.ARN)
		all += n + resolvedEntryLen
		if m.Code != "" {
			failed += n + len(m.Code) + len(m.Message) + failedEntryLen
		}
	}
	if failed > 0 {
		return failed
	}
	return all
}
