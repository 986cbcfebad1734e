package resolve

import "github.com/maskresolver/maskresolver/internal/jsonlex"

// These forward to jsonlex for the event decoder until it imports jsonlex
// itself; they go with that change.

// QuoteByte is jsonlex.QuoteByte.
func QuoteByte(c byte) string { return jsonlex.QuoteByte(c) }

// IsHex4 reports whether the first four bytes of b are hex digits.
func IsHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// ScanNumber is jsonlex.ScanNumber with the problem as text.
func ScanNumber(b []byte, i int) (end int, problem string) {
	end, p := jsonlex.ScanNumber(b, i)
	if p == jsonlex.NoProblem {
		return end, ""
	}
	return end, p.String()
}

// AppendUnescaped is jsonlex.AppendUnescaped.
func AppendUnescaped(dst, raw []byte) []byte { return jsonlex.AppendUnescaped(dst, raw) }

// AppendEscaped is jsonlex.AppendEscaped.
func AppendEscaped(dst []byte, s string) []byte { return jsonlex.AppendEscaped(dst, s) }
