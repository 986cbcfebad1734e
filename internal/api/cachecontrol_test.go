package api

import (
	"testing"
	"time"
)

func TestParseCacheControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		maxAge time.Duration
		set    bool
		bad    bool
	}{
		{in: ""},
		{in: "no-store, private"},
		{in: "no-cache", set: true},
		{in: "No-Cache", set: true},
		{in: "max-age=300", maxAge: 300 * time.Second, set: true},
		{in: " MAX-AGE=30 , no-transform", maxAge: 30 * time.Second, set: true},
		{in: "max-age=60, no-cache", set: true},
		{in: "max-age=60,max-age=5", maxAge: 5 * time.Second, set: true},
		{in: "max-age=99999999999999999999", maxAge: maxMaxAge * time.Second, set: true},
		{in: "max-age=", bad: true},
		{in: "max-age", bad: true},
		{in: "max-age=-1", bad: true},
		{in: "max-age=1.5", bad: true},
		{in: `max-age="5"`, bad: true},
		{in: "max-age=5s", bad: true},
		{in: "max-age=0", set: true},
		{in: "MAX-AGE=5", maxAge: 5 * time.Second, set: true},
		{in: " max-age=3 , no-cache", set: true},
		{in: "max-age=abc", bad: true},
		{in: `max-age="0"`, bad: true},
		// No whitespace around "=": RFC 9111's max-age=delta-seconds has
		// none, so each of these is malformed, not ignored.
		{in: "max-age = 0", bad: true},
		{in: "max-age =0", bad: true},
		{in: "max-age= 0", bad: true},
		{in: "max-age\t=0", bad: true},
		{in: "no-cache, max-age = 0", bad: true},
	}
	for _, tt := range tests {
		d, set, err := parseCacheControl(tt.in)
		if (err != nil) != tt.bad || d != tt.maxAge || set != tt.set {
			t.Errorf("%q: %v %v %v; want %v %v bad=%v", tt.in, d, set, err, tt.maxAge, tt.set, tt.bad)
		}
	}
}

// The event decoder finds Cache-Control however API Gateway spells it:
// lower-cased in an HTTP API event, as sent (and repeated in
// multiValueHeaders) in a REST API event.
func TestEventCacheControl(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, event, want string }{
		{"http api", `{"version":"2.0","headers":{"cache-control":"no-cache"},"requestContext":{"http":{"method":"POST"}}}`, "no-cache"},
		{"rest as sent", `{"httpMethod":"POST","headers":{"Cache-Control":"max-age=1"},"requestContext":{}}`, "max-age=1"},
		{"rest multi-value", `{"httpMethod":"POST","headers":{"Cache-Control":"max-age=1"},"multiValueHeaders":{"Cache-Control":["max-age=9","no-cache"]},"requestContext":{}}`, "max-age=9,no-cache"},
		{"none", `{"version":"2.0","headers":{"accept":"*/*"},"requestContext":{}}`, ""},
	} {
		ev, err := decodeEvent([]byte(tt.event))
		if err != nil {
			t.Fatal(err)
		}
		if r, _, _ := ev.request(); r.cacheControl != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, r.cacheControl, tt.want)
		}
	}
}
