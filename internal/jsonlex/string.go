package jsonlex

import (
	"unicode/utf16"
	"unicode/utf8"
)

// unescapedASCII marks the ASCII bytes of the grammar's unescaped rule
// (below): those a string holds as they are, in the escaped text and the
// decoded alike. Loops over strings skip runs of them with one table load
// a byte.
var unescapedASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// unescapedByte marks every byte of the unescaped rule, 0x80 and up
// included: what a string token may hold as it is once its UTF-8 is not
// in question (checked apart, or already valid).
var unescapedByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// Flags say what a string token holds.
type Flags uint8

// The flags ScanString reports.
const (
	Escaped  Flags = 1 << iota // at least one escape
	NonASCII                   // a byte of 0x80 or above, whose UTF-8 is unchecked
)

// ScanString moves past the string token that starts at b[i], a '"',
// checking its escapes and that it holds no control character, and returns
// the offset after its closing quote and what it holds. It does not check
// UTF-8; NonASCII says whether there is anything to check. On a problem,
// end is where it is: the backslash of a bad escape, the control
// character, or len(b) when the text ends inside the string.
//
//	string    = '"' *( unescaped / escape ) '"'
//	escape    = '\' ( '"' / '\' / '/' / 'b' / 'f' / 'n' / 'r' / 't' / 'u' 4HEXDIG )
//	unescaped = %x20-21 / %x23-5B / %x5D-FF
func ScanString(b []byte, i int) (end int, f Flags, p Problem) {
	table := &unescapedASCII
	i++
	for {
		for i < len(b) && table[b[i]] {
			i++
		}
		if i >= len(b) {
			return i, f, EndOfInput
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, f, NoProblem
		case c == '\\':
			f |= Escaped
			if i+1 >= len(b) {
				return len(b), f, EndOfInput
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return i, f, BadUnicodeEscape
				}
				i += 6
			default:
				return i, f, BadEscape
			}
		case c < 0x20:
			return i, f, ControlChar
		default:
			// The first byte of 0x80 or above: the rest of the token is
			// skipped with the table that takes them too.
			f |= NonASCII
			table = &unescapedByte
			i++
		}
	}
}

// AppendUnescaped appends to dst the text that raw, the inside of a string
// token ScanString accepted (quotes excluded), stands for. A lone
// surrogate escape becomes U+FFFD, as encoding/json decodes it; bytes that
// are not UTF-8 are copied as they are.
func AppendUnescaped(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		if raw[i] != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		switch raw[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, hex4(raw[i+2:])); r2 != utf8.RuneError {
						dst = utf8.AppendRune(dst, r2)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

// UnescapedOffsets maps each byte that AppendUnescaped decodes from raw to
// the offset in raw of the character or escape it came from, plus len(raw)
// at the end, so that text around a part of the decoded string can be
// copied exactly as sent.
func UnescapedOffsets(raw []byte) []int {
	offs := make([]int, 0, len(raw)+1)
	for i := 0; i < len(raw); {
		if raw[i] != '\\' {
			offs = append(offs, i)
			i++
			continue
		}
		n, w := 1, 2 // decoded bytes, escape width
		if raw[i+1] == 'u' {
			r := hex4(raw[i+2:])
			w = 6
			if utf16.IsSurrogate(r) {
				r = utf8.RuneError
				if i+12 <= len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
					if r2 := utf16.DecodeRune(hex4(raw[i+2:]), hex4(raw[i+8:])); r2 != utf8.RuneError {
						r, w = r2, 12
					}
				}
			}
			n = utf8.RuneLen(r)
		}
		for range n {
			offs = append(offs, i)
		}
		i += w
	}
	return append(offs, len(raw))
}

const hexDigits = "0123456789abcdef"

// AppendEscaped appends s as the inside of a string token (no quotes),
// escaping only what JSON requires plus U+2028 and U+2029, which some
// JavaScript readers take for line ends; each byte that is not UTF-8
// becomes \ufffd.
func AppendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		for i < len(s) && unescapedASCII[s[i]] {
			i++
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == '\u2028' || r == '\u2029' || (r == utf8.RuneError && size == 1) {
				dst = append(dst, s[start:i]...)
				if r == utf8.RuneError {
					dst = append(dst, `\ufffd`...)
				} else {
					dst = append(dst, `\u202`...)
					dst = append(dst, hexDigits[r&0xf])
				}
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	return append(dst, s[start:]...)
}

// EscapedLen is the length of what AppendEscaped appends for b: \" and \\,
// \n \r \t, \u00XX for other control characters, \u2028 and \u2029, and
// \ufffd for a byte that is not UTF-8.
func EscapedLen(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && unescapedASCII[b[j]] {
			j++
		}
		n += j - i
		if i = j; i >= len(b) {
			break
		}
		c := b[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
				n += 2
			default:
				n += 6
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

// isHex4 reports whether the first four bytes of b are hex digits, as the
// four after \u must be.
func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if hexVal(c) < 0 {
			return false
		}
	}
	return true
}

func hexVal(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// hex4 is the value of the four hex digits that start b.
func hex4(b []byte) rune {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}
