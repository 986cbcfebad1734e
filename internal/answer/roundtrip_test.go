package answer_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/maskresolver/maskresolver/internal/answer"
)

const arn = "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod/jira-AbCdEf"

// read decodes an answer as a client does, refusing any member the reader
// does not know: the writer writes nothing a client cannot read.
func read(t *testing.T, b []byte) answer.Body {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("not JSON: %s", b)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var body answer.Body
	if err := d.Decode(&body); err != nil {
		t.Fatalf("read %s: %v", b, err)
	}
	return body
}

// Strings a path, key, ARN or message may hold that need escapes.
var awkward = []string{
	"plain", `quote " and backslash \`, "line\nfeed\ttab\rreturn", "control \x01\x1f",
	"é ü 日本 😀", "line separators \u2028 \u2029", "<html> & more", "/connection/a~1b/0",
}

// Every shape the writers write reads back as the reader's Body with the
// same members: the two sides of the answer cannot drift apart.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	var masks []answer.Mask
	for i, s := range awkward {
		masks = append(masks, answer.Mask{Path: "/connection/" + s, Key: s, ARN: arn + s, VersionID: "v-" + s})
		if i%3 == 1 {
			masks[i].VersionID = "" // a value with no VersionId, as a double may answer
		}
	}
	conn := []byte(`{"host":"jira.example.com","token":"t0k3n","n":[1,2.5e3,null,true]}`)

	for _, dryRun := range []bool{false, true} {
		got := read(t, answer.AppendResolved(nil, conn, masks, dryRun))
		want := answer.Body{Connection: conn}
		status := map[bool]string{false: "resolved", true: "verified"}[dryRun]
		for _, m := range masks {
			want.Masks = append(want.Masks, answer.MaskEntry{Path: m.Path, Key: m.Key, SecretARN: m.ARN, Status: status, VersionID: m.VersionID})
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("dry run %v:\n got %+v\nwant %+v", dryRun, got, want)
		}
	}

	// Per-mask failures: only the failing masks are listed, with their
	// codes and messages; an invalid mask has no key or ARN.
	failing := append([]answer.Mask(nil), masks...)
	var want answer.Body
	want.Error = &answer.ErrorBody{Code: string(answer.MaskResolutionFailed)}
	n := 0
	for i, r := range answer.Codes() {
		if r.Level&answer.MaskLevel == 0 {
			continue
		}
		m := &failing[i%len(failing)]
		if m.Code != "" {
			failing = append(failing, *m)
			m = &failing[len(failing)-1]
		}
		m.Code, m.Message = r.Code, "why "+awkward[i%len(awkward)]
		if r.Code == answer.InvalidMask {
			m.Key, m.ARN = "", ""
		}
		n++
	}
	for _, m := range failing {
		if m.Code != "" {
			want.Error.Masks = append(want.Error.Masks, answer.MaskEntry{Path: m.Path, Key: m.Key, SecretARN: m.ARN, Code: string(m.Code), Message: m.Message})
		}
	}
	want.Error.Message = strings.Join([]string{itoa(n), "of", itoa(len(failing)), "masks failed; no value was returned"}, " ")
	if got := read(t, answer.AppendFailed(nil, failing)); !reflect.DeepEqual(got, want) {
		t.Errorf("failed masks:\n got %+v\nwant %+v", got, want)
	}
	if n < 10 {
		t.Errorf("only %d mask-level codes in the table", n)
	}

	// Each request-level code stands alone, with its message.
	for i, r := range answer.Codes() {
		if r.Level&answer.RequestLevel == 0 || r.Code == answer.MaskResolutionFailed {
			continue
		}
		msg := "refused: " + awkward[i%len(awkward)]
		got := read(t, answer.AppendError(nil, r.Code, msg))
		want := answer.Body{Error: &answer.ErrorBody{Code: string(r.Code), Message: msg}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", r.Code, got, want)
		}
	}
}

// A byte that is not UTF-8 reads back as U+FFFD: the writer never writes
// text a strict reader refuses.
func TestRoundTripInvalidUTF8(t *testing.T) {
	t.Parallel()
	got := read(t, answer.AppendError(nil, answer.NotFound, "no route \"/a\xffb\""))
	if got.Error.Message != "no route \"/a\uFFFDb\"" {
		t.Errorf("message %q", got.Error.Message)
	}
}

// Cap is at least the length of an answer with nothing to escape, and the
// lower bounds the resolver refuses early with are below every answer.
func TestLengths(t *testing.T) {
	t.Parallel()
	masks := []answer.Mask{{Path: "/connection/a", Key: "k", ARN: arn, VersionID: "v1"}, {Path: "/connection/b", Key: "k", ARN: arn, Code: answer.KeyNotFound, Message: "the secret has no key \"k\""}}
	conn := []byte(`{"a":"value","b":"{{workato:sm:k:` + arn + `}}"}`)
	for _, b := range [][]byte{answer.AppendResolved(nil, conn, masks[:1], false), answer.AppendFailed(nil, masks)} {
		if c := answer.Cap(conn, masks); len(b) > c {
			t.Errorf("Cap %d < %d: %s", c, len(b), b)
		}
	}
	if n, b := answer.EntriesLen(masks), answer.AppendFailed(nil, masks); n > len(b) {
		t.Errorf("lower bound %d over the failed answer's %d bytes", n, len(b))
	}
	if n, b := answer.ResolvedFrameLen+len(conn)+answer.EntriesLen(masks[:1]), answer.AppendResolved(nil, conn, masks[:1], false); n > len(b) {
		t.Errorf("lower bound %d over the resolved answer's %d bytes", n, len(b))
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
