package resolve

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzStringToken holds the scanner's string rule to encoding/json's, plus
// the one thing the request grammar adds: a string token that is not UTF-8
// is refused. (The lexer's own round trips are jsonlex's
// FuzzStringRoundTrip.)
func FuzzStringToken(f *testing.F) {
	for _, s := range []string{"", "plain", `say \"hi\"\\`, "tab\tnl\nnul\x00", "é\u2028\u2029😀", "\xff\xc3(", `\u00e9 \ud83d\ude00 \ud800 \/`, `\`, `\x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// s as the inside of a string token (a quote in s would end the
		// token early).
		if strings.Contains(s, `"`) {
			return
		}
		token := []byte(`"` + s + `"`)
		sc := scanner{buf: token}
		esc, err := sc.stringToken()
		var want string
		wantErr := json.Unmarshal(token, &want)
		if !utf8.ValidString(s) {
			if err == nil {
				t.Fatalf("stringToken accepted %q, which is not UTF-8", token)
			}
			return
		}
		if (err == nil) != (wantErr == nil) || err == nil && sc.pos != len(token) {
			t.Fatalf("stringToken(%q): %v at %d, encoding/json %v", token, err, sc.pos, wantErr)
		}
		if err == nil && esc != strings.Contains(s, `\`) {
			t.Fatalf("stringToken(%q) reports escape %v", token, esc)
		}
	})
}

// A string token longer than MAX_STRING_BYTES is refused at its start; one
// of exactly the limit is not.
func TestStringTokenLimit(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		token string
		ok    bool
	}{
		{`"abcd"`, true},
		{`"abcde"`, false},
		{`"\n\n"`, true},
		{`"\n\n\n"`, false}, // the bound counts the text as sent
	} {
		sc := scanner{buf: []byte(c.token), maxString: 4}
		_, err := sc.stringToken()
		if (err == nil) != c.ok || !c.ok && sc.pos != 0 {
			t.Errorf("stringToken(%q) with a bound of 4: %v at %d", c.token, err, sc.pos)
		}
	}
}

// The scanner words each lexer problem its own way, with the offset where
// it is; jsonlex only says which problem it is.
func TestScanErrorMessages(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ conn, want string }{
		{`"x`, "unterminated string at offset 2"},
		{`"\q"`, "invalid escape at offset 1"},
		{`"\u12"`, `invalid \u escape at offset 1`},
		{"\"\x01\"", "control character in string at offset 1"},
		{"\"\xff\"", "string is not valid UTF-8 at offset 0"},
		{`-`, "invalid number at offset 1"},
		{`1.`, "invalid number: no digits after the decimal point at offset 2"},
		{`1e`, "invalid number: no digits in the exponent at offset 2"},
		{`nul`, "invalid literal (expected null) at offset 0"},
		{"\xff", "invalid character byte 0xff at offset 0"},
	} {
		sc := scanner{buf: []byte(c.conn), maxDepth: 10, maxMasks: 10}
		if err := sc.value(0); err == nil || err.Error() != c.want {
			t.Errorf("value(%q) = %v, want %q", c.conn, err, c.want)
		}
	}
}
