package app

import (
	"bytes"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// bodyCopy hands net/http a private copy of each request body. The SDK
// closes a request's body once the reply has arrived, while net/http's
// write loop may still read it (its check that nothing follows
// Content-Length); that failed read closes the connection under the reply
// being read, and the SDK retries the call (aws-sdk-go-v2 #2737, #2949):
// a spurious second Secrets Manager or STS call, against the account's
// quota. The bodies are small JSON or form documents.
type bodyCopy struct{ next aws.HTTPClient }

func (c bodyCopy) Do(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return c.next.Do(r)
	}
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	cp := r.Clone(r.Context())
	cp.Body, cp.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	cp.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return c.next.Do(cp)
}
