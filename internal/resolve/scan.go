package resolve

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/maskresolver/maskresolver/internal/jsonlex"
	"github.com/maskresolver/maskresolver/internal/mask"
)

var prefix = []byte(mask.Prefix)

// syntaxError is a request that is not the JSON the contract asks for.
type syntaxError struct {
	offset int
	msg    string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at offset %d", e.msg, e.offset) }

// tooManyMasks refuses a request whose payload holds more masks than the
// limit; the scan stops looking for masks as soon as it is passed.
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
	// scope is the request's "scope" member, unescaped, when scopeSet.
	scope    string
	scopeSet bool
	// tooMany is set once the payload holds more than maxMasks masks: the
	// scan goes on to the end of the request, for its "scope", but finds
	// no more masks.
	tooMany bool

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

func (s *scanner) skipSpace() { s.pos = jsonlex.SkipSpace(s.buf, s.pos) }

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
		return s.errorf("invalid character %s", jsonlex.QuoteByte(c))
	}
}

func (s *scanner) literal(lit string) error {
	if !jsonlex.HasLiteral(s.buf, s.pos, lit) {
		return s.errorf("invalid literal (expected %s)", lit)
	}
	s.pos += len(lit)
	return nil
}

// number moves past a number (the grammar is jsonlex.ScanNumber's).
func (s *scanner) number() error {
	end, problem := jsonlex.ScanNumber(s.buf, s.pos)
	s.pos = end
	if problem != jsonlex.NoProblem {
		return s.errorf("%s", problem)
	}
	return nil
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
// characters, UTF-8 and MAX_STRING_BYTES, and reports whether it held an
// escape.
func (s *scanner) stringToken() (esc bool, err error) {
	end, f, problem := jsonlex.ScanString(s.buf, s.pos)
	switch {
	case problem == jsonlex.EndOfInput:
		s.pos = end
		return false, s.errorf("unterminated string")
	case problem != jsonlex.NoProblem:
		s.pos = end
		return false, s.errorf("%s", problem)
	case s.maxString > 0 && end-s.pos-2 > s.maxString:
		return false, s.errorf("a string of %d bytes is longer than MAX_STRING_BYTES (%d)", end-s.pos-2, s.maxString)
	case f&jsonlex.NonASCII != 0 && !utf8.Valid(s.buf[s.pos+1:end-1]):
		return false, s.errorf("string is not valid UTF-8")
	}
	s.pos = end
	return f&jsonlex.Escaped != 0, nil
}

// stringValue scans a string value and records it if it holds a mask. Masks
// are matched in the decoded text, so an escaped mask is still a mask.
func (s *scanner) stringValue() error {
	start := s.pos
	esc, err := s.stringToken()
	if err != nil {
		return err
	}
	if s.tooMany {
		return nil
	}
	raw := s.buf[start+1 : s.pos-1]
	if esc {
		s.tmp = jsonlex.AppendUnescaped(s.tmp[:0], raw)
		raw = s.tmp
	}
	if !bytes.Contains(raw, prefix) {
		return nil
	}
	value := string(raw)
	var offs []int
	if esc {
		offs = jsonlex.UnescapedOffsets(s.buf[start+1 : s.pos-1])
	}
	first := len(s.matches)
	s.matches = mask.AppendFind(s.matches, value)
	n := len(s.matches) - first
	if total := len(s.matches); total > s.maxMasks {
		s.tooMany = true
		return nil
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
			key = jsonlex.AppendUnescaped(nil, key)
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
