package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/maskresolver/maskresolver/internal/jsonlex"
)

// refEvent is the event as encoding/json decodes it, the way the handler
// decoded events before decodeEvent: the oracle decodeEvent must agree with.
type refEvent struct {
	Version    string  `json:"version"`
	HTTPMethod *string `json:"httpMethod"`
	RawPath    string  `json:"rawPath"`
	Path       string  `json:"path"`
	Headers    struct {
		CacheControl string `json:"cache-control"`
	} `json:"headers"`
	MultiValueHeaders struct {
		CacheControl []string `json:"cache-control"`
	} `json:"multiValueHeaders"`
	RequestContext struct {
		Stage string `json:"stage"`
		HTTP  struct {
			Method string `json:"method"`
			Path   string `json:"path"`
		} `json:"http"`
		Authorizer *struct {
			IAM *struct {
				UserARN string `json:"userArn"`
			} `json:"iam"`
		} `json:"authorizer"`
		Identity struct {
			UserARN string `json:"userArn"`
		} `json:"identity"`
	} `json:"requestContext"`
	Body            refBody `json:"body"`
	IsBase64Encoded bool    `json:"isBase64Encoded"`
}

// refBody is the body as the handler took it from encoding/json: the
// string token's text unescaped byte for byte, null ignored. A body of
// another type is noted rather than returned as an error: the one place
// decodeEvent differs from the old decoding on purpose (see decodeEvent),
// since an error there stopped encoding/json at once where it goes on
// after any other type error.
type refBody struct {
	b   []byte
	bad bool
}

func (r *refBody) UnmarshalJSON(raw []byte) error {
	switch {
	case bytes.Equal(raw, []byte("null")):
	case raw[0] == '"':
		r.b = jsonlex.AppendUnescaped(make([]byte, 0, len(raw)), raw[1:len(raw)-1])
	default:
		r.bad = true
	}
	return nil
}

// checkAgainstEncodingJSON fails t unless decodeEvent reads b as
// encoding/json does: the same verdict on the text, the same members, and
// a type error exactly when encoding/json reports one.
func checkAgainstEncodingJSON(t *testing.T, b []byte) {
	t.Helper()
	got, err := decodeEvent(b)
	var ref refEvent
	refErr := json.Unmarshal(b, &ref)
	var syntax *eventSyntaxError
	var refSyntax *json.SyntaxError
	if errors.As(err, &syntax) != errors.As(refErr, &refSyntax) {
		t.Fatalf("%q: decodeEvent %v, encoding/json %v", b, err, refErr)
	}
	if syntax != nil {
		return
	}
	// Past the bounds on what it keeps (bounds.go), decodeEvent refuses
	// what encoding/json would take: a string member or a list over
	// maxEventString bytes needs a longer event; a list over
	// maxHeaderValues needs as many commas.
	if tl := (*stringTooLong)(nil); errors.As(err, &tl) {
		if len(b) <= maxEventString && bytes.Count(b, []byte(",")) < maxHeaderValues {
			t.Fatalf("%q: %v", b, err)
		}
		return
	}
	if (err != nil) != (refErr != nil || ref.Body.bad) {
		t.Fatalf("%q: type error %v, encoding/json %v (body of another type: %v)", b, err, refErr, ref.Body.bad)
	}
	refCaller := ""
	if az := ref.RequestContext.Authorizer; az != nil && az.IAM != nil {
		refCaller = az.IAM.UserARN
	}
	caller := ""
	if got.RequestContext.HasIAM {
		caller = got.RequestContext.IAMUserARN
	}
	rc := got.RequestContext
	for _, f := range []struct{ name, got, want string }{
		{"version", got.Version, ref.Version},
		{"rawPath", got.RawPath, ref.RawPath},
		{"path", got.Path, ref.Path},
		{"cache-control", got.CacheControl, ref.Headers.CacheControl},
		{"stage", rc.Stage, ref.RequestContext.Stage},
		{"http.method", rc.HTTPMethod, ref.RequestContext.HTTP.Method},
		{"http.path", rc.HTTPPath, ref.RequestContext.HTTP.Path},
		{"iam.userArn", caller, refCaller},
		{"identity.userArn", rc.IdentityUserARN, ref.RequestContext.Identity.UserARN},
	} {
		if f.got != f.want {
			t.Errorf("%q: %s %q, encoding/json %q", b, f.name, f.got, f.want)
		}
	}
	if (got.HTTPMethod == nil) != (ref.HTTPMethod == nil) || got.HTTPMethod != nil && *got.HTTPMethod != *ref.HTTPMethod {
		t.Errorf("%q: httpMethod %v, encoding/json %v", b, got.HTTPMethod, ref.HTTPMethod)
	}
	if !slices.Equal(got.MultiValueCacheControl, ref.MultiValueHeaders.CacheControl) {
		t.Errorf("%q: multiValueHeaders %q, encoding/json %q", b, got.MultiValueCacheControl, ref.MultiValueHeaders.CacheControl)
	}
	if !bytes.Equal(got.Body, ref.Body.b) || got.IsBase64Encoded != ref.IsBase64Encoded {
		t.Errorf("%q: body %q base64 %v, encoding/json %q %v", b, got.Body, got.IsBase64Encoded, ref.Body.b, ref.IsBase64Encoded)
	}
}

// eventCases are events whose reading encoding/json decides in a way a
// hand-written decoder could get wrong.
var eventCases = []string{
	// API Gateway's own shapes.
	`{"version":"2.0","rawPath":"/v1/resolve","headers":{"content-type":"application/json","cache-control":"no-cache"},"requestContext":{"stage":"$default","http":{"method":"POST","path":"/v1/resolve"},"authorizer":{"iam":{"userArn":"arn:aws:iam::1:user/a"}}},"body":"{\"connection\":{\"a\":\"\\u00e9\"}}","isBase64Encoded":false}`,
	`{"resource":"/v1/resolve","path":"/v1/resolve","httpMethod":"POST","headers":{"Cache-Control":"max-age=5"},"multiValueHeaders":{"Cache-Control":["max-age=5","no-cache"]},"requestContext":{"stage":"prod","identity":{"userArn":"arn:aws:sts::1:assumed-role/r/s"}},"body":"e30=","isBase64Encoded":true}`,
	// A header named like an event member is only a header.
	`{"version":"2.0","headers":{"body":"{\"x\":1}","version":"1.0","requestContext":"x"},"requestContext":{},"body":"{}"}`,
	// Names match case-insensitively, escaped or not; the last duplicate wins.
	`{"VERSION":"2.0","Body":"a","body":"b","requestcontext":{"HTTP":{"Method":"GET"}},"\u0062ody":"c"}`,
	`{"httpMethod":"POST","httpMethod":null,"requestContext":{}}`,
	`{"httpMethod":5,"requestContext":{}}`,
	`{"version":"2.0","requestContext":{"authorizer":{"iam":{"userArn":"a"}},"authorizer":null}}`,
	`{"version":"2.0","requestContext":{"authorizer":{"iam":{"userArn":"a"}},"authorizer":{"iam":{}}}}`,
	`{"version":"2.0","requestContext":{"authorizer":{"iam":5}}}`,
	`{"version":"2.0","requestContext":{"authorizer":{"iam":{"userArn":"a"}}},"requestContext":{"stage":"s"}}`,
	// null keeps a member as it was.
	`{"version":"2.0","version":null,"body":"x","body":null,"isBase64Encoded":true,"isBase64Encoded":null,"requestContext":null}`,
	// Slices as encoding/json fills them.
	`{"multiValueHeaders":{"cache-control":["a","b"],"Cache-Control":[null,"c",null]},"httpMethod":"POST","requestContext":{}}`,
	`{"multiValueHeaders":{"cache-control":["a"],"cache-control":null},"httpMethod":"POST","requestContext":{}}`,
	`{"multiValueHeaders":{"cache-control":[1,"b"]},"httpMethod":"POST","requestContext":{}}`,
	`{"httpMethod":"POST","multiValueHeaders":{"cache-control":["no-cache"],"cache-control":[],"cache-control":[null]},"requestContext":{}}`,
	`{"httpMethod":"POST","multiValueHeaders":{"cache-control":["a"],"cache-control":[ ],"cache-control":[null]},"requestContext":{}}`,
	// Members of the wrong type: an error, and decoding goes on.
	`{"requestContext":{},"body":5,"version":"2.0"}`,
	`{"version":"2.0","requestContext":{"http":[]},"rawPath":"/v1/resolve"}`,
	`{"version":2,"requestContext":{}}`,
	`{"isBase64Encoded":"true","version":"2.0","requestContext":{}}`,
	`{"headers":[],"version":"2.0","requestContext":{}}`,
	`["requestContext"]`,
	`"requestContext"`,
	// Not JSON.
	`{"requestContext":{}`,
	`{"requestContext":{}}x`,
	`{"requestContext":{},"body":"\x"}`,
	`{"requestContext":{},"body":"a` + "\n" + `"}`,
	`{"requestContext":{},"n":01}`,
	`{"requestContext":{},"n":1.}`,
	`{"requestContext":{},"n":-}`,
	`{"requestContext":{},"n":tru}`,
	`{"requestContext":{},"n":[1,]}`,
	`{"requestContext":{},,}`,
	`{"requestContext" {}}`,
	`{"requestContext":{},"body":"\ud800"}`,
	"{\"requestContext\":{},\"body\":\"\xff\xfe\",\"path\":\"/\xc3\"}",
	// Strings that are not UTF-8 decode as encoding/json decodes them.
	"{\"version\":\"2.0\",\"rawPath\":\"/\xff/v1/resolve\",\"requestContext\":{\"stage\":\"\\ufffd\",\"authorizer\":{\"iam\":{\"userArn\":\"arn:\xff\\u00e9\xc3\\u00a9\"}}}}",
	`null`,
	` null `,
	`{"requestContext":{}, "n": 1e+5, "m": -0.5E-3, "o": [true, false, null, {}, []] }`,
	`{"requestContext":{}` + strings.Repeat(`,"d":`+strings.Repeat("[", 10001)+strings.Repeat("]", 10001), 1) + `}`,
	`{"requestContext":{}` + strings.Repeat(`,"d":`+strings.Repeat("[", 9999)+strings.Repeat("]", 9999), 1) + `}`,
}

func TestDecodeEventAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, c := range eventCases {
		checkAgainstEncodingJSON(t, []byte(c))
	}
}

// FuzzDecodeEvent holds decodeEvent to encoding/json on arbitrary bytes.
func FuzzDecodeEvent(f *testing.F) {
	for _, c := range eventCases {
		if len(c) < 1000 {
			f.Add([]byte(c))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkAgainstEncodingJSON(t, b)
	})
}

// The decoder words each lexer problem its own way, with the offset where
// it is; jsonlex only says which problem it is.
func TestEventSyntaxErrorMessages(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ event, want string }{
		{`{"a":"x`, "unexpected end of JSON input in a string at offset 7"},
		{`{"a":"x\`, "unexpected end of JSON input in a string at offset 8"},
		{`{"a":"\q"}`, "invalid escape 'q' in a string at offset 6"},
		{`{"a":"\u12"}`, `invalid \u escape in a string at offset 6`},
		{"{\"a\":\"\x01\"}", "control character in a string at offset 6"},
		{`{"a":-}`, "invalid number at offset 6"},
		{`{"a":1.}`, "invalid number: no digits after the decimal point at offset 7"},
		{`{"a":1e}`, "invalid number: no digits in the exponent at offset 7"},
		{`{"a":nul}`, "invalid literal, want null at offset 5"},
		{"{\"a\":\xff}", "invalid character byte 0xff, want a value at offset 5"},
		{`{"a":1} x`, "invalid character 'x' after the event at offset 8"},
	} {
		_, err := decodeEvent([]byte(c.event))
		var syntax *eventSyntaxError
		if !errors.As(err, &syntax) || err.Error() != c.want {
			t.Errorf("decodeEvent(%q) = %v, want %q", c.event, err, c.want)
		}
	}
}
