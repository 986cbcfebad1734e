package jsonlex

import "testing"

func TestSkipValid(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want int // offset after the value at 0
	}{
		{`""`, 2},
		{`"a\"b\\"x`, 8},
		{`"\u0022"`, 8},
		{`"é\\"`, 6},
		{`{}`, 2},
		{`[1,[2,{"a":"]"}]],3`, 17},
		{`{"a}":"{","b":[{}]} `, 19},
		{`12.5e3,`, 6},
		{`-1}`, 2},
		{`true]`, 4},
		{"null\n", 4},
		{`false`, 5},
	} {
		if got := SkipValidValue([]byte(c.in), 0); got != c.want {
			t.Errorf("SkipValidValue(%q) = %d, want %d", c.in, got, c.want)
		}
		if c.in[0] == '"' {
			if got := SkipValidString([]byte(c.in), 0); got != c.want {
				t.Errorf("SkipValidString(%q) = %d, want %d", c.in, got, c.want)
			}
		}
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ raw, want string }{
		{``, ``},
		{`plain`, `plain`},
		{`a\nb\u00e9`, "a\nbé"},
		{"\xff\xc3(", "\uFFFD\uFFFD("}, // each byte on its own, as encoding/json
		{`\ud800` + "\xff", "\uFFFD\uFFFD"},
	} {
		if got := Text([]byte(c.raw)); got != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.raw, got, c.want)
		}
	}
	if got := ReplaceInvalidUTF8([]byte("ok é")); got != "ok é" {
		t.Errorf("ReplaceInvalidUTF8 changed valid text: %q", got)
	}
}
