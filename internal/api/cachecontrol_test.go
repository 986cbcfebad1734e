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
	}
	for _, tt := range tests {
		d, set, err := parseCacheControl(tt.in)
		if (err != nil) != tt.bad || d != tt.maxAge || set != tt.set {
			t.Errorf("%q: %v %v %v; want %v %v bad=%v", tt.in, d, set, err, tt.maxAge, tt.set, tt.bad)
		}
	}
}

func TestHeaderLookup(t *testing.T) {
	t.Parallel()
	if got := header(map[string]string{"cache-control": "no-cache"}, nil, "Cache-Control"); got != "no-cache" {
		t.Errorf("HTTP API lower-case: %q", got)
	}
	if got := header(map[string]string{"Cache-Control": "max-age=1"}, map[string][]string{"Cache-Control": {"max-age=9", "no-cache"}}, "cache-control"); got != "max-age=9,no-cache" {
		t.Errorf("REST multi-value: %q", got)
	}
	if got := header(nil, nil, "Cache-Control"); got != "" {
		t.Errorf("none: %q", got)
	}
}
