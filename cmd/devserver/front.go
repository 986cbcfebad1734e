package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Limits of the front. API Gateway accepts request bodies up to 10 MB and
// Lambda returns at most 6 MB synchronously; the front holds the same line
// so that a local run fails where the deployed API would.
const (
	maxRequestBytes  = 10 << 20
	maxResponseBytes = 6 << 20
	// invokePath is the one route of the emulator.
	invokePath = "/2015-03-31/functions/function/invocations"
	// routeKey is the route template.yaml declares; every other request is
	// forwarded as $default so that the function's own 404/405 show.
	routeKey = "POST /v1/resolve"
)

// front is an http.Handler that stands in for an API Gateway HTTP API with
// one Lambda proxy integration, payload format 2.0. Each request becomes an
// events.APIGatewayV2HTTPRequest posted to a free execution environment (an
// emulator), and the function's events.APIGatewayV2HTTPResponse becomes the
// HTTP answer.
type front struct {
	caller  string // the IAM principal the IAM authorizer reports
	account string // requestContext.accountId
	client  *http.Client
	// envs are the execution environments, each an emulator that takes one
	// invocation at a time and crashes on a second one sent while the
	// first runs. free holds those with no invocation running: Lambda
	// would start another environment when all are busy, here the request
	// waits for one.
	envs     []*environment
	free     chan *environment
	inflight sync.WaitGroup
	now      func() time.Time
}

// environment is one execution environment behind the front.
type environment struct {
	invokeURL   string // the emulator's invocation URL
	invocations atomic.Int64
}

// newFront returns a front that spreads invocations over the emulators at
// emulatorURLs, one invocation at a time each.
func newFront(emulatorURLs []string, caller string) *front {
	f := &front{
		caller:  caller,
		account: accountOf(caller),
		client:  &http.Client{},
		free:    make(chan *environment, len(emulatorURLs)),
		now:     time.Now,
	}
	for _, u := range emulatorURLs {
		e := &environment{invokeURL: strings.TrimSuffix(u, "/") + invokePath}
		f.envs = append(f.envs, e)
		f.free <- e
	}
	return f
}

// invocations returns how many invocations each environment has started.
func (f *front) invocations() []int64 {
	n := make([]int64, len(f.envs))
	for i, e := range f.envs {
		n[i] = e.invocations.Load()
	}
	return n
}

// accountOf returns the account field of an ARN, or a placeholder.
func accountOf(arn string) string {
	if f := strings.Split(arn, ":"); len(f) >= 6 && len(f[4]) == 12 {
		return f[4]
	}
	return "123456789012"
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ev, err := f.event(r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeGatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
			return
		}
		writeGatewayError(w, http.StatusBadRequest, "Bad Request: "+err.Error())
		return
	}
	w.Header().Set("Apigw-Requestid", ev.RequestContext.RequestID)
	payload, err := json.Marshal(ev)
	if err != nil {
		writeGatewayError(w, http.StatusInternalServerError, "encode event: "+err.Error())
		return
	}
	raw, err := f.invoke(r.Context(), payload)
	if err != nil {
		writeGatewayError(w, http.StatusBadGateway, "Bad Gateway: "+err.Error())
		return
	}
	resp, err := decodeResponse(raw)
	if err != nil {
		writeGatewayError(w, http.StatusBadGateway, "Bad Gateway: "+err.Error())
		return
	}
	writeResponse(w, resp)
}

// event translates r as API Gateway does for payload format 2.0.
func (f *front) event(r *http.Request) (events.APIGatewayV2HTTPRequest, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxRequestBytes))
	if err != nil {
		return events.APIGatewayV2HTTPRequest{}, fmt.Errorf("read body: %w", err)
	}
	now := f.now()
	route := "$default"
	if r.Method+" "+r.URL.Path == routeKey {
		route = routeKey
	}
	sourceIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	// Every header passes, named and joined as payload 2.0 does: the
	// function reads Cache-Control for freshness (no-cache and max-age=N
	// ask for values read at most so long ago), and a local run must see
	// the caller's directives as the deployed function would.
	headers := map[string]string{"host": r.Host}
	var cookies []string
	for name, vals := range r.Header {
		name = strings.ToLower(name)
		if name == "cookie" {
			// Payload 2.0 moves cookies out of the headers.
			for _, v := range vals {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[name] = strings.Join(vals, ",")
	}
	if len(body) > 0 {
		headers["content-length"] = fmt.Sprint(len(body))
	}
	headers["x-forwarded-for"] = sourceIP
	headers["x-forwarded-proto"] = "http"
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		headers["x-forwarded-port"] = port
	}
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = make(map[string]string, len(q))
		for k, vs := range q {
			query[k] = strings.Join(vs, ",")
		}
	}
	id := requestID()
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              route,
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     route,
			AccountID:    f.account,
			Stage:        "$default",
			RequestID:    id,
			APIID:        "local",
			DomainName:   r.Host,
			DomainPrefix: strings.SplitN(r.Host, ".", 2)[0],
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if f.caller != "" {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
				AccessKey: "ASIALOCALDEVSERVER01",
				AccountID: f.account,
				CallerID:  "AROALOCALDEVSERVER01:local",
				UserARN:   f.caller,
				UserID:    "AROALOCALDEVSERVER01:local",
			},
		}
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			// Invalid UTF-8 is encoded too: a JSON string could not carry
			// it unchanged, and the function must see the bytes as sent.
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev, nil
}

// isText reports whether API Gateway passes a body of this content type as
// text rather than base64.
func isText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript":
		return true
	}
	return false
}

// requestID returns an id shaped like API Gateway's.
func requestID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// invoke posts one event to a free environment and returns the function's
// result.
//
// An emulator takes one invocation at a time, and a second one sent while
// the first runs crashes it (a nil pointer panic after "ReserveFailed:
// AlreadyReserved"). So a request waits for a free environment, and an
// invocation that has started holds its environment until the emulator
// answers, even when the client has gone: only then may the next start
// there.
func (f *front) invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var env *environment
	select {
	case env = <-f.free:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	type result struct {
		raw []byte
		err error
	}
	done := make(chan result, 1)
	f.inflight.Add(1)
	env.invocations.Add(1)
	go func() {
		defer f.inflight.Done()
		defer func() { f.free <- env }()
		raw, err := invokeEmulator(context.WithoutCancel(ctx), f.client, env.invokeURL, payload)
		done <- result{raw, err}
	}()
	select {
	case r := <-done:
		return r.raw, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// wait returns once no invocation is in flight, and drops the idle
// connections to the emulator.
func (f *front) wait() {
	f.inflight.Wait()
	f.client.CloseIdleConnections()
}

// invokeEmulator posts payload to the emulator's invocation URL.
func invokeEmulator(ctx context.Context, c *http.Client, url string, payload []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke the function: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the function's response: %w", err)
	}
	if len(raw) > maxResponseBytes {
		return nil, fmt.Errorf("the function's response is larger than %d bytes", maxResponseBytes)
	}
	if resp.StatusCode != http.StatusOK {
		// The emulator answers 502 when the function failed to start or
		// crashed, and 4xx when it is busy; its body says which.
		return nil, fmt.Errorf("the emulator answered %s: %s", resp.Status, bytes.TrimSpace(raw))
	}
	return raw, nil
}

// decodeResponse reads the function's result as API Gateway does for
// payload 2.0: a result with statusCode is a response; a function error is
// a gateway error; any other JSON is a 200 body.
func decodeResponse(raw []byte) (events.APIGatewayV2HTTPResponse, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err == nil {
		if _, ok := probe["statusCode"]; ok {
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(raw, &resp); err != nil {
				return resp, fmt.Errorf("malformed Lambda proxy response: %w", err)
			}
			return resp, nil
		}
		if _, ok := probe["errorMessage"]; ok {
			return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("the function returned an error: %s", raw)
		}
	}
	if !json.Valid(raw) {
		return events.APIGatewayV2HTTPResponse{}, errors.New("the function's result is not JSON")
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusOK,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(raw),
	}, nil
}

func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		dec, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			writeGatewayError(w, http.StatusBadGateway, "Bad Gateway: the response body is marked base64 but does not decode")
			return
		}
		body = dec
	}
	h := w.Header()
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeGatewayError answers as API Gateway does when it, not the function,
// fails: a JSON object with a message.
func writeGatewayError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
