package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/maskresolver/maskresolver/internal/answer"
)

// maxAnswerBytes bounds what one answer may make the load test buffer
// (Lambda's synchronous response limit).
const maxAnswerBytes = 6 << 20

// newClient is a keep-alive client with one connection per worker, whose
// dialer refuses any address that is not loopback.
func newClient(c config) *http.Client {
	d := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("refusing to connect to %s: the load test runs against loopback only", address)
			}
			return nil
		},
	}
	return &http.Client{
		Timeout: c.requestTimeout,
		Transport: &http.Transport{
			Proxy:               nil, // a proxy would take the load off loopback
			DialContext:         d.DialContext,
			MaxIdleConns:        c.concurrency + 4,
			MaxIdleConnsPerHost: c.concurrency + 4,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Classes of outcome.
const (
	classOK          = iota // the expected answer (a 200, or the expected 422)
	classExplained          // 503 Throttled: Secrets Manager kept throttling past the SDK's retries
	classUnexplained        // anything else
	classCancelled          // the run was interrupted while the request was in flight
)

// loadResult is what the clients saw.
type loadResult struct {
	start, end  time.Time
	latencies   []time.Duration // of every request that got an answer or failed
	statuses    map[int]int     // 0: no answer (transport error)
	kinds       map[string]int
	ok          int
	explained   int
	unexplained int
	examples    []string // the first unexplained errors
	interrupted bool
}

const maxExamples = 8

// worker holds one client's tallies, merged at the end.
type worker struct {
	latencies   []time.Duration
	statuses    map[int]int
	kinds       map[string]int
	ok          int
	explained   int
	unexplained int
	examples    []string
}

// runLoad sends requests from c.concurrency clients until c.duration has
// passed, c.maxRequests have been sent, or ctx ends. A request in flight
// when the time is up is waited for, bounded by c.requestTimeout.
func runLoad(ctx context.Context, c config, client *http.Client, target string, m *mix, s *sampler) *loadResult {
	res := &loadResult{statuses: map[int]int{}, kinds: map[string]int{}}
	stopAt := time.Now().Add(c.duration)
	res.start = time.Now()
	s.start(ctx, res.start, c.duration)
	var sent atomic.Int64
	workers := make([]*worker, c.concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{statuses: map[int]int{}, kinds: map[string]int{}}
		workers[i] = w
		rnd := rand.New(rand.NewPCG(uint64(i), 0x10ad))
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(stopAt) {
				if c.maxRequests > 0 && sent.Add(1) > c.maxRequests {
					return
				}
				t := m.templates[rnd.IntN(len(m.templates))]
				w.do(ctx, client, target, t)
			}
		})
	}
	wg.Wait()
	res.end = time.Now()
	res.interrupted = ctx.Err() != nil
	for _, w := range workers {
		res.latencies = append(res.latencies, w.latencies...)
		for k, v := range w.statuses {
			res.statuses[k] += v
		}
		for k, v := range w.kinds {
			res.kinds[k] += v
		}
		res.ok += w.ok
		res.explained += w.explained
		res.unexplained += w.unexplained
		for _, e := range w.examples {
			if len(res.examples) < maxExamples {
				res.examples = append(res.examples, e)
			}
		}
	}
	slices.Sort(res.latencies)
	return res
}

func (w *worker) do(ctx context.Context, client *http.Client, target string, t *template) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(t.body))
	if err != nil {
		w.record(t, 0, 0, classUnexplained, err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/json")
	begin := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		class := classUnexplained
		if ctx.Err() != nil {
			class = classCancelled
		}
		w.record(t, 0, time.Since(begin), class, "no answer: "+err.Error())
		return
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	resp.Body.Close()
	elapsed := time.Since(begin)
	switch {
	case err != nil && ctx.Err() != nil:
		w.record(t, resp.StatusCode, elapsed, classCancelled, "")
	case err != nil:
		w.record(t, resp.StatusCode, elapsed, classUnexplained, "reading the answer: "+err.Error())
	case len(body) > maxAnswerBytes:
		w.record(t, resp.StatusCode, elapsed, classUnexplained, "an answer larger than 6 MB")
	default:
		class, why := verify(t, resp.StatusCode, resp.Header, body)
		w.record(t, resp.StatusCode, elapsed, class, why)
	}
}

func (w *worker) record(t *template, status int, d time.Duration, class int, why string) {
	if class == classCancelled {
		return
	}
	w.latencies = append(w.latencies, d)
	w.statuses[status]++
	w.kinds[t.kind]++
	switch class {
	case classOK:
		w.ok++
	case classExplained:
		w.explained++
	default:
		w.unexplained++
		if len(w.examples) < maxExamples {
			w.examples = append(w.examples, fmt.Sprintf("%s: status %d: %s", t.kind, status, why))
		}
	}
}

// verify classifies an answer to t. Its reasons name paths, keys and
// statuses, never a value.
func verify(t *template, status int, h http.Header, body []byte) (int, string) {
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return classUnexplained, fmt.Sprintf("Content-Type %q", ct)
	}
	if cc := h.Get("Cache-Control"); cc != "no-store" {
		return classUnexplained, fmt.Sprintf("Cache-Control %q, want no-store", cc)
	}
	var a answer.Body
	if err := json.Unmarshal(body, &a); err != nil {
		return classUnexplained, "malformed JSON: " + err.Error()
	}
	if status == http.StatusServiceUnavailable && a.Error != nil && throttled(a.Error.Code, a.Error.Masks) {
		return classExplained, "Throttled"
	}
	if t.exp == nil {
		return verifyShape(status, a)
	}
	if status != t.exp.status {
		code := ""
		if a.Error != nil {
			code = a.Error.Code
			for _, m := range a.Error.Masks {
				code += " " + m.Path + ":" + m.Code
			}
		}
		return classUnexplained, fmt.Sprintf("want status %d; error %s", t.exp.status, code)
	}
	for _, v := range t.exp.forbidden {
		if bytes.Contains(body, v) {
			return classUnexplained, "a secret value in an answer that must hold none"
		}
	}
	if status == http.StatusOK {
		if a.Error != nil {
			return classUnexplained, "an error member in a 200 answer"
		}
		if !sameJSON(a.Connection, t.exp.connection) {
			return classUnexplained, "the connection differs from the expected one (a wrong or missing value, or a changed member)"
		}
		if why := sameMasks(a.Masks, t.exp.masks); why != "" {
			return classUnexplained, "masks: " + why
		}
		return classOK, ""
	}
	if a.Error == nil || a.Error.Code != t.exp.errorCode || a.Connection != nil {
		return classUnexplained, fmt.Sprintf("want error.code %s and no connection", t.exp.errorCode)
	}
	if a.Error.Message == "" {
		return classUnexplained, "an error without a message"
	}
	if why := sameMasks(a.Error.Masks, t.exp.errMasks); why != "" {
		return classUnexplained, "error.masks: " + why
	}
	return classOK, ""
}

// throttled reports whether a 503 is Secrets Manager's throttling that
// outlasted the retries: the request's code, or each failing mask's.
func throttled(code string, masks []answer.MaskEntry) bool {
	if code == "Throttled" {
		return true
	}
	if code != "MaskResolutionFailed" || len(masks) == 0 {
		return false
	}
	saw := false
	for _, m := range masks {
		switch m.Code {
		case "Throttled":
			saw = true
		case "KeyNotFound": // a 4xx beside it: the 503 still wins
		default:
			return false
		}
	}
	return saw
}

// verifyShape checks an answer to a -payload body, whose values the test
// does not know.
func verifyShape(status int, a answer.Body) (int, string) {
	if status != http.StatusOK {
		return classUnexplained, "want status 200"
	}
	if a.Connection == nil || a.Error != nil {
		return classUnexplained, "a 200 answer without connection, or with error"
	}
	for _, m := range a.Masks {
		if m.Status != "resolved" && m.Status != "verified" {
			return classUnexplained, fmt.Sprintf("mask %s has status %q", m.Path, m.Status)
		}
	}
	return classOK, ""
}

// sameJSON compares two JSON texts token by token: member order, numbers
// as written and string contents count; whitespace and escaping do not.
func sameJSON(a, b []byte) bool {
	ta, ea := tokens(a)
	tb, eb := tokens(b)
	return ea == nil && eb == nil && slices.Equal(ta, tb)
}

func tokens(b []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out []string
	for {
		t, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprintf("%T:%v", t, t))
	}
}

// sameMasks compares two lists of mask entries in any order.
func sameMasks(got, want []answer.MaskEntry) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d entries, want %d", len(got), len(want))
	}
	key := func(m answer.MaskEntry) string {
		return m.Path + "\x00" + m.Key + "\x00" + m.SecretARN + "\x00" + m.Status + "\x00" + m.Code
	}
	g := make([]string, len(got))
	w := make([]string, len(want))
	for i := range got {
		g[i], w[i] = key(got[i]), key(want[i])
	}
	slices.Sort(g)
	slices.Sort(w)
	for i := range g {
		if g[i] != w[i] {
			return fmt.Sprintf("an entry differs: got %q, want %q", strings.ReplaceAll(g[i], "\x00", " "), strings.ReplaceAll(w[i], "\x00", " "))
		}
	}
	return ""
}
