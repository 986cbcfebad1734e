package resolve

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// truncQuote cuts at a character boundary (fixed bug: a cut inside a
// multi-byte character put a replacement character in the message).
func TestTruncQuote(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"short", `"short"`},
		{strings.Repeat("a", 64), `"` + strings.Repeat("a", 64) + `"`},
		{strings.Repeat("a", 63) + "é", `"` + strings.Repeat("a", 63) + `"...`},
		{strings.Repeat("a", 62) + "漢字", `"` + strings.Repeat("a", 62) + `"...`},
		{strings.Repeat("é", 40), `"` + strings.Repeat("é", 32) + `"...`},
	} {
		got := truncQuote([]byte(tt.in))
		if got != tt.want || strings.Contains(got, `\ufffd`) || !utf8.ValidString(got) {
			t.Errorf("truncQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
