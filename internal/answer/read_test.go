package answer_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/maskresolver/maskresolver/internal/answer"
)

// Body decodes what the handler writes, both shapes, and encodes back to
// the same members.
func TestBodyRoundTrip(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		`{"connection":{"a":"v"},"masks":[{"path":"/connection/a","key":"k","secret_arn":"arn:aws:secretsmanager:us-east-1:137149879143:secret:x","status":"resolved","version_id":"v1"}]}`,
		`{"error":{"code":"MaskResolutionFailed","message":"1 of 1 masks failed; no value was returned","masks":[{"path":"/connection/a","key":"k","secret_arn":"arn:aws:secretsmanager:us-east-1:137149879143:secret:x","code":"KeyNotFound","message":"the secret has no key \"k\""}]}}`,
		`{"error":{"code":"PayloadTooLarge","message":"too large"}}`,
	} {
		var b answer.Body
		if err := json.Unmarshal([]byte(raw), &b); err != nil {
			t.Fatal(err)
		}
		out, _ := json.Marshal(b)
		var want, got any
		json.Unmarshal([]byte(raw), &want)
		json.Unmarshal(out, &got)
		if !reflect.DeepEqual(want, got) {
			t.Errorf("round trip:\n got %s\nwant %s", out, raw)
		}
	}
}
