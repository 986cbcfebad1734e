package api

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Each string member the decoder keeps is kept up to maxEventString bytes
// as written and refused past it, whichever member it is; the
// multi-value cache-control list is refused once its text passes it.
func TestEventStringBound(t *testing.T) {
	t.Parallel()
	at, over := strings.Repeat("a", maxEventString), strings.Repeat("a", maxEventString+1)
	escaped := strings.Repeat(`\u0001`, maxEventString/6+1) // short decoded, long as written
	for _, tt := range []struct{ what, event string }{
		{"version", `{"version":"%s","requestContext":{}}`},
		{"httpMethod", `{"httpMethod":"%s","requestContext":{}}`},
		{"rawPath", `{"version":"2.0","rawPath":"%s","requestContext":{}}`},
		{"path", `{"httpMethod":"GET","path":"%s","requestContext":{}}`},
		{"headers.cache-control", `{"version":"2.0","headers":{"Cache-Control":"%s"},"requestContext":{}}`},
		{"multiValueHeaders.cache-control", `{"httpMethod":"GET","multiValueHeaders":{"cache-control":["%s"]},"requestContext":{}}`},
		{"requestContext.stage", `{"version":"2.0","requestContext":{"stage":"%s"}}`},
		{"requestContext.http.method", `{"version":"2.0","requestContext":{"http":{"method":"%s"}}}`},
		{"requestContext.http.path", `{"version":"2.0","requestContext":{"http":{"path":"%s"}}}`},
		{"requestContext.authorizer.iam.userArn", `{"version":"2.0","requestContext":{"authorizer":{"iam":{"userArn":"%s"}}}}`},
		{"requestContext.identity.userArn", `{"httpMethod":"GET","requestContext":{"identity":{"userArn":"%s"}}}`},
	} {
		if _, err := decodeEvent([]byte(strings.Replace(tt.event, "%s", at, 1))); err != nil {
			t.Errorf("%s of %d bytes: %v", tt.what, len(at), err)
		}
		for _, long := range []string{over, escaped} {
			_, err := decodeEvent([]byte(strings.Replace(tt.event, "%s", long, 1)))
			var tl *stringTooLong
			if !errors.As(err, &tl) || tl.what != tt.what {
				t.Errorf("%s of %d bytes as written: %v, want it too long", tt.what, len(long), err)
			}
		}
	}
	// The list: kept while each element starts within the bound.
	list := func(elems ...string) []byte {
		return []byte(`{"httpMethod":"GET","multiValueHeaders":{"cache-control":["` + strings.Join(elems, `","`) + `"]},"requestContext":{}}`)
	}
	if ev, err := decodeEvent(list(at[:maxEventString-10], "no-cache")); err != nil || len(ev.MultiValueCacheControl) != 2 {
		t.Errorf("a list within the bound: %v, %d elements", err, len(ev.MultiValueCacheControl))
	}
	hundred := make([]string, maxHeaderValues)
	if ev, err := decodeEvent(list(hundred...)); err != nil || len(ev.MultiValueCacheControl) != maxHeaderValues {
		t.Errorf("a list of %d values: %v, %d elements", maxHeaderValues, err, len(ev.MultiValueCacheControl))
	}
	for _, elems := range [][]string{{at, "no-cache"}, append(hundred, "max-age=0")} {
		ev, err := decodeEvent(list(elems...))
		if err == nil || err.Error() != "multiValueHeaders.cache-control has more than 100 values or 65536 bytes" {
			t.Errorf("a list of %d values past the bound: %v", len(elems), err)
		}
		if n := len(ev.MultiValueCacheControl); n > maxHeaderValues {
			t.Errorf("a list past the bound: %d values kept", n)
		}
	}
	// Decoding goes on after a string too long, and the first error wins.
	ev, err := decodeEvent([]byte(`{"rawPath":"` + over + `","version":"2.0","requestContext":{"stage":5}}`))
	if err == nil || err.Error() != "rawPath is longer than 65536 bytes" || ev.Version != "2.0" || ev.RawPath != "" {
		t.Errorf("a long rawPath before a version: %v, %+v", err, ev.Version)
	}
}

// The 6 MB events: each is refused having allocated a small
// fraction of its size (the decoder once kept 18 MB of U+FFFD for the
// first, 2 M strings for the second and 1 MB of control characters for
// the third).
func TestLargeEventsDecodeSmall(t *testing.T) {
	const size = 6 << 20
	fill := func(prefix, unit, suffix string) []byte {
		return []byte(prefix + strings.Repeat(unit, (size-len(prefix)-len(suffix))/len(unit)) + suffix)
	}
	for _, tt := range []struct {
		what  string
		event []byte
	}{
		{"rawPath", fill(`{"version":"2.0","rawPath":"`, "\xff", `","requestContext":{}}`)},
		{"multiValueHeaders.cache-control", fill(`{"httpMethod":"POST","requestContext":{},"multiValueHeaders":{"cache-control":[""`, `,""`, `]}}`)},
		{"requestContext.authorizer.iam.userArn", fill(`{"version":"2.0","requestContext":{"authorizer":{"iam":{"userArn":"`, `\u0001`, `"}}}}`)},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := decodeEvent(tt.event)
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		var tl *stringTooLong
		if !errors.As(err, &tl) || tl.what != tt.what {
			t.Errorf("%s: %v, want it too long", tt.what, err)
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("6 MB %s: decoded in %v, %d KiB allocated", tt.what, took, alloc>>10)
		if alloc > 1<<20 {
			t.Errorf("6 MB %s: %d KiB allocated, want under 1 MiB", tt.what, alloc>>10)
		}
	}
}
