package resolve

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// perByteUTF8 replaces each byte that is not UTF-8 with U+FFFD, as
// appendString and encoding/json do.
func perByteUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

// FuzzStringEscapes holds the string helpers to encoding/json: what
// appendString writes is a JSON string that decodes to the text (each byte
// that is not UTF-8 as U+FFFD), and the scanner and appendUnescape read a
// string token as encoding/json does.
func FuzzStringEscapes(f *testing.F) {
	for _, s := range []string{"", "plain", `say "hi"\`, "tab\tnl\nnul\x00", "é\u2028\u2029😀", "\xff\xc3(", `\u00e9 \ud83d\ude00 \ud800 \/`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		esc := appendString(nil, s)
		var got string
		if err := json.Unmarshal([]byte(`"`+string(esc)+`"`), &got); err != nil || got != perByteUTF8(s) {
			t.Fatalf("appendString(%q) = %q: decodes to %q, %v", s, esc, got, err)
		}
		if u := appendUnescape(nil, esc); string(u) != perByteUTF8(s) {
			t.Fatalf("appendUnescape(%q) = %q, want %q", esc, u, perByteUTF8(s))
		}
		// s itself as the inside of a string token (a quote in s would
		// end the token early).
		if strings.Contains(s, `"`) {
			return
		}
		token := []byte(`"` + s + `"`)
		sc := scanner{buf: token}
		_, err := sc.stringToken()
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
		if err == nil {
			if u := appendUnescape(nil, token[1:len(token)-1]); string(u) != want {
				t.Fatalf("appendUnescape(%q) = %q, encoding/json %q", token, u, want)
			}
		}
	})
}
