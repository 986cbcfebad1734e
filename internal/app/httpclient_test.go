package app

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

type recordingClient struct{ got *http.Request }

func (c *recordingClient) Do(r *http.Request) (*http.Response, error) {
	c.got = r
	return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
}

// closeTracking is a request body that records being closed.
type closeTracking struct {
	io.Reader
	closed bool
}

func (c *closeTracking) Close() error { c.closed = true; return nil }

// The transport reads its own copy: closing the SDK's body after the reply
// cannot cut the transport's reads short, and a resend gets the same bytes.
func TestBodyCopy(t *testing.T) {
	t.Parallel()
	next := &recordingClient{}
	orig := &closeTracking{Reader: strings.NewReader(`{"SecretId":"arn"}`)}
	r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", orig)
	if _, err := (bodyCopy{next}).Do(r); err != nil {
		t.Fatal(err)
	}
	if next.got == r || next.got.Body == r.Body || !orig.closed {
		t.Fatal("the transport got the caller's request body, or the caller's body was left open")
	}
	for range 2 {
		b, _ := io.ReadAll(next.got.Body)
		if string(b) != `{"SecretId":"arn"}` || next.got.ContentLength != int64(len(b)) {
			t.Errorf("copy %q, Content-Length %d", b, next.got.ContentLength)
		}
		next.got.Body, _ = next.got.GetBody()
	}

	// No body: passed through as it is.
	r, _ = http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	if _, err := (bodyCopy{next}).Do(r); err != nil || next.got != r {
		t.Errorf("a request without a body was not passed through: %v", err)
	}
}
