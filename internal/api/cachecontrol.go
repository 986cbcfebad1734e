package api

import (
	"errors"
	"strings"
	"time"
)

// maxMaxAge caps a max-age, as the resolver caps the body's max_age.
const maxMaxAge = 1 << 31

// parseCacheControl reads a request's Cache-Control header (the README's
// HTTP API section):
//
//	CacheControl := Directive { "," Directive }
//	Directive    := "no-cache" | "max-age=" [0-9]+ | any other directive (ignored)
//
// no-cache means max-age 0; of several, the smallest wins. Directive
// names are case-insensitive (RFC 9111). A directive named max-age that is
// not exactly max-age=<digits> is an error, whitespace around "=" included
// (RFC 9111 writes the argument as delta-seconds with no whitespace): a
// caller asking for fresh values must not silently get cached ones.
func parseCacheControl(v string) (maxAge time.Duration, set bool, err error) {
	for d := range strings.SplitSeq(v, ",") {
		name, arg, hasArg := strings.Cut(strings.TrimSpace(d), "=")
		var n time.Duration
		switch {
		case strings.EqualFold(name, "no-cache") && !hasArg:
		case strings.EqualFold(strings.TrimRight(name, " \t"), "max-age"):
			secs, ok := parseSeconds(arg)
			if !ok || !hasArg || len(name) != len("max-age") {
				return 0, false, errors.New(`the Cache-Control header's max-age must be max-age=<seconds>: a non-negative integer, no quotes, no spaces`)
			}
			n = secs
		default:
			continue
		}
		if !set || n < maxAge {
			maxAge, set = n, true
		}
	}
	return maxAge, set, nil
}

func parseSeconds(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = min(n*10+int(s[i]-'0'), maxMaxAge)
	}
	return time.Duration(n) * time.Second, true
}
