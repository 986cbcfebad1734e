package resolve

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/maskresolver/maskresolver/internal/mask"
)

var prefix = []byte(mask.Prefix)

// syntaxError is a request that is not the JSON the contract asks for.
type syntaxError struct {
	offset int
	msg    string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at offset %d", e.msg, e.offset) }

// tooManyMasks stops the scan as soon as the limit is passed.
type tooManyMasks struct{ limit int }

func (e *tooManyMasks) Error() string {
	return fmt.Sprintf("the payload holds more than %d masks (MAX_MASKS)", e.limit)
}

// holder is a string token of the payload that holds at least one mask.
type holder struct {
	start, end int    // the token in the body, quotes included
	value      string // the decoded string
	// offs maps each byte of value to the offset, in the token's text, of
	// the character or escape that produced it, plus one final entry; nil
	// when the token has no escape and the two are the same.
	offs     []int
	path     string // RFC 6901 pointer to it
	first, n int    // its matches in scanner.matches
}

// rawAt maps an offset in value to the offset in the token's text.
func (h *holder) rawAt(i int) int {
	if h.offs == nil {
		return i
	}
	return h.offs[i]
}

// seg is one step of the path to the value being scanned: an object
// member name (raw token bytes, unescaped only if a pointer is needed) or
// an array index.
type seg struct {
	key   []byte
	esc   bool
	index int
	array bool
}

// scanner validates a JSON value (RFC 8259, UTF-8) and records the strings
// that hold masks. It never builds a tree: positions into buf are all it
// keeps, and pointers are built only for strings that hold masks.
type scanner struct {
	// maxAge is the request's "max_age" member, when maxAgeSet.
	maxAge    time.Duration
	maxAgeSet bool

	buf      []byte
	pos      int
	maxDepth int
	maxMasks int
	// maxString bounds a string token's length in the body, quotes
	// excluded; 0 means no bound.
	maxString int
	path      []seg
	holders   []holder
	matches   []mask.Match
	tmp       []byte
}

func (s *scanner) errorf(format string, args ...any) error {
	return &syntaxError{offset: s.pos, msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.buf) {
		switch s.buf[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value scans one JSON value at nesting depth d (a scalar inside d
// containers); entering a container makes it d+1, which must stay within
// maxDepth.
func (s *scanner) value(d int) error {
	s.skipSpace()
	if s.pos >= len(s.buf) {
		return s.errorf("unexpected end of JSON")
	}
	switch c := s.buf[s.pos]; {
	case c == '{':
		if d+1 > s.maxDepth {
			return s.errorf("nesting deeper than MAX_DEPTH (%d) at %s", s.maxDepth, s.pointer())
		}
		return s.object(d + 1)
	case c == '[':
		if d+1 > s.maxDepth {
			return s.errorf("nesting deeper than MAX_DEPTH (%d) at %s", s.maxDepth, s.pointer())
		}
		return s.array(d + 1)
	case c == '"':
		return s.stringValue()
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return s.errorf("invalid character %s", QuoteByte(c))
	}
}

// QuoteByte names a byte for an error message: an ASCII character quoted,
// any other byte in hex.
func QuoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (s *scanner) literal(lit string) error {
	if !bytes.HasPrefix(s.buf[s.pos:], []byte(lit)) {
		return s.errorf("invalid literal (expected %s)", lit)
	}
	s.pos += len(lit)
	return nil
}

// number follows RFC 8259: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func (s *scanner) number() error {
	end, problem := ScanNumber(s.buf, s.pos)
	s.pos = end
	if problem != "" {
		return s.errorf("%s", problem)
	}
	return nil
}

// ScanNumber reads the JSON number (RFC 8259) that starts at b[i], a '-' or
// a digit, and returns the offset just past it; when it is not a number,
// the offset where it goes wrong and what is wrong.
//
//	number = [ "-" ] ( "0" / digit1-9 *digit ) [ "." 1*digit ] [ ( "e" / "E" ) [ "+" / "-" ] 1*digit ]
func ScanNumber(b []byte, i int) (end int, problem string) {
	if b[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i - j
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return i, "invalid number"
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return i, "invalid number: no digits after the decimal point"
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return i, "invalid number: no digits in the exponent"
		}
	}
	return i, ""
}

// object: '{' ws [ string ws ':' value ( ',' ws string ws ':' value )* ] ws '}'
func (s *scanner) object(d int) error {
	s.pos++ // '{'
	s.skipSpace()
	if s.pos < len(s.buf) && s.buf[s.pos] == '}' {
		s.pos++
		return nil
	}
	s.path = append(s.path, seg{})
	for {
		s.skipSpace()
		if s.pos >= len(s.buf) || s.buf[s.pos] != '"' {
			return s.errorf("expected a member name")
		}
		start := s.pos
		esc, err := s.stringToken()
		if err != nil {
			return err
		}
		s.path[len(s.path)-1] = seg{key: s.buf[start+1 : s.pos-1], esc: esc}
		s.skipSpace()
		if s.pos >= len(s.buf) || s.buf[s.pos] != ':' {
			return s.errorf("expected ':' after a member name")
		}
		s.pos++
		if err := s.value(d); err != nil {
			return err
		}
		s.skipSpace()
		if s.pos >= len(s.buf) {
			return s.errorf("unexpected end of JSON in an object")
		}
		switch s.buf[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.path = s.path[:len(s.path)-1]
			return nil
		default:
			return s.errorf("expected ',' or '}' in an object")
		}
	}
}

// array: '[' ws [ value ( ',' value )* ] ws ']'
func (s *scanner) array(d int) error {
	s.pos++ // '['
	s.skipSpace()
	if s.pos < len(s.buf) && s.buf[s.pos] == ']' {
		s.pos++
		return nil
	}
	s.path = append(s.path, seg{array: true})
	for i := 0; ; i++ {
		s.path[len(s.path)-1].index = i
		if err := s.value(d); err != nil {
			return err
		}
		s.skipSpace()
		if s.pos >= len(s.buf) {
			return s.errorf("unexpected end of JSON in an array")
		}
		switch s.buf[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			s.path = s.path[:len(s.path)-1]
			return nil
		default:
			return s.errorf("expected ',' or ']' in an array")
		}
	}
}

// stringToken moves past one string token, checking escapes, control
// characters and UTF-8, and reports whether it held an escape.
func (s *scanner) stringToken() (esc bool, err error) {
	b := s.buf
	i := s.pos + 1
	high := false
	for {
		for i < len(b) && plainASCII[b[i]] {
			i++
		}
		if i >= len(b) {
			s.pos = i
			return false, s.errorf("unterminated string")
		}
		c := b[i]
		switch {
		case c == '"':
			if s.maxString > 0 && i-s.pos-1 > s.maxString {
				return false, s.errorf("a string of %d bytes is longer than MAX_STRING_BYTES (%d)", i-s.pos-1, s.maxString)
			}
			if high && !utf8.Valid(b[s.pos+1:i]) {
				return false, s.errorf("string is not valid UTF-8")
			}
			s.pos = i + 1
			return esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				s.pos = i
				return false, s.errorf("unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !IsHex4(b[i+2:i+6]) {
					s.pos = i
					return false, s.errorf(`invalid \u escape`)
				}
				i += 6
			default:
				s.pos = i
				return false, s.errorf("invalid escape")
			}
		case c < 0x20:
			s.pos = i
			return false, s.errorf("control character in string")
		default:
			if c >= utf8.RuneSelf {
				high = true
			}
			i++
		}
	}
}

// stringValue scans a string value and records it if it holds a mask. Masks
// are matched in the decoded text, so an escaped mask is still a mask.
func (s *scanner) stringValue() error {
	start := s.pos
	esc, err := s.stringToken()
	if err != nil {
		return err
	}
	raw := s.buf[start+1 : s.pos-1]
	if esc {
		s.tmp = appendUnescape(s.tmp[:0], raw)
		raw = s.tmp
	}
	if !bytes.Contains(raw, prefix) {
		return nil
	}
	value := string(raw)
	var offs []int
	if esc {
		offs = rawOffsets(s.buf[start+1 : s.pos-1])
	}
	first := len(s.matches)
	s.matches = mask.AppendFind(s.matches, value)
	n := len(s.matches) - first
	if total := len(s.matches); total > s.maxMasks {
		return &tooManyMasks{limit: s.maxMasks}
	}
	s.holders = append(s.holders, holder{
		start: start, end: s.pos, value: value, offs: offs, path: s.pointer(), first: first, n: n,
	})
	return nil
}

// pointer renders the current path as an RFC 6901 JSON Pointer.
func (s *scanner) pointer() string {
	p := make([]byte, 0, 64)
	p = append(p, "/connection"...)
	for _, sg := range s.path {
		p = append(p, '/')
		if sg.array {
			p = strconv.AppendInt(p, int64(sg.index), 10)
			continue
		}
		key := sg.key
		if sg.esc {
			key = appendUnescape(nil, key)
		}
		for _, c := range key {
			switch c {
			case '~':
				p = append(p, "~0"...)
			case '/':
				p = append(p, "~1"...)
			default:
				p = append(p, c)
			}
		}
	}
	return string(p)
}

// IsHex4 reports whether the first four bytes of b are hex digits, as the
// four after a JSON \u escape must be.
func IsHex4(b []byte) bool {
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

func hex4(b []byte) rune {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}

// appendUnescape decodes the body of a string token already checked by
// stringToken. Lone surrogates become U+FFFD, as encoding/json does.
// AppendUnescaped appends the decoded text of raw, the inside of a valid
// JSON string token (without its quotes), to dst.
func AppendUnescaped(dst, raw []byte) []byte { return appendUnescape(dst, raw) }

// AppendEscaped appends s as the inside of a JSON string, escaped as the
// resolver escapes the values it inserts.
func AppendEscaped(dst []byte, s string) []byte { return appendString(dst, s) }

func appendUnescape(dst, raw []byte) []byte {
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

// rawOffsets maps each byte that appendUnescape decodes from raw to the
// offset in raw of the character or escape it came from, plus len(raw) at
// the end, so that text around a mask can be copied exactly as sent.
func rawOffsets(raw []byte) []int {
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

// plainASCII marks the bytes a JSON string holds as they are, in the
// escaped text and the decoded alike: ASCII other than a quote, a
// backslash or a control character. Loops over strings skip runs of them
// with one table load a byte.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString writes s as the body of a JSON string (no quotes), escaping
// only what JSON requires plus U+2028 and U+2029, which some JavaScript
// readers take for line ends.
func appendString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		for i < len(s) && plainASCII[s[i]] {
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
