package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"go.uber.org/goleak"

	"github.com/maskresolver/maskresolver/internal/lambdatest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	lambdatest.RemoveBuilds()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

const testCaller = "arn:aws:iam::137149879143:role/local-developer"

// fakeEmulator records the events posted to it and answers with reply.
type fakeEmulator struct {
	mu     sync.Mutex
	events []events.APIGatewayV2HTTPRequest
	status int
	reply  string
}

func (e *fakeEmulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != invokePath {
		http.Error(w, "wrong route "+r.Method+" "+r.URL.Path, http.StatusTeapot)
		return
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		http.Error(w, err.Error(), http.StatusTeapot)
		return
	}
	e.mu.Lock()
	e.events = append(e.events, ev)
	e.mu.Unlock()
	if e.status != 0 {
		w.WriteHeader(e.status)
	}
	io.WriteString(w, e.reply)
}

func (e *fakeEmulator) last(t *testing.T) events.APIGatewayV2HTTPRequest {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.events) != 1 {
		t.Fatalf("the emulator got %d events, want 1", len(e.events))
	}
	return e.events[0]
}

// serve puts a front before emu and returns its URL.
func serve(t *testing.T, emu http.Handler) string {
	t.Helper()
	es := httptest.NewServer(emu)
	t.Cleanup(es.Close)
	f := newFront([]string{es.URL}, testCaller)
	f.now = func() time.Time { return time.UnixMilli(1764349200000) }
	fs := httptest.NewServer(f)
	t.Cleanup(func() {
		fs.Close()
		f.wait()
	})
	return fs.URL
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	http.DefaultClient.CloseIdleConnections()
	return resp, string(b)
}

const okReply = `{"statusCode":200,"headers":{"Content-Type":"application/json","Cache-Control":"no-store"},"body":"{\"ok\":true}"}`

func TestEventPOST(t *testing.T) {
	t.Parallel()
	emu := &fakeEmulator{reply: okReply}
	url := serve(t, emu)
	body := `{"connection":{"a":"b"}}`
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/resolve?x=1&x=2&y=%20", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "devserver-test/1")
	req.Header.Add("X-Custom-Thing", "one")
	req.Header.Add("X-Custom-Thing", "two")
	req.Header.Set("Cookie", "a=1; b=2")
	resp, got := do(t, req)
	if resp.StatusCode != http.StatusOK || got != `{"ok":true}` {
		t.Fatalf("answer %d %s", resp.StatusCode, got)
	}

	ev := emu.last(t)
	rc := ev.RequestContext
	checks := []struct{ name, got, want string }{
		{"version", ev.Version, "2.0"},
		{"routeKey", ev.RouteKey, "POST /v1/resolve"},
		{"requestContext.routeKey", rc.RouteKey, "POST /v1/resolve"},
		{"rawPath", ev.RawPath, "/v1/resolve"},
		{"rawQueryString", ev.RawQueryString, "x=1&x=2&y=%20"},
		{"queryStringParameters.x", ev.QueryStringParameters["x"], "1,2"},
		{"queryStringParameters.y", ev.QueryStringParameters["y"], " "},
		{"headers.content-type", ev.Headers["content-type"], "application/json; charset=utf-8"},
		{"headers.x-custom-thing", ev.Headers["x-custom-thing"], "one,two"},
		{"headers.user-agent", ev.Headers["user-agent"], "devserver-test/1"},
		{"headers.content-length", ev.Headers["content-length"], "24"},
		{"headers.host", ev.Headers["host"], strings.TrimPrefix(url, "http://")},
		{"headers.x-forwarded-for", ev.Headers["x-forwarded-for"], "127.0.0.1"},
		{"headers.cookie", ev.Headers["cookie"], ""},
		{"cookies", strings.Join(ev.Cookies, "|"), "a=1|b=2"},
		{"http.method", rc.HTTP.Method, "POST"},
		{"http.path", rc.HTTP.Path, "/v1/resolve"},
		{"http.protocol", rc.HTTP.Protocol, "HTTP/1.1"},
		{"http.sourceIp", rc.HTTP.SourceIP, "127.0.0.1"},
		{"http.userAgent", rc.HTTP.UserAgent, "devserver-test/1"},
		{"stage", rc.Stage, "$default"},
		{"accountId", rc.AccountID, "137149879143"},
		{"time", rc.Time, "28/Nov/2025:17:00:00 +0000"},
		{"body", ev.Body, body},
		{"requestId set", resp.Header.Get("Apigw-Requestid"), rc.RequestID},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	for name := range ev.Headers {
		if name != strings.ToLower(name) {
			t.Errorf("header %q is not lower-case", name)
		}
	}
	if rc.TimeEpoch != 1764349200000 {
		t.Errorf("timeEpoch = %d", rc.TimeEpoch)
	}
	if rc.RequestID == "" {
		t.Error("no requestId")
	}
	if ev.IsBase64Encoded {
		t.Error("a JSON body is base64-encoded")
	}
	if rc.Authorizer == nil || rc.Authorizer.IAM == nil || rc.Authorizer.IAM.UserARN != testCaller {
		t.Errorf("authorizer = %+v, want iam.userArn %s", rc.Authorizer, testCaller)
	}
}

// TestEventCacheControl: the function reads freshness from the request's
// Cache-Control header (no-cache, max-age=N), so the front must pass it on
// as API Gateway does: under a lower-case name, repeated lines joined by
// commas.
func TestEventCacheControl(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		values []string // one header line each; none: no header
		want   string
	}{
		{"no-cache", []string{"no-cache"}, "no-cache"},
		{"max-age", []string{"max-age=0"}, "max-age=0"},
		{"several directives", []string{"max-age=30, no-transform"}, "max-age=30, no-transform"},
		{"repeated lines", []string{"max-age=60", "no-cache"}, "max-age=60,no-cache"},
		{"malformed kept as sent", []string{"max-age=soon"}, "max-age=soon"},
		{"absent", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu := &fakeEmulator{reply: okReply}
			url := serve(t, emu)
			req, _ := http.NewRequest(http.MethodPost, url+"/v1/resolve", strings.NewReader(`{"connection":{},"max_age":0}`))
			req.Header.Set("Content-Type", "application/json")
			for _, v := range tc.values {
				req.Header.Add("Cache-Control", v)
			}
			do(t, req)
			ev := emu.last(t)
			got, ok := ev.Headers["cache-control"]
			if got != tc.want || ok != (tc.values != nil) {
				t.Errorf("headers[cache-control] = %q (present %v), want %q", got, ok, tc.want)
			}
			if v, ok := ev.Headers["Cache-Control"]; ok {
				t.Errorf("headers has Cache-Control %q under its canonical name", v)
			}
			// The body, and its max_age, reach the function untouched.
			if ev.Body != `{"connection":{},"max_age":0}` {
				t.Errorf("body = %q", ev.Body)
			}
		})
	}
}

func TestEventRouteAndBody(t *testing.T) {
	t.Parallel()
	binary := "\x00\x01{\xff"
	for _, tc := range []struct {
		name, method, path, contentType, body string
		route                                 string
		base64                                bool
	}{
		{"GET on the route", http.MethodGet, "/v1/resolve", "", "", "$default", false},
		{"other path", http.MethodPost, "/v2/other", "application/json", "{}", "$default", false},
		{"text body", http.MethodPost, "/v1/resolve", "text/plain", "hello", routeKey, false},
		{"vendor JSON", http.MethodPost, "/v1/resolve", "application/vnd.api+json", "{}", routeKey, false},
		{"binary body", http.MethodPost, "/v1/resolve", "application/octet-stream", binary, routeKey, true},
		{"no content type", http.MethodPost, "/v1/resolve", "", "{}", routeKey, true},
		{"JSON that is not UTF-8", http.MethodPost, "/v1/resolve", "application/json", binary, routeKey, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu := &fakeEmulator{reply: okReply}
			url := serve(t, emu)
			req, _ := http.NewRequest(tc.method, url+tc.path, strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			do(t, req)
			ev := emu.last(t)
			if ev.RouteKey != tc.route || ev.RequestContext.HTTP.Method != tc.method || ev.RawPath != tc.path {
				t.Errorf("routeKey %q method %q rawPath %q", ev.RouteKey, ev.RequestContext.HTTP.Method, ev.RawPath)
			}
			if ev.IsBase64Encoded != tc.base64 {
				t.Errorf("isBase64Encoded = %v, want %v", ev.IsBase64Encoded, tc.base64)
			}
			got := ev.Body
			if ev.IsBase64Encoded {
				b, err := base64.StdEncoding.DecodeString(ev.Body)
				if err != nil {
					t.Fatal(err)
				}
				got = string(b)
			}
			if got != tc.body {
				t.Errorf("body = %q, want %q", got, tc.body)
			}
		})
	}
}

func TestResponse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		status     int    // the emulator's HTTP status
		reply      string // the function's result
		wantStatus int
		wantBody   string // exact, or a prefix when it ends in "..."
		wantHeader map[string][]string
	}{
		{
			name:       "proxy response",
			reply:      `{"statusCode":405,"headers":{"Allow":"POST","Content-Type":"application/json"},"multiValueHeaders":{"X-Multi":["a","b"]},"cookies":["s=1; Path=/"],"body":"{\"error\":{}}"}`,
			wantStatus: http.StatusMethodNotAllowed,
			wantBody:   `{"error":{}}`,
			wantHeader: map[string][]string{"Allow": {"POST"}, "Content-Type": {"application/json"}, "X-Multi": {"a", "b"}, "Set-Cookie": {"s=1; Path=/"}},
		},
		{
			name:       "base64 body",
			reply:      `{"statusCode":200,"body":"AAEC","isBase64Encoded":true}`,
			wantStatus: http.StatusOK,
			wantBody:   "\x00\x01\x02",
		},
		{
			name:       "not a proxy response",
			reply:      `{"connection":{}}`,
			wantStatus: http.StatusOK,
			wantBody:   `{"connection":{}}`,
			wantHeader: map[string][]string{"Content-Type": {"application/json"}},
		},
		{
			name:       "function error",
			reply:      `{"errorMessage":"boom","errorType":"errorString"}`,
			wantStatus: http.StatusBadGateway,
			wantBody:   `{"message":"Bad Gateway: the function returned an error...`,
			wantHeader: map[string][]string{"Content-Type": {"application/json"}},
		},
		{
			name:       "not JSON",
			reply:      `Task timed out after 15.00 seconds`,
			wantStatus: http.StatusBadGateway,
			wantBody:   `{"message":"Bad Gateway: the function's result is not JSON"}` + "\n",
		},
		{
			name:       "emulator error",
			status:     http.StatusBadGateway,
			reply:      `{"errorType":"Runtime.ExitError"}`,
			wantStatus: http.StatusBadGateway,
			wantBody:   `{"message":"Bad Gateway: the emulator answered 502 Bad Gateway...`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := serve(t, &fakeEmulator{status: tc.status, reply: tc.reply})
			req, _ := http.NewRequest(http.MethodPost, url+"/v1/resolve", strings.NewReader("{}"))
			resp, body := do(t, req)
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d (%s)", resp.StatusCode, tc.wantStatus, body)
			}
			if prefix, ok := strings.CutSuffix(tc.wantBody, "..."); ok {
				if !strings.HasPrefix(body, prefix) {
					t.Errorf("body = %q, want prefix %q", body, prefix)
				}
			} else if body != tc.wantBody {
				t.Errorf("body = %q, want %q", body, tc.wantBody)
			}
			for k, want := range tc.wantHeader {
				if got := resp.Header.Values(k); strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestEmulatorDown(t *testing.T) {
	t.Parallel()
	es := httptest.NewServer(http.NotFoundHandler())
	es.Close() // nothing listens there any more
	fs := httptest.NewServer(newFront([]string{es.URL}, testCaller))
	defer fs.Close()
	req, _ := http.NewRequest(http.MethodPost, fs.URL+"/v1/resolve", strings.NewReader("{}"))
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("answer %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var msg struct{ Message string }
	if err := json.Unmarshal([]byte(body), &msg); err != nil || !strings.Contains(msg.Message, "invoke the function") {
		t.Errorf("body %q (%v)", body, err)
	}
}

func TestRequestTooLarge(t *testing.T) {
	t.Parallel()
	emu := &fakeEmulator{reply: okReply}
	url := serve(t, emu)
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/resolve", strings.NewReader(strings.Repeat(" ", maxRequestBytes+1)))
	req.Header.Set("Content-Type", "application/json")
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("answer %d %s", resp.StatusCode, body)
	}
	emu.mu.Lock()
	defer emu.mu.Unlock()
	if len(emu.events) != 0 {
		t.Error("an oversized request reached the function")
	}
}

// The emulator crashes when a second invocation arrives while one runs, so
// the front must never have two in flight.
func TestOneInvocationAtATime(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	running, most := 0, 0
	emu := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
		io.WriteString(w, okReply)
	})
	url := serve(t, emu)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, url+"/v1/resolve", strings.NewReader("{}"))
			if resp, body := do(t, req); resp.StatusCode != http.StatusOK {
				t.Errorf("answer %d %s", resp.StatusCode, body)
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if most != 1 {
		t.Errorf("%d invocations ran at once", most)
	}
}

// With several environments, requests run at once up to their number, but
// never two in one environment; a request waits while all are busy.
func TestInvocationsSpreadOverEnvironments(t *testing.T) {
	t.Parallel()
	const envs, requests = 3, 24
	var mu sync.Mutex
	total, most := 0, 0
	running := map[string]int{}
	var urls []string
	for range envs {
		es := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			running[r.Host]++
			total++
			most = max(most, total)
			if running[r.Host] > 1 {
				t.Errorf("two invocations at once in %s", r.Host)
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			running[r.Host]--
			total--
			mu.Unlock()
			io.WriteString(w, okReply)
		}))
		t.Cleanup(es.Close)
		urls = append(urls, es.URL)
	}
	f := newFront(urls, testCaller)
	fs := httptest.NewServer(f)
	t.Cleanup(func() {
		fs.Close()
		f.wait()
	})
	var wg sync.WaitGroup
	for range requests {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, fs.URL+"/v1/resolve", strings.NewReader("{}"))
			if resp, body := do(t, req); resp.StatusCode != http.StatusOK {
				t.Errorf("answer %d %s", resp.StatusCode, body)
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if most > envs || most < 2 {
		t.Errorf("%d invocations ran at once over %d environments", most, envs)
	}
	var sum int64
	for i, n := range f.invocations() {
		if n == 0 {
			t.Errorf("environment %d got no invocation", i)
		}
		sum += n
	}
	if sum != requests {
		t.Errorf("invocations sum to %d, want %d", sum, requests)
	}
}
