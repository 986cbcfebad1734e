package api

import (
	"bytes"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/maskresolver/maskresolver/internal/jsonlex"
)

// jsonDecoder reads JSON text (RFC 8259) in one pass, decoding the
// members its caller asks for and checking and skipping the rest. It
// follows encoding/json where the two could differ on an event: nesting is
// capped at encoding/json's 10,000, and strings are not checked for UTF-8.
type jsonDecoder struct {
	buf   []byte
	pos   int
	depth int
	// typeErr is the first value of the wrong type; decoding goes on.
	typeErr error
	// name and tmp hold unescaped member names and string values.
	name, tmp []byte
}

// maxNesting is encoding/json's bound on nested arrays and objects.
const maxNesting = 10000

// eventSyntaxError is an event that is not JSON text.
type eventSyntaxError struct {
	offset int
	msg    string
}

func (e *eventSyntaxError) Error() string { return e.msg + " at offset " + strconv.Itoa(e.offset) }

func (d *jsonDecoder) syntaxError(msg string) error {
	return &eventSyntaxError{offset: d.pos, msg: msg}
}

func (d *jsonDecoder) space() { d.pos = jsonlex.SkipSpace(d.buf, d.pos) }

// peek returns the first byte of the next token, 0 at the end.
func (d *jsonDecoder) peek() byte {
	d.space()
	if d.pos >= len(d.buf) {
		return 0
	}
	return d.buf[d.pos]
}

// null moves past a null literal and reports whether there was one.
func (d *jsonDecoder) null() bool {
	if d.peek() == 'n' && jsonlex.HasLiteral(d.buf, d.pos, "null") {
		d.pos += 4
		return true
	}
	return false
}

// kind names the type of the next value, for an error message.
func (d *jsonDecoder) kind() string {
	switch d.peek() {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// wrongType skips the next value, which is not what the member what
// takes, and records the first such mismatch.
func (d *jsonDecoder) wrongType(what, want string) error {
	kind := d.kind()
	if err := d.skip(); err != nil {
		return err
	}
	if d.typeErr == nil {
		d.typeErr = errors.New(what + " is " + kind + ", want " + want)
	}
	return nil
}

// members decodes an object member by member with fn, which must consume
// each member's value; null leaves everything as it was. fn may not keep
// name past the decoding of that member's value.
func (d *jsonDecoder) members(what string, fn func(name []byte) error) error {
	if d.null() {
		return nil
	}
	if d.peek() != '{' {
		return d.wrongType(what, "an object")
	}
	return d.object(fn)
}

// object: '{' ws [ string ws ':' value ( ',' ws string ws ':' value )* ] ws '}'
func (d *jsonDecoder) object(fn func(name []byte) error) error {
	if d.depth++; d.depth > maxNesting {
		return d.syntaxError("exceeded max depth")
	}
	d.pos++ // '{'
	if d.peek() == '}' {
		d.pos++
		d.depth--
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.unexpected("a member name")
		}
		raw, esc, err := d.stringToken()
		if err != nil {
			return err
		}
		name := raw
		if esc {
			d.name = jsonlex.AppendUnescaped(d.name[:0], raw)
			name = d.name
		}
		if d.peek() != ':' {
			return d.unexpected("':' after a member name")
		}
		d.pos++
		if err := fn(name); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			d.depth--
			return nil
		default:
			return d.unexpected("',' or '}' in an object")
		}
	}
}

// array: '[' ws [ value ( ',' value )* ] ws ']'; fn consumes each element.
func (d *jsonDecoder) array(fn func() error) error {
	if d.depth++; d.depth > maxNesting {
		return d.syntaxError("exceeded max depth")
	}
	d.pos++ // '['
	if d.peek() == ']' {
		d.pos++
		d.depth--
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.depth--
			return nil
		default:
			return d.unexpected("',' or ']' in an array")
		}
	}
}

// unexpected reports the next byte where want was due.
func (d *jsonDecoder) unexpected(want string) error {
	if d.pos >= len(d.buf) {
		return d.syntaxError("unexpected end of JSON input")
	}
	return d.syntaxError("invalid character " + jsonlex.QuoteByte(d.buf[d.pos]) + ", want " + want)
}

// skip checks and moves past one value.
func (d *jsonDecoder) skip() error {
	switch c := d.peek(); {
	case c == '{':
		return d.object(func([]byte) error { return d.skip() })
	case c == '[':
		return d.array(d.skip)
	case c == '"':
		_, _, err := d.stringToken()
		return err
	case c == '-' || ('0' <= c && c <= '9'):
		return d.number()
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	}
	return d.unexpected("a value")
}

func (d *jsonDecoder) literal(lit string) error {
	if !jsonlex.HasLiteral(d.buf, d.pos, lit) {
		return d.syntaxError("invalid literal, want " + lit)
	}
	d.pos += len(lit)
	return nil
}

// number moves past a number (the grammar is jsonlex.ScanNumber's).
func (d *jsonDecoder) number() error {
	end, problem := jsonlex.ScanNumber(d.buf, d.pos)
	d.pos = end
	if problem != jsonlex.NoProblem {
		return d.syntaxError(problem.String())
	}
	return nil
}

// stringToken moves past a string token, checking its escapes and that it
// holds no control character, and returns its text between the quotes and
// whether that holds an escape.
func (d *jsonDecoder) stringToken() (raw []byte, esc bool, err error) {
	start := d.pos + 1
	end, f, problem := jsonlex.ScanString(d.buf, d.pos)
	d.pos = end
	switch problem {
	case jsonlex.NoProblem:
		return d.buf[start : end-1], f&jsonlex.Escaped != 0, nil
	case jsonlex.EndOfInput:
		return nil, false, d.syntaxError("unexpected end of JSON input in a string")
	case jsonlex.BadUnicodeEscape:
		return nil, false, d.syntaxError(`invalid \u escape in a string`)
	case jsonlex.BadEscape:
		return nil, false, d.syntaxError("invalid escape " + jsonlex.QuoteByte(d.buf[end+1]) + " in a string")
	}
	return nil, false, d.syntaxError("control character in a string")
}

// str decodes a string member; null leaves it as it was. One longer
// than maxEventString as written is a type error and is not kept.
func (d *jsonDecoder) str(dst *string, what string) error {
	if d.null() {
		return nil
	}
	if d.peek() != '"' {
		return d.wrongType(what, "a string")
	}
	raw, esc, err := d.stringToken()
	if err != nil {
		return err
	}
	if len(raw) > maxEventString {
		if d.typeErr == nil {
			d.typeErr = &stringTooLong{what}
		}
		return nil
	}
	if esc {
		d.tmp = jsonlex.AppendUnescaped(d.tmp[:0], raw)
		raw = d.tmp
	}
	if !utf8.Valid(raw) {
		// As encoding/json decodes a string: each byte that is not
		// UTF-8 becomes U+FFFD (an escape always decodes to whole
		// characters, so this after unescaping is the same).
		*dst = jsonlex.ReplaceInvalidUTF8(raw)
		return nil
	}
	*dst = string(raw)
	return nil
}

// strPtr decodes a string member held by pointer; null clears it.
func (d *jsonDecoder) strPtr(dst **string, what string) error {
	if d.null() {
		*dst = nil
		return nil
	}
	var s string
	if d.peek() != '"' {
		// encoding/json sets the pointer before it finds the type wrong.
		if *dst == nil {
			*dst = &s
		}
		return d.wrongType(what, "a string")
	}
	if err := d.str(&s, what); err != nil {
		return err
	}
	*dst = &s
	return nil
}

// strs decodes an array of strings as encoding/json decodes into a slice:
// null clears it; an array reuses it, and a null element keeps what that
// element held before. An array of more than maxHeaderValues elements, or
// whose text passes maxEventString, is a type error: it is checked to its
// end, but only the elements before the bound are kept.
func (d *jsonDecoder) strs(dst *[]string, what string) error {
	if d.null() {
		*dst = nil
		return nil
	}
	if d.peek() != '[' {
		return d.wrongType(what, "an array")
	}
	if d.emptyArray() {
		// encoding/json sets an empty slice, dropping what it held.
		*dst = []string{}
		return nil
	}
	s := (*dst)[:0]
	start := d.pos
	err := d.array(func() error {
		if d.pos-start > maxEventString || len(s) == maxHeaderValues {
			if d.typeErr == nil {
				d.typeErr = &stringTooLong{what}
			}
			return d.skip() // checked, not kept
		}
		if i := len(s); i < cap(s) {
			s = s[:i+1]
		} else {
			s = append(s, "")
		}
		return d.str(&s[len(s)-1], what)
	})
	*dst = s
	return err
}

// emptyArray moves past an empty array and reports whether there was one.
func (d *jsonDecoder) emptyArray() bool {
	if d.peek() != '[' {
		return false
	}
	at := d.pos
	d.pos++
	if d.peek() == ']' {
		d.pos++
		return true
	}
	d.pos = at
	return false
}

// boolean decodes a boolean member; null leaves it as it was.
func (d *jsonDecoder) boolean(dst *bool, what string) error {
	switch {
	case d.null():
		return nil
	case d.peek() == 't' && jsonlex.HasLiteral(d.buf, d.pos, "true"):
		d.pos += 4
		*dst = true
		return nil
	case d.peek() == 'f' && jsonlex.HasLiteral(d.buf, d.pos, "false"):
		d.pos += 5
		*dst = false
		return nil
	}
	return d.wrongType(what, "a boolean")
}

// fold reports whether a member name is name under encoding/json's
// case-insensitive match.
func fold(b []byte, name string) bool { return bytes.EqualFold(b, []byte(name)) }
