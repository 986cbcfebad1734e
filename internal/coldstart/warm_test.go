package coldstart

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/lambdatest"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// warmPayload builds a request body of about size bytes with masks masks
// over nSecrets secrets (stored in sm), and realistic filler around them.
func warmPayload(tb testing.TB, sm *smfake.Server, size, masks, nSecrets int) []byte {
	tb.Helper()
	arns := make([]string, nSecrets)
	for i := range arns {
		v := fmt.Sprintf(`{"password":"p@ss-%d-%s","user":"svc-%d"}`, i, strings.Repeat("x", 24), i)
		full, err := sm.Put(smfake.Secret{ARN: fmt.Sprintf("arn:aws:secretsmanager:us-east-1:137149879143:secret:bench/secret-%02d", i), String: aws.String(v)})
		if err != nil {
			tb.Fatal(err)
		}
		arns[i] = full
	}
	var b bytes.Buffer
	b.WriteString(`{"connection":{"items":[`)
	for i := 0; b.Len() < size || i < masks; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"connection item %d with some ordinary text","enabled":true,"ratio":0.%03d,"tags":["alpha","beta"],"url":"https://api.example.com/v2/items/%d?expand=true"`, i, i, i%1000, i)
		if i < masks {
			fmt.Fprintf(&b, `,"auth":"Bearer {{workato:sm:password:%s}}"`, arns[i%nSecrets])
		}
		b.WriteByte('}')
	}
	b.WriteString(`]}}`)
	return b.Bytes()
}

// httpEvent wraps body in an HTTP API event as API Gateway sends it, with
// the usual headers and an IAM caller.
func httpEvent(body []byte) []byte {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /v1/resolve", RawPath: "/v1/resolve", Body: string(body),
		Headers: map[string]string{
			"accept": "*/*", "content-type": "application/json", "content-length": strconv.Itoa(len(body)),
			"host": "abc123.execute-api.us-east-1.amazonaws.com", "user-agent": "workato-backend/1.0",
			"x-amz-date": "20261201T120000Z", "x-amz-security-token": strings.Repeat("t", 400),
			"x-amzn-trace-id": "Root=1-6929d590-aaaaaaaaaaaaaaaaaaaaaaaa", "x-forwarded-for": "203.0.113.7",
			"x-forwarded-port": "443", "x-forwarded-proto": "https",
		},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID: "137149879143", APIID: "abc123", DomainName: "abc123.execute-api.us-east-1.amazonaws.com",
			RequestID: "req", RouteKey: "POST /v1/resolve", Stage: "$default", Time: "01/Dec/2026:12:00:00 +0000", TimeEpoch: 1796126400000,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/v1/resolve", Protocol: "HTTP/1.1", SourceIP: "203.0.113.7", UserAgent: "workato-backend/1.0"},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
					AccessKey: "ASIAEXAMPLE", AccountID: "137149879143", CallerID: "AROAEXAMPLE:workato-backend",
					UserARN: "arn:aws:sts::137149879143:assumed-role/workato-connector/workato-backend", UserID: "AROAEXAMPLE:workato-backend",
				},
			},
		},
	}
	b, _ := json.Marshal(ev)
	return b
}

// warmFunction is a built function running warm against its own Runtime API.
type warmFunction struct {
	api *lambdatest.RuntimeAPI
	pid int
}

func startWarm(tb testing.TB, bin string, env ...string) *warmFunction {
	tb.Helper()
	api := lambdatest.New()
	tb.Cleanup(api.Close)
	cmd := exec.Command(bin)
	cmd.Env = functionEnv(tb, api, env...)
	var logs bytes.Buffer
	cmd.Stdout = &logs
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return &warmFunction{api: api, pid: cmd.Process.Pid}
}

func (f *warmFunction) invoke(tb testing.TB, event []byte) []byte {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, err := f.api.Invoke(ctx, lambdatest.Invocation{Payload: event})
	if err != nil || a.FunctionError {
		tb.Fatalf("invoke: %v %s", err, a.Body)
	}
	return a.Body
}

// peakRSS is the process's high-water resident set size in bytes.
func (f *warmFunction) peakRSS(tb testing.TB) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", f.pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) * 1024
		}
	}
	return 0
}

// BenchmarkWarm1KB measures a warm invocation through the built binary on an
// in-process Runtime API: the release bootstrap resolving a request whose
// secrets are cached, against echo-http (the same libraries; decodes the
// HTTP API event and its body, encodes them back), invoked in turn in one
// run so that load drift falls on both (a 1 KB request of 5 masks over 2
// secrets), with echo-sdk (which returns the
// event untouched) as the floor every invocation pays. Metrics: each
// one's time per invocation and peak RSS, the resolver's ratios to the
// echo, and the ratio of their work above the floor.
func BenchmarkWarm1KB(b *testing.B) { benchWarm(b, 1<<10, 5, 2) }

// BenchmarkWarm393KB is BenchmarkWarm1KB for a 393 KB request of 1,000
// masks over 20 secrets.
func BenchmarkWarm393KB(b *testing.B) { benchWarm(b, 393<<10, 1000, 20) }

// benchWarm has no sub-benchmarks, so that make bench's ratio script
// does not take one size for the other's baseline: its metrics carry the
// ratios.
func benchWarm(b *testing.B, size, masks, nSecrets int) {
	sm := smfake.New(smfake.WithAccount("137149879143"))
	body := warmPayload(b, sm, size, masks, nSecrets)
	url, _ := smfake.Serve(b, sm)
	event := httpEvent(body)
	resolver := startWarm(b, lambdatest.Bootstrap(b), "AWS_ENDPOINT_URL_SECRETS_MANAGER="+url)
	echo := startWarm(b, lambdatest.BuildLambda(b, "./testdata/echo-http"))
	// The floor: echo-sdk answers with the event as it came, so its
	// time is the Runtime API round trip alone.
	floor := startWarm(b, lambdatest.BuildLambda(b, "./testdata/echo-sdk"))
	var p struct{ StatusCode int }
	if err := json.Unmarshal(resolver.invoke(b, event), &p); err != nil || p.StatusCode != 200 {
		b.Fatalf("resolver: %d %v", p.StatusCode, err)
	}
	echo.invoke(b, event)
	var tr, te, tf time.Duration
	for b.Loop() {
		t0 := time.Now()
		resolver.invoke(b, event)
		t1 := time.Now()
		echo.invoke(b, event)
		t2 := time.Now()
		floor.invoke(b, event)
		tr, te, tf = tr+t1.Sub(t0), te+t2.Sub(t1), tf+time.Since(t2)
	}
	n := float64(b.N)
	b.ReportMetric(float64(tr.Nanoseconds())/n, "resolver-ns/inv")
	b.ReportMetric(float64(te.Nanoseconds())/n, "echo-ns/inv")
	b.ReportMetric(float64(tf.Nanoseconds())/n, "floor-ns/inv")
	b.ReportMetric(float64(tr)/float64(te), "time-vs-echo")
	// Above the floor: each function's own work.
	b.ReportMetric(float64(tr-tf)/float64(te-tf), "work-vs-echo")
	rr, re := resolver.peakRSS(b), echo.peakRSS(b)
	b.ReportMetric(rr, "resolver-peak-rss-bytes")
	b.ReportMetric(re, "echo-peak-rss-bytes")
	if re > 0 {
		b.ReportMetric(rr/re, "rss-vs-echo")
	}
}

// TestWarmFunctionsAnswer checks what BenchmarkWarm1KB times: the resolver
// resolves the event's masks and echo-http answers the same body back.
func TestWarmFunctionsAnswer(t *testing.T) {
	sm := smfake.New(smfake.WithAccount("137149879143"))
	body := warmPayload(t, sm, 1<<10, 5, 2)
	url, _ := smfake.Serve(t, sm)
	event := httpEvent(body)
	var got struct {
		StatusCode int
		Body       string
	}
	resolver := startWarm(t, lambdatest.Bootstrap(t), "AWS_ENDPOINT_URL_SECRETS_MANAGER="+url)
	if err := json.Unmarshal(resolver.invoke(t, event), &got); err != nil || got.StatusCode != 200 || strings.Count(got.Body, `"status":"resolved"`) != 5 || strings.Contains(got.Body, "{{workato:sm:") {
		t.Errorf("resolver: %d %.300s", got.StatusCode, got.Body)
	}
	echo := startWarm(t, lambdatest.BuildLambda(t, "./testdata/echo-http"))
	if err := json.Unmarshal(echo.invoke(t, event), &got); err != nil || got.StatusCode != 200 || !json.Valid([]byte(got.Body)) || !strings.Contains(got.Body, "{{workato:sm:") {
		t.Errorf("echo-http: %d %.300s", got.StatusCode, got.Body)
	}
}
