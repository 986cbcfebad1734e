package loadreport

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// Percentile is the nearest-rank percentile p (0 to 100) of durations
// sorted in ascending order: the smallest of them with at least p % of
// them at or below it. p 0 gives the least, 100 the greatest, and no
// durations give 0.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Millis is d in milliseconds, to the microsecond: what a report prints
// and what a JSON report holds.
func Millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// A Count is one entry of a line of counts.
type Count struct {
	Name string
	N    int
}

// ByKey lists m's counts in the order of their keys (statuses 200 before
// 503), each named by its key as fmt prints it.
func ByKey[K cmp.Ordered](m map[K]int) []Count {
	keys := slices.Sorted(maps.Keys(m))
	out := make([]Count, len(keys))
	for i, k := range keys {
		out[i] = Count{fmt.Sprint(k), m[k]}
	}
	return out
}

// Largest lists m's counts largest first, equal counts by name.
func Largest(m map[string]int) []Count {
	out := ByKey(m)
	slices.SortStableFunc(out, func(a, b Count) int { return b.N - a.N })
	return out
}

// Line writes counts as "name: n", joined by sep; no counts give "".
func Line(counts []Count, sep string) string {
	parts := make([]string, len(counts))
	for i, c := range counts {
		parts[i] = fmt.Sprintf("%s: %d", c.Name, c.N)
	}
	return strings.Join(parts, sep)
}
