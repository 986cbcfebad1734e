package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
	"sync"
)

// logSink receives the JSON log lines of every environment of a scenario
// and adds up what they say. Environments log concurrently, so it is safe
// for concurrent use; each line is decoded outside the lock, and only
// lines it reads are decoded at all, so that logging costs the fleet
// little.
type logSink struct {
	mu sync.Mutex
	t  logTotals
}

// logTotals is what the lines of one scenario said.
type logTotals struct {
	// From the one summary line ("message":"request") of each request.
	Requests          int            `json:"requests"`
	Status            map[string]int `json:"status"`
	SMCalls           int            `json:"secretsmanager_calls"`
	ThrottlesAbsorbed int            `json:"throttles_absorbed"`
	CacheHits         int            `json:"cache_hits"`
	CacheMisses       int            `json:"cache_misses"`
	StaleServed       int            `json:"stale_served"`
	// From "secret read failed" lines: failures by code, and how many
	// were the process running out of file descriptors.
	ReadFailures map[string]int `json:"read_failures,omitempty"`
	// FailureCauses counts the failures by the tail of their error text,
	// numbers masked: a connection refused or timed out is the machine's
	// limit, a throttle the quotas'.
	FailureCauses  map[string]int `json:"failure_causes,omitempty"`
	OpenFileErrors int            `json:"open_file_errors,omitempty"`
	Undecoded      int            `json:"undecoded_lines,omitempty"`
}

func newLogSink() *logSink {
	return &logSink{t: logTotals{Status: map[string]int{}, ReadFailures: map[string]int{}, FailureCauses: map[string]int{}}}
}

var (
	summaryMarker = []byte(`"message":"request"`)
	failureMarker = []byte(`"message":"secret read failed"`)
)

// Write takes one or more whole lines; slog's JSON handler writes each
// record with one Write.
func (s *logSink) Write(p []byte) (int, error) {
	for line := range bytes.SplitSeq(bytes.TrimRight(p, "\n"), []byte("\n")) {
		s.line(line)
	}
	return len(p), nil
}

func (s *logSink) line(b []byte) {
	isSummary := bytes.Contains(b, summaryMarker)
	if !isSummary && !bytes.Contains(b, failureMarker) {
		return
	}
	var l struct {
		Status            int    `json:"status"`
		SMCalls           int    `json:"secretsmanager_calls"`
		ThrottlesAbsorbed int    `json:"throttles_absorbed"`
		CacheHits         int    `json:"cache_hits"`
		CacheMisses       int    `json:"cache_misses"`
		StaleServed       int    `json:"stale_served"`
		Code              string `json:"code"`
		Error             string `json:"error"`
	}
	err := json.Unmarshal(b, &l)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil:
		s.t.Undecoded++
	case isSummary:
		s.t.Requests++
		s.t.Status[statusKey(l.Status)]++
		s.t.SMCalls += l.SMCalls
		s.t.ThrottlesAbsorbed += l.ThrottlesAbsorbed
		s.t.CacheHits += l.CacheHits
		s.t.CacheMisses += l.CacheMisses
		s.t.StaleServed += l.StaleServed
	default:
		s.t.ReadFailures[l.Code]++
		s.t.FailureCauses[cause(l.Error)]++
		if strings.Contains(l.Error, "too many open files") {
			s.t.OpenFileErrors++
		}
	}
}

// reset starts the counts afresh; the environments keep writing to s.
func (s *logSink) reset() {
	fresh := newLogSink()
	s.mu.Lock()
	s.t = fresh.t
	s.mu.Unlock()
}

// totals returns a copy of what the lines said so far.
func (s *logSink) totals() logTotals {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.t
	t.Status = maps.Clone(s.t.Status)
	t.ReadFailures = maps.Clone(s.t.ReadFailures)
	t.FailureCauses = maps.Clone(s.t.FailureCauses)
	return t
}

// maxCause bounds the text kept of one cause.
const maxCause = 100

// cause is the end of an SDK error's text, after the request URL, with
// digits masked so that ports and counts do not split alike causes:
//
//	... Post "http://127.0.0.1:N/": dial tcp 127.0.0.1:N: connect: connection refused
//
// becomes "dial tcp N.N.N.N:N: connect: connection refused".
func cause(err string) string {
	if i := strings.LastIndex(err, `": `); i >= 0 {
		err = err[i+3:]
	} else if i := strings.LastIndex(err, "api error "); i >= 0 {
		err = err[i:]
	}
	b := make([]byte, 0, len(err))
	for i := 0; i < len(err); i++ {
		c := err[i]
		if c >= '0' && c <= '9' {
			if len(b) == 0 || b[len(b)-1] != 'N' {
				b = append(b, 'N')
			}
			continue
		}
		b = append(b, c)
	}
	if len(b) > maxCause {
		// The end names the root cause; the start, the operation.
		return "…" + string(b[len(b)-maxCause:])
	}
	return string(b)
}
