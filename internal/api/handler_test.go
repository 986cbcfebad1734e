package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/api"
	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/secrets"
	"github.com/maskresolver/maskresolver/internal/telemetry"
)

const (
	arn    = "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-jira-credentials-FsmeTs"
	value  = "jira-demo-3f9c2a"
	mask   = "{{workato:sm:prod.jira.secret.key:" + arn + "}}"
	caller = "arn:aws:iam::137149879143:role/workato-connector"
)

type store struct {
	err   *secrets.Error
	panic bool
	delay time.Duration
	stats secrets.Stats
}

func (s store) Get(ctx context.Context, arns []string, _ secrets.Freshness) ([]secrets.Result, secrets.Stats) {
	if s.panic {
		var m map[string]int
		//lint:ignore SA5000 the nil map write is the point: a runtime error, as a real bug would be
		m["boom"]++
	}
	out := make([]secrets.Result, len(arns))
	for i, a := range arns {
		switch {
		case s.delay > 0:
			select {
			case <-time.After(s.delay):
			case <-ctx.Done():
				out[i].Err = &secrets.Error{Code: answer.Timeout, ARN: a, Err: ctx.Err()}
				continue
			}
			fallthrough
		case s.err == nil:
			out[i].Secret = secrets.NewSecret(a, `{"prod.jira.secret.key":"`+value+`"}`)
		default:
			out[i].Err = s.err
		}
	}
	return out, s.stats
}

func handler(s store, logs *bytes.Buffer, opts ...api.Option) *api.Handler {
	l := slog.New(telemetry.NewLogHandler(logs, slog.LevelDebug, ""))
	return api.New(resolve.New(s), append([]api.Option{api.WithLogger(l)}, opts...)...)
}

const reqBody = `{"connection":{"client_secret":"` + mask + `"}}`

func httpEvent(method, path, body string, b64 bool) []byte {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: path, Body: body, IsBase64Encoded: b64,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			Stage: "$default",
			HTTP:  events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{UserARN: caller},
			},
		},
	}
	b, _ := json.Marshal(ev)
	return b
}

func restEvent(method, path, body string) []byte {
	ev := events.APIGatewayProxyRequest{HTTPMethod: method, Path: path, Resource: path, Body: body,
		RequestContext: events.APIGatewayProxyRequestContext{Stage: "prod", Identity: events.APIGatewayRequestIdentity{UserArn: caller}}}
	b, _ := json.Marshal(ev)
	return b
}

func invoke(t *testing.T, h *api.Handler, event []byte) proxyAnswer {
	t.Helper()
	return invokeCtx(t, context.Background(), h, event)
}

// invokeCtx invokes h under ctx (which may carry an X-Ray segment).
func invokeCtx(t *testing.T, ctx context.Context, h *api.Handler, event []byte) proxyAnswer {
	t.Helper()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	out, err := h.Invoke(ctx, event)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var a proxyAnswer
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatalf("answer %s: %v", out, err)
	}
	return a
}

func errorCode(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Message == "" {
		t.Fatalf("error body %s: %v", body, err)
	}
	return e.Error.Code
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		event  []byte
		status int
		code   string
	}{
		{"http api resolve", httpEvent("POST", "/v1/resolve", reqBody, false), 200, ""},
		{"http api base64", httpEvent("POST", "/v1/resolve", base64.StdEncoding.EncodeToString([]byte(reqBody)), true), 200, ""},
		{"rest api resolve", restEvent("POST", "/v1/resolve", reqBody), 200, ""},
		{"other path", httpEvent("POST", "/v1/other", reqBody, false), 404, "NotFound"},
		{"trailing slash", httpEvent("POST", "/v1/resolve/", reqBody, false), 404, "NotFound"},
		{"wrong method", httpEvent("GET", "/v1/resolve", "", false), 405, "MethodNotAllowed"},
		{"rest wrong method", restEvent("PUT", "/v1/resolve", reqBody), 405, "MethodNotAllowed"},
		{"bad base64", httpEvent("POST", "/v1/resolve", "!!!", true), 400, "InvalidRequest"},
		{"not json", httpEvent("POST", "/v1/resolve", "hello", false), 400, "InvalidRequest"},
		{"too large", httpEvent("POST", "/v1/resolve", `{"connection":"`+strings.Repeat("x", 300)+`"}`, false), 413, "PayloadTooLarge"},
		{"too large base64", httpEvent("POST", "/v1/resolve", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), 300)), true), 413, "PayloadTooLarge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			a := invoke(t, handler(store{}, &logs, api.WithMaxBodyBytes(200)), tt.event)
			if a.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", a.StatusCode, tt.status, a.Body)
			}
			if a.Headers["Content-Type"] != "application/json" || a.Headers["Cache-Control"] != "no-store" {
				t.Errorf("headers %v", a.Headers)
			}
			if tt.status == 405 && a.Headers["Allow"] != "POST" {
				t.Errorf("405 without Allow: POST: %v", a.Headers)
			}
			line := summaryLine(t, logs.String())
			if line["status"] != float64(tt.status) {
				t.Errorf("summary status %v, want %d", line["status"], tt.status)
			}
			if tt.code != "" {
				if got := errorCode(t, a.Body); got != tt.code {
					t.Errorf("code %s, want %s", got, tt.code)
				}
				// The code that decided the status is the outcome and the
				// metric dimension, not "OK" (fixed bug).
				if line["outcome"] != tt.code || line["ErrorCode"] != tt.code || line["Errors"] != 1.0 || line["ErrorsByCode"] != 1.0 {
					t.Errorf("summary outcome %v, ErrorCode %v, Errors %v, ErrorsByCode %v; want %s and 1",
						line["outcome"], line["ErrorCode"], line["Errors"], line["ErrorsByCode"], tt.code)
				}
				return
			}
			var ok struct {
				Connection struct {
					ClientSecret string `json:"client_secret"`
				}
			}
			if err := json.Unmarshal([]byte(a.Body), &ok); err != nil || ok.Connection.ClientSecret != value {
				t.Errorf("body %s", a.Body)
			}
			if strings.Contains(logs.String(), value) {
				t.Errorf("a secret value reached the log: %s", logs.String())
			}
			if !strings.Contains(logs.String(), `"requestId":"req-1"`) {
				t.Errorf("summary line without request id: %s", logs.String())
			}
		})
	}
}

// An event that is not JSON, or has a member of the wrong type, is a 400
// with a message naming what is wrong, shaped for the source the event's
// members claim (the direct shape when they claim none).
func TestMalformedEvents(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, event string
		proxy       bool   // answered as an API Gateway proxy response
		message     string // part of the error message
	}{
		{"not json", `{"requestContext":{}`, false, "the event is not a JSON object: unexpected end of JSON input at offset 20"},
		{"trailing text", `{"requestContext":{}} x`, false, "invalid character 'x' after the event"},
		{"not an object", `["requestContext"]`, false, "malformed event: the event is an array, want an object"},
		{"http api, method a number", `{"version":"2.0","requestContext":{"http":{"method":5}}}`, true, "malformed HTTP API event: requestContext.http.method is a number, want a string"},
		{"http api, body after version", `{"version":"2.0","body":{"connection":1},"requestContext":{}}`, true, "malformed HTTP API event: body is an object, want a string"},
		{"http api, version after body", `{"body":5,"version":"2.0","requestContext":{}}`, true, "malformed HTTP API event: body is a number, want a string"},
		{"rest api, headers an array", `{"httpMethod":"POST","headers":[],"requestContext":{}}`, true, "malformed REST API event: headers is an array, want an object"},
		{"rest api, method a number", `{"httpMethod":1,"requestContext":{}}`, true, "malformed REST API event: httpMethod is a number, want a string"},
		{"neither format, wrong type", `{"requestContext":{"identity":{"userArn":true}}}`, false, "malformed event: requestContext.identity.userArn is a boolean, want a string"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			out, err := handler(store{}, &logs).Invoke(context.Background(), []byte(tt.event))
			if err != nil {
				t.Fatal(err)
			}
			body := string(out)
			if tt.proxy {
				var a proxyAnswer
				if err := json.Unmarshal(out, &a); err != nil || a.StatusCode != 400 {
					t.Fatalf("want a 400 proxy response, got %s", out)
				}
				body = a.Body
			}
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != "InvalidRequest" || !strings.Contains(e.Error.Message, tt.message) {
				t.Errorf("answer %s, want InvalidRequest with %q", out, tt.message)
			}
			if line := summaryLine(t, logs.String()); line["status"] != 400.0 || line["outcome"] != "InvalidRequest" {
				t.Errorf("summary status %v outcome %v", line["status"], line["outcome"])
			}
		})
	}
}

func TestDirectInvocation(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	h := handler(store{}, &logs)
	out, err := h.Invoke(context.Background(), []byte(reqBody))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"connection":{"client_secret":"` + value + `"},"masks":[{"path":"/connection/client_secret","key":"prod.jira.secret.key","secret_arn":"` + arn + `","status":"resolved"}]}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
	// A request the function understood but rejects is still a response,
	// never a Lambda function error.
	out, err = h.Invoke(context.Background(), []byte(`{"nope":1}`))
	if err != nil || errorCode(t, string(out)) != "InvalidRequest" {
		t.Errorf("bad direct request: %s, %v", out, err)
	}
}

func TestStatusOfFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code   answer.Code
		status int
	}{
		{answer.SecretNotFound, 422}, {answer.AccessDenied, 422},
		{answer.DecryptionFailure, 502}, {answer.UpstreamError, 502},
		{answer.Throttled, 503}, {answer.Timeout, 503},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			h := handler(store{err: &secrets.Error{Code: tt.code, ARN: arn}}, &logs)
			a := invoke(t, h, httpEvent("POST", "/v1/resolve", reqBody, false))
			if a.StatusCode != tt.status || errorCode(t, a.Body) != "MaskResolutionFailed" {
				t.Errorf("status %d body %s, want %d", a.StatusCode, a.Body, tt.status)
			}
		})
	}
}

func TestHighestStatusWins(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	h := handler(store{err: &secrets.Error{Code: answer.Throttled, ARN: arn}}, &logs)
	body := `{"connection":["{{workato:sm:k:bad}}","` + mask + `"]}`
	a := invoke(t, h, httpEvent("POST", "/v1/resolve", body, false))
	if a.StatusCode != 503 {
		t.Errorf("status %d, want 503 (5xx over 4xx): %s", a.StatusCode, a.Body)
	}
}

func TestPanicBecomes500(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	h := handler(store{panic: true}, &logs)
	a := invoke(t, h, httpEvent("POST", "/v1/resolve", reqBody, false))
	if a.StatusCode != 500 || errorCode(t, a.Body) != "InternalError" {
		t.Fatalf("status %d body %s", a.StatusCode, a.Body)
	}
	if strings.Contains(a.Body, "nil map") || !strings.Contains(logs.String(), "nil map") {
		t.Errorf("the detail must go to the log, not the body: body %s", a.Body)
	}
	// The summary line and its metrics record the 500 (fixed bug: it
	// logged status 0, so the Errors metric stayed 0).
	line := summaryLine(t, logs.String())
	if line["status"] != 500.0 || line["outcome"] != "InternalError" || line["Errors"] != 1.0 || line["ErrorCode"] != "InternalError" {
		t.Errorf("panic summary: status %v outcome %v Errors %v ErrorCode %v", line["status"], line["outcome"], line["Errors"], line["ErrorCode"])
	}
	out, err := h.Invoke(context.Background(), []byte(reqBody))
	if err != nil || errorCode(t, string(out)) != "InternalError" {
		t.Errorf("direct panic: %s %v", out, err)
	}
}

func TestCallerAccess(t *testing.T) {
	t.Parallel()
	var seen []string
	access := func(c, a string) bool { seen = append(seen, c); return c == caller }
	var logs bytes.Buffer
	h := handler(store{}, &logs, api.WithCallerRules(access))
	if a := invoke(t, h, httpEvent("POST", "/v1/resolve", reqBody, false)); a.StatusCode != 200 {
		t.Errorf("allowed caller: %d %s", a.StatusCode, a.Body)
	}
	out, _ := h.Invoke(context.Background(), []byte(reqBody))
	if !strings.Contains(string(out), "SecretNotAllowed") {
		t.Errorf("direct invocation has no caller and must be refused: %s", out)
	}
	// The HTTP request is checked before the read and again against the
	// ARN read; the direct one is refused before any read.
	if len(seen) != 3 || seen[0] != caller || seen[1] != caller || seen[2] != "" {
		t.Errorf("access saw callers %q", seen)
	}
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	h := handler(store{delay: time.Minute}, &logs)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	out, err := h.Invoke(ctx, []byte(reqBody))
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) >= 500*time.Millisecond {
		t.Errorf("answered after the deadline (%v)", time.Since(start))
	}
	if !strings.Contains(string(out), `"code":"Timeout"`) {
		t.Errorf("want a Timeout mask: %s", out)
	}
}

type canaryPanicStore struct{}

func (canaryPanicStore) Get(context.Context, []string, secrets.Freshness) ([]secrets.Result, secrets.Stats) {
	panic("CANARY-panic-8b28 " + value)
}

// A panic whose value holds secret material is recovered into a generic
// 500; neither the body nor the log carries the panic value.
func TestPanicValueNeverLogged(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	l := slog.New(telemetry.NewLogHandler(&logs, slog.LevelDebug, ""))
	h := api.New(resolve.New(canaryPanicStore{}), api.WithLogger(l))
	a := invoke(t, h, httpEvent("POST", "/v1/resolve", reqBody, false))
	if a.StatusCode != 500 || errorCode(t, a.Body) != "InternalError" {
		t.Fatalf("status %d body %s", a.StatusCode, a.Body)
	}
	for _, s := range []string{a.Body, logs.String()} {
		if strings.Contains(s, "CANARY-panic-8b28") || strings.Contains(s, value) {
			t.Errorf("the panic value leaked: %s", s)
		}
	}
	if !strings.Contains(logs.String(), "recovered panic") {
		t.Errorf("the panic was not logged: %s", logs.String())
	}
}

// summaryLine returns the one request summary line in logs.
func summaryLine(t *testing.T, logs string) map[string]any {
	t.Helper()
	var found map[string]any
	for _, l := range strings.Split(logs, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["message"] == "request" {
			if found != nil {
				t.Fatalf("two summary lines:\n%s", logs)
			}
			found = m
		}
	}
	if found == nil {
		t.Fatalf("no summary line:\n%s", logs)
	}
	return found
}
