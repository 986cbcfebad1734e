package jsonlex

import (
	"encoding/json"
	"testing"
)

func TestSkipSpace(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		i    int
		want int
	}{
		{"", 0, 0},
		{"x", 0, 0},
		{" \t\r\nx", 0, 4},
		{"a  ", 1, 3},
		{"\v\fx", 0, 0}, // not JSON whitespace
		{"   ", 3, 3},
	} {
		if got := SkipSpace([]byte(c.in), c.i); got != c.want {
			t.Errorf("SkipSpace(%q, %d) = %d, want %d", c.in, c.i, got, c.want)
		}
	}
}

func TestHasLiteral(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		i    int
		lit  string
		want bool
	}{
		{"true", 0, "true", true},
		{"[false]", 1, "false", true},
		{"nul", 0, "null", false},
		{"nulL", 0, "null", false},
		{"null", 4, "null", false},
		{"truex", 0, "true", true}, // what follows is the grammar's business
	} {
		if got := HasLiteral([]byte(c.in), c.i, c.lit); got != c.want {
			t.Errorf("HasLiteral(%q, %d, %q) = %v", c.in, c.i, c.lit, got)
		}
	}
}

func TestScanNumber(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		end  int
		want Problem
	}{
		{"0", 1, NoProblem},
		{"-0", 2, NoProblem},
		{"0123", 1, NoProblem}, // a number "0", then whatever the grammar makes of "123"
		{"123,", 3, NoProblem},
		{"-12.5e+3]", 8, NoProblem},
		{"1E9", 3, NoProblem},
		{"1e-0 ", 4, NoProblem},
		{"3.14159}", 7, NoProblem},
		// errors
		{"-", 1, BadNumber},
		{"-x", 1, BadNumber},
		{"-.5", 1, BadNumber},
		{"1.", 2, NoFraction},
		{"1.e5", 2, NoFraction},
		{"1e", 2, NoExponent},
		{"1e+", 3, NoExponent},
		{"1.5E-x", 5, NoExponent},
	} {
		end, p := ScanNumber([]byte(c.in), 0)
		if end != c.end || p != c.want {
			t.Errorf("ScanNumber(%q) = %d, %v; want %d, %v", c.in, end, p, c.end, c.want)
		}
		// What it accepts, encoding/json reads as the same number.
		if p == NoProblem {
			var n json.Number
			if err := json.Unmarshal([]byte(c.in[:end]), &n); err != nil {
				t.Errorf("ScanNumber accepted %q, encoding/json: %v", c.in[:end], err)
			}
		}
	}
}

func TestProblemString(t *testing.T) {
	t.Parallel()
	for p, want := range map[Problem]string{
		EndOfInput:       "unexpected end of JSON input",
		BadEscape:        "invalid escape",
		BadUnicodeEscape: `invalid \u escape`,
		ControlChar:      "control character in string",
		BadNumber:        "invalid number",
		NoFraction:       "invalid number: no digits after the decimal point",
		NoExponent:       "invalid number: no digits in the exponent",
		Problem(99):      "problem 99",
	} {
		if got := p.String(); got != want {
			t.Errorf("Problem(%d).String() = %q, want %q", p, got, want)
		}
	}
}

func TestQuoteByte(t *testing.T) {
	t.Parallel()
	for c, want := range map[byte]string{
		'x':  `'x'`,
		'\'': `'\''`,
		0:    `'\x00'`,
		'\n': `'\n'`,
		0x7f: `'\x7f'`,
		0x80: "byte 0x80",
		0xff: "byte 0xff",
	} {
		if got := QuoteByte(c); got != want {
			t.Errorf("QuoteByte(%#x) = %s, want %s", c, got, want)
		}
	}
}
