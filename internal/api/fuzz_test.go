package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzHandler feeds arbitrary event bytes to the handler: every answer must
// be JSON, and none may be the 500 of a recovered panic.
func FuzzHandler(f *testing.F) {
	f.Add([]byte(reqBody))
	f.Add(httpEvent("POST", "/v1/resolve", reqBody, false))
	f.Add(httpEvent("GET", "/v1/resolve", "", false))
	f.Add(restEvent("POST", "/v1/resolve", reqBody))
	f.Add([]byte(`{"requestContext":{},"version":"2.0","isBase64Encoded":true,"body":"e30="}`))
	f.Add([]byte(`{"requestContext":null,"httpMethod":"POST","path":"/v1/resolve","body":"{\"connection\":1}"}`))
	var logs bytes.Buffer
	h := handler(store{}, &logs)
	f.Fuzz(func(t *testing.T, event []byte) {
		logs.Reset()
		out, err := h.Invoke(context.Background(), event)
		if err != nil {
			t.Fatalf("Invoke error %v", err)
		}
		if !json.Valid(out) {
			t.Fatalf("answer is not JSON: %q", out)
		}
		if bytes.Contains(out, []byte("InternalError")) && !strings.Contains(string(event), "InternalError") {
			t.Fatalf("a panic was recovered for %q: %s", event, logs.String())
		}
		// Every log line, the hand-written summary line included, is
		// one JSON object whatever the event's route and caller hold.
		lines := bytes.Split(bytes.TrimSuffix(logs.Bytes(), []byte("\n")), []byte("\n"))
		for _, line := range lines {
			if !json.Valid(line) || line[0] != '{' {
				t.Fatalf("log line is not a JSON object for %q: %q", event, line)
			}
		}
	})
}
