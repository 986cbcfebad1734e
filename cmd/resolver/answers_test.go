package main

// Decoding and checking the function's answers. A body is decoded into
// answer.Body, the one wire type of the contract that maskctl and the unit
// tests read too.

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/maskresolver/maskresolver/internal/answer"
)

// decodeBody decodes an answer's body.
func decodeBody(t *testing.T, body string) answer.Body {
	t.Helper()
	var b answer.Body
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatalf("body: %v: %s", err, body)
	}
	return b
}

// wantStatus checks the status and returns the decoded body.
func wantStatus(t *testing.T, p proxyResponse, status int) answer.Body {
	t.Helper()
	if p.StatusCode != status {
		t.Fatalf("statusCode = %d, want %d; body: %s", p.StatusCode, status, p.Body)
	}
	return decodeBody(t, p.Body)
}

// wantRequestError checks a request-level error: its code and no masks list.
func wantRequestError(t *testing.T, p proxyResponse, status int, code string) {
	t.Helper()
	b := wantStatus(t, p, status)
	if b.Error == nil || b.Error.Code != code {
		t.Fatalf("error.code: got body %s, want %s", p.Body, code)
	}
	if b.Error.Message == "" {
		t.Errorf("error.message is empty")
	}
	if b.Error.Masks != nil || b.Connection != nil {
		t.Errorf("a request-level error has a masks list or a connection: %s", p.Body)
	}
}

// wantMaskFailures checks a MaskResolutionFailed answer listing exactly
// want (path, key, ARN and code; the message must be non-empty, and no
// failing entry carries a status or a version_id).
func wantMaskFailures(t *testing.T, p proxyResponse, status int, want ...answer.MaskEntry) {
	t.Helper()
	b := wantStatus(t, p, status)
	if b.Error == nil || b.Error.Code != "MaskResolutionFailed" {
		t.Fatalf("error.code: got body %s, want MaskResolutionFailed", p.Body)
	}
	if b.Connection != nil || b.Masks != nil {
		t.Errorf("a failed request returned a connection or top-level masks: %s", p.Body)
	}
	got := b.Error.Masks
	if len(got) != len(want) {
		t.Fatalf("error.masks has %d entries, want %d: %s", len(got), len(want), p.Body)
	}
	for i := range want {
		if got[i].Message == "" {
			t.Errorf("error.masks[%d].message is empty", i)
		}
		got[i].Message = ""
		if got[i] != want[i] {
			t.Errorf("error.masks[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// wantResolved checks a 200 answer: the connection as raw bytes and the
// masks list.
func wantResolved(t *testing.T, p proxyResponse, conn string, masks ...answer.MaskEntry) {
	t.Helper()
	b := wantStatus(t, p, http.StatusOK)
	checkResolved(t, b, p.Body, conn, masks...)
}

// checkResolved checks a decoded success: the connection as raw bytes and
// the masks list, entry for entry. The version_id of each entry is the
// double's to choose and is left out of the comparison; the tests of
// rotation read it with versionIDs.
func checkResolved(t *testing.T, b answer.Body, body, conn string, masks ...answer.MaskEntry) {
	t.Helper()
	if b.Error != nil {
		t.Fatalf("unexpected error: %s", body)
	}
	if string(b.Connection) != conn {
		t.Errorf("connection:\n got %s\nwant %s", b.Connection, conn)
	}
	got := slices.Clone(b.Masks)
	for i := range got {
		got[i].VersionID = ""
	}
	if !slices.Equal(got, masks) {
		t.Errorf("masks:\n got %+v\nwant %+v", got, masks)
	}
}

// versionIDs returns the version_id of each entry of a 200's masks.
func versionIDs(t *testing.T, p proxyResponse) []string {
	t.Helper()
	if p.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", p.StatusCode, p.Body)
	}
	b := decodeBody(t, p.Body)
	ids := make([]string, len(b.Masks))
	for i, m := range b.Masks {
		ids[i] = m.VersionID
	}
	return ids
}
