package config

import (
	"fmt"
	"strings"
)

// Pattern is an ARN pattern in which '*' matches any run of characters
// (colons included) and '?' matches one character, as in IAM policy
// resources. Every other character matches itself, case-sensitively.
type Pattern string

// Match reports whether s matches the pattern.
//
// The algorithm is the usual greedy wildcard match with backtracking to the
// last '*': linear in practice and never exponential, which matters because
// the patterns come from configuration but the ARNs come from callers.
func (p Pattern) Match(s string) bool {
	pat := string(p)
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(pat) && pat[pi] == '*':
			// Before the literal case: a '*' in s must not be taken
			// for the pattern's wildcard matching itself.
			star, mark = pi, si
			pi++
		case pi < len(pat) && (pat[pi] == '?' || pat[pi] == s[si]):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi] == '*' {
		pi++
	}
	return pi == len(pat)
}

// Patterns is a list of patterns; it matches when any of its patterns does.
type Patterns []Pattern

// Match reports whether any pattern matches s.
func (ps Patterns) Match(s string) bool {
	for _, p := range ps {
		if p.Match(s) {
			return true
		}
	}
	return false
}

// parsePatterns checks a list of patterns (already split, by the caller, at
// commas or from a JSON list), trimming each and dropping blanks. A pattern
// must look like an ARN (start with "arn:" or be "*") so that a typo such as
// a bare secret name fails loudly instead of allowing nothing.
func parsePatterns(list []string) (Patterns, error) {
	ps, bad := compilePatterns(list)
	if bad >= 0 {
		return nil, fmt.Errorf("pattern %q %s", strings.TrimSpace(list[bad]), errNotPattern)
	}
	return ps, nil
}

// errNotPattern says what a pattern must look like.
const errNotPattern = `must be an ARN pattern starting with "arn:" or "*"`

// compilePatterns is parsePatterns for callers that must not quote what
// they were given (a scopes document): it returns the index in list of the
// first entry that is not a pattern, or -1.
func compilePatterns(list []string) (Patterns, int) {
	var ps Patterns
	for i, raw := range list {
		p := strings.TrimSpace(raw)
		if p == "" {
			continue
		}
		if p != "*" && !strings.HasPrefix(p, "arn:") {
			return nil, i
		}
		ps = append(ps, Pattern(p))
	}
	return ps, -1
}
