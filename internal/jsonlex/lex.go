package jsonlex

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// A Problem says what is wrong with the text where a scan stopped.
type Problem uint8

// The problems a token can have. Each user words its own message; String
// gives a plain one.
const (
	NoProblem        Problem = iota
	EndOfInput               // the text ends inside the token
	BadEscape                // a backslash not followed by one of "\/bfnrtu
	BadUnicodeEscape         // \u not followed by four hex digits
	ControlChar              // a byte below 0x20 inside a string
	BadNumber                // a '-' not followed by a digit
	NoFraction               // a '.' not followed by a digit
	NoExponent               // an exponent without a digit
)

func (p Problem) String() string {
	switch p {
	case NoProblem:
		return "no problem"
	case EndOfInput:
		return "unexpected end of JSON input"
	case BadEscape:
		return "invalid escape"
	case BadUnicodeEscape:
		return `invalid \u escape`
	case ControlChar:
		return "control character in string"
	case BadNumber:
		return "invalid number"
	case NoFraction:
		return "invalid number: no digits after the decimal point"
	case NoExponent:
		return "invalid number: no digits in the exponent"
	}
	return "problem " + strconv.Itoa(int(p))
}

// SkipSpace returns the offset of the first byte at or after b[i] that is
// not JSON whitespace (space, tab, line feed, carriage return), len(b) if
// there is none.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// HasLiteral reports whether the literal lit (true, false or null) starts
// at b[i].
func HasLiteral(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// ScanNumber reads the number that starts at b[i], a '-' or a digit, and
// returns the offset just past it; when it is not a number, the offset
// where it goes wrong and what is wrong.
//
//	number = [ "-" ] ( "0" / digit1-9 *digit ) [ "." 1*digit ] [ ( "e" / "E" ) [ "+" / "-" ] 1*digit ]
func ScanNumber(b []byte, i int) (end int, p Problem) {
	if b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if j := digits(b, i); j > i {
		i = j
	} else {
		return i, BadNumber
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return j, NoFraction
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return i, NoExponent
		}
		i = j
	}
	return i, NoProblem
}

// digits returns the offset after the run of decimal digits at b[i].
func digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// QuoteByte names a byte for an error message: an ASCII character quoted,
// any other byte in hex.
func QuoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
