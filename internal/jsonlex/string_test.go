package jsonlex

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestScanString(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in    string
		end   int
		flags Flags
		want  Problem
	}{
		{`""`, 2, 0, NoProblem},
		{`"abc",`, 5, 0, NoProblem},
		{`"a\"b"`, 6, Escaped, NoProblem},
		{`"\\\/\b\f\n\r\t"`, 16, Escaped, NoProblem},
		{`"\u00e9\uD83D\uDE00"`, 20, Escaped, NoProblem},
		{`"é"`, 4, NonASCII, NoProblem},
		{"\"\xff\"", 3, NonASCII, NoProblem}, // UTF-8 is the caller's to check
		{`"é\n"`, 6, Escaped | NonASCII, NoProblem},
		{"\"é\x01\"", 3, NonASCII, ControlChar}, // the table after a high byte still stops at controls
		// errors
		{`"abc`, 4, 0, EndOfInput},
		{`"abc\`, 5, Escaped, EndOfInput},
		{`"\x"`, 1, Escaped, BadEscape},
		{`"\u12"`, 1, Escaped, BadUnicodeEscape},
		{`"\u12g4"`, 1, Escaped, BadUnicodeEscape},
		{"\"a\tb\"", 2, 0, ControlChar},
		{"\"\x00\"", 1, 0, ControlChar},
		{"\"\x1f\"", 1, 0, ControlChar},
	} {
		end, f, p := ScanString([]byte(c.in), 0)
		if end != c.end || f != c.flags || p != c.want {
			t.Errorf("ScanString(%q) = %d, %b, %v; want %d, %b, %v", c.in, end, f, p, c.end, c.flags, c.want)
		}
	}
}

func TestAppendUnescaped(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ raw, want string }{
		{``, ``},
		{`plain`, `plain`},
		{`a\"b\\c\/d`, `a"b\c/d`},
		{`\b\f\n\r\t`, "\b\f\n\r\t"},
		{`\u00e9\u00E9`, "éé"},
		{`\ud83d\ude00`, "😀"},
		{`\ud800`, "\uFFFD"},        // lone high surrogate
		{`\ude00x`, "\uFFFDx"},      // lone low surrogate
		{`\ud800\u0041`, "\uFFFDA"}, // high surrogate, then not a low one
		{`\ud83d\ud83d\ude00`, "\uFFFD😀"},
		{"\xff", "\xff"}, // bytes that are not UTF-8 are copied
	} {
		if got := string(AppendUnescaped([]byte(">"), []byte(c.raw))); got != ">"+c.want {
			t.Errorf("AppendUnescaped(%q) = %q, want %q", c.raw, got[1:], c.want)
		}
	}
}

func TestUnescapedOffsets(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		raw  string
		want []int
	}{
		{``, []int{0}},
		{`ab`, []int{0, 1, 2}},
		{`a\nb`, []int{0, 1, 3, 4}},
		{`\u00e9x`, []int{0, 0, 6, 7}},          // é is two bytes from one escape
		{`\ud83d\ude00`, []int{0, 0, 0, 0, 12}}, // a pair is one escape of width 12
		{`\ud800\u0041`, []int{0, 0, 0, 6, 12}}, // U+FFFD, then A
		{"é", []int{0, 1, 2}},
	} {
		if got := UnescapedOffsets([]byte(c.raw)); !slices.Equal(got, c.want) {
			t.Errorf("UnescapedOffsets(%q) = %v, want %v", c.raw, got, c.want)
		}
	}
}

func TestAppendEscaped(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ s, want string }{
		{``, ``},
		{`plain /<&>`, `plain /<&>`},
		{`say "hi"\`, `say \"hi\"\\`},
		{"tab\tnl\ncr\r", `tab\tnl\ncr\r`},
		{"\x00\x01\x1f\b\f", `\u0000\u0001\u001f\u0008\u000c`},
		{"\x7f", "\x7f"},
		{"é 漢字 🙂", "é 漢字 🙂"},
		{"\u2028\u2029", `\u2028\u2029`},
		{"a\xffb\xc3(", `a\ufffdb\ufffd(`},
	} {
		if got := string(AppendEscaped([]byte(">"), c.s)); got != ">"+c.want {
			t.Errorf("AppendEscaped(%q) = %q, want %q", c.s, got[1:], c.want)
		}
		if n := EscapedLen([]byte(c.s)); n != len(c.want) {
			t.Errorf("EscapedLen(%q) = %d, want %d", c.s, n, len(c.want))
		}
	}
}

func TestHex(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		ok   bool
		want rune
	}{
		{"0000", true, 0},
		{"00e9", true, 0xe9},
		{"FfFf", true, 0xffff},
		{"d83dx", true, 0xd83d},
		{"12g4", false, 0},
		{"/:@G", false, 0},
		{"`a f", false, 0},
	} {
		if got := isHex4([]byte(c.in)); got != c.ok {
			t.Errorf("isHex4(%q) = %v", c.in, got)
		}
		if c.ok {
			if got := hex4([]byte(c.in)); got != c.want {
				t.Errorf("hex4(%q) = %#x, want %#x", c.in, got, c.want)
			}
		}
	}
}

// perByteUTF8 replaces each byte that is not UTF-8 with U+FFFD, as
// AppendEscaped and encoding/json do.
func perByteUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

// FuzzStringRoundTrip holds the string primitives to encoding/json and to
// each other: what AppendEscaped writes is a string token that
// encoding/json decodes to the text (each byte that is not UTF-8 as
// U+FFFD), that ScanString accepts and AppendUnescaped and Text decode back;
// EscapedLen is its length; and any text between quotes gets from
// ScanString the verdict encoding/json gives it, and from AppendUnescaped,
// UnescapedOffsets and Text what encoding/json decodes.
func FuzzStringRoundTrip(f *testing.F) {
	for _, s := range []string{"", "plain", `say "hi"\`, "tab\tnl\nnul\x00", "é\u2028\u2029😀", "\xff\xc3(", `\u00e9 \ud83d\ude00 \ud800 \/`, `\`, `\u12`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := perByteUTF8(s)
		esc := AppendEscaped(nil, s)
		if n := EscapedLen([]byte(s)); n != len(esc) {
			t.Fatalf("EscapedLen(%q) = %d, AppendEscaped wrote %d", s, n, len(esc))
		}
		token := []byte(`"` + string(esc) + `"`)
		var got string
		if err := json.Unmarshal(token, &got); err != nil || got != want {
			t.Fatalf("AppendEscaped(%q) = %q: decodes to %q, %v", s, esc, got, err)
		}
		if end, _, p := ScanString(token, 0); end != len(token) || p != NoProblem {
			t.Fatalf("ScanString(%q) = %d, %v", token, end, p)
		}
		if u := AppendUnescaped(nil, esc); string(u) != want {
			t.Fatalf("AppendUnescaped(%q) = %q, want %q", esc, u, want)
		}
		if txt := Text(esc); txt != want {
			t.Fatalf("Text(%q) = %q, want %q", esc, txt, want)
		}

		// s itself as the inside of a string token (a quote in s would
		// end the token early).
		if strings.Contains(s, `"`) {
			return
		}
		token = []byte(`"` + s + `"`)
		end, flags, p := ScanString(token, 0)
		var ref string
		refErr := json.Unmarshal(token, &ref)
		if (p == NoProblem) != (refErr == nil) || p == NoProblem && end != len(token) {
			t.Fatalf("ScanString(%q) = %d, %v; encoding/json %v", token, end, p, refErr)
		}
		if p != NoProblem {
			return
		}
		if (flags&Escaped != 0) != strings.Contains(s, `\`) || (flags&NonASCII != 0) != (strings.IndexFunc(s, func(r rune) bool { return r >= utf8.RuneSelf }) >= 0) {
			t.Fatalf("ScanString(%q) flags %b", token, flags)
		}
		raw := token[1 : len(token)-1]
		u := AppendUnescaped(nil, raw)
		if perByteUTF8(string(u)) != ref {
			t.Fatalf("AppendUnescaped(%q) = %q, encoding/json %q", raw, u, ref)
		}
		if txt := Text(raw); txt != ref {
			t.Fatalf("Text(%q) = %q, encoding/json %q", raw, txt, ref)
		}
		if r := ReplaceInvalidUTF8(u); r != ref {
			t.Fatalf("ReplaceInvalidUTF8(%q) = %q, encoding/json %q", u, r, ref)
		}
		offs := UnescapedOffsets(raw)
		if len(offs) != len(u)+1 || offs[len(u)] != len(raw) || !slices.IsSorted(offs) {
			t.Fatalf("UnescapedOffsets(%q) = %v for %d decoded bytes", raw, offs, len(u))
		}
		if got, want := SkipValidString(token, 0), len(token); got != want {
			t.Fatalf("SkipValidString(%q) = %d, want %d", token, got, want)
		}
	})
}
