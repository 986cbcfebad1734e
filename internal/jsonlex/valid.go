package jsonlex

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// The functions below read text already known to be valid JSON, as the
// secret indexer reads what encoding/json accepted: they find where each
// value ends and never meet an error. On text that is not valid they may
// panic.

// SkipValidString returns the offset after the valid string token that
// starts at b[i].
func SkipValidString(b []byte, i int) int {
	for i++; ; i += 2 { // past a backslash and the byte it escapes
		for unescapedByte[b[i]] {
			i++
		}
		if b[i] == '"' {
			return i + 1
		}
	}
}

// SkipValidValue returns the offset after the valid value that starts at
// b[i]. Objects and arrays are skipped by counting brackets, not by
// recursing.
func SkipValidValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return SkipValidString(b, i)
	case '{', '[':
		depth := 0
		for {
			switch b[i] {
			case '"':
				i = SkipValidString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
	}
	// A number, true, false or null runs to the next delimiter.
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// Text is the string that raw, the inside of a valid string token (quotes
// excluded), stands for, read as encoding/json reads it: escapes decoded,
// and each byte that is not UTF-8 as U+FFFD.
func Text(raw []byte) string {
	if bytes.IndexByte(raw, '\\') >= 0 {
		raw = AppendUnescaped(make([]byte, 0, len(raw)), raw)
	}
	if !utf8.Valid(raw) {
		return ReplaceInvalidUTF8(raw)
	}
	return string(raw)
}

// ReplaceInvalidUTF8 is b with each byte that is not UTF-8 replaced by
// U+FFFD, as encoding/json decodes a string (strings.ToValidUTF8 would
// replace a run of such bytes by one).
// It builds the string in place: no copy of what can be 3 times b.
func ReplaceInvalidUTF8(b []byte) string {
	var out strings.Builder
	out.Grow(len(b) + 8)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		out.WriteRune(r)
		i += n
	}
	return out.String()
}
