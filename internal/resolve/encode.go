package resolve

import (
	"strconv"

	"github.com/maskresolver/maskresolver/internal/jsonlex"
)

// AppendJSON appends the response body for a request that was understood:
// {"connection": …, "masks": […]} when every mask resolved, else the error
// object listing every failing mask. No secret value appears in the mask
// list or in any message: values exist only inside connection, and only
// when nothing failed and the request was not a dry run.
func (r *Result) AppendJSON(dst []byte) []byte {
	if r.Failed > 0 {
		dst = append(dst, `{"error":{"code":"MaskResolutionFailed","message":"`...)
		dst = appendInt(dst, r.Failed)
		dst = append(dst, " of "...)
		dst = appendInt(dst, len(r.Masks))
		dst = append(dst, ` masks failed; no value was returned","masks":[`...)
		first := true
		for i := range r.Masks {
			m := &r.Masks[i]
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
	status := "resolved"
	if r.DryRun {
		status = "verified"
	}
	dst = append(dst, `{"connection":`...)
	dst = append(dst, r.connection...)
	dst = append(dst, `,"masks":[`...)
	for i := range r.Masks {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = r.Masks[i].appendJSON(dst, status)
	}
	return append(dst, "]}"...)
}

func (m *MaskResult) appendJSON(dst []byte, status string) []byte {
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
	dst = append(dst, m.Code...)
	dst = append(dst, `","message":"`...)
	dst = jsonlex.AppendEscaped(dst, m.Message)
	return append(dst, `"}`...)
}

// Size estimates the length of AppendJSON's output, to size buffers once.
func (r *Result) Size() int {
	n := len(r.connection) + 64
	for i := range r.Masks {
		m := &r.Masks[i]
		n += len(m.Path) + len(m.Key) + len(m.ARN) + len(m.Message) + len(m.VersionID) + 96
	}
	return n
}

func appendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }
