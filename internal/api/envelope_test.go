package api

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/maskresolver/maskresolver/internal/answer"
)

// envelopedLen is the shaped answer's exact length whatever the body holds
// (escapes, control characters, U+2028, bytes that are not UTF-8, the
// 405's extra header), and the envelope decodes to the status, headers
// and body.
func TestWireLenBoundsShape(t *testing.T) {
	t.Parallel()
	bodies := []string{
		``,
		`{"connection":{"a":"b"},"masks":[]}`,
		`{"x":"<script>&amp;</script>"}`,
		`{"x":"quote \" backslash \\ newline \n tab \t ctl \u0001"}`,
		"{\"x\":\"line sep \u2028 para \u2029 and é 漢字 🙂\"}",
		"{\n  \"pretty\": [1, 2, 3]\r\n}",
		strings.Repeat(`"\\<&>`, 1000),
		"raw control \x01\x1f and bad utf8 \xff\xfe",
	}
	for _, src := range []source{httpAPI, restAPI, direct} {
		for _, b := range bodies {
			for _, allow := range []bool{false, true} {
				out := envelop(src, response{status: 422, body: []byte(b), allow: allow})
				a := response{status: 422, body: []byte(b), allow: allow}
				if w := envelopedLen(src, a); len(out) != w {
					t.Errorf("%v body %q: shaped %d bytes, envelopedLen %d", src, b, len(out), w)
				}
				if src == direct {
					continue
				}
				// What API Gateway reads: the status, the headers and the
				// body, byte for byte.
				var got struct {
					StatusCode int
					Headers    map[string]string
					Body       string
				}
				if err := json.Unmarshal(out, &got); err != nil {
					t.Fatalf("%v body %q: %v: %s", src, b, err, out)
				}
				if got.StatusCode != 422 || got.Headers["Content-Type"] != "application/json" || got.Headers["Cache-Control"] != "no-store" ||
					(got.Headers["Allow"] == "POST") != allow || (utf8.ValidString(b) && got.Body != b) {
					t.Errorf("%v body %q: decoded %+v", src, b, got)
				}
			}
		}
	}
}

// A response whose text fits but whose escapes in the envelope do not is
// replaced by ResponseTooLarge; a direct invocation, which has no
// envelope, keeps it.
func TestBoundedAnswer(t *testing.T) {
	t.Parallel()
	body := []byte(`{"connection":{"x":"` + strings.Repeat("<", 1000) + `"}}`)
	a := response{status: 200, body: body}
	if _, refused := limitResponse(direct, a, 1100); refused {
		t.Error("a direct response of 1,021 bytes refused under 1,100")
	}
	got, refused := limitResponse(httpAPI, a, 1100)
	if !refused || got.status != 422 || !strings.Contains(string(got.body), `"ResponseTooLarge"`) || !utf8.Valid(got.body) {
		t.Errorf("escaped response of ~6 KB under 1,100: refused=%v %d %s", refused, got.status, got.body)
	}
	if got.status != answer.Status(answer.ResponseTooLarge) {
		t.Errorf("status %d", got.status)
	}
}
