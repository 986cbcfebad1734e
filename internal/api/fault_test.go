package api_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/api"
	"github.com/maskresolver/maskresolver/internal/lambdatest"
	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/secrets"
	"github.com/maskresolver/maskresolver/internal/smfake"
	"github.com/maskresolver/maskresolver/internal/telemetry"
)

// The canary secrets of the fault tests. Each value is a distinctive string
// that must appear only in the body of a 200 and never in a log line.
const (
	faultAcct = "arn:aws:secretsmanager:us-east-1:137149879143:secret:"
	alphaARN  = faultAcct + "fault/alpha-AlPhA1"
	bravoARN  = faultAcct + "fault/bravo-BrAvO2"
	charlARN  = faultAcct + "fault/charlie-ChArL3"
	deltaARN  = faultAcct + "fault/delta-DeLtA4"
	goneARN   = faultAcct + "fault/gone-GoNeE5" // marked for deletion
)

var canaries = map[string]string{
	alphaARN: "CANARY-1-alpha-5f3c9e",
	bravoARN: "CANARY-2-bravo-a17d04",
	charlARN: "CANARY-3-charlie-e2b8f1",
	deltaARN: "CANARY-4-delta-0c6a3d",
	goneARN:  "CANARY-5-gone-9d41b7",
}

// canaryRE finds any canary, including a fragment of one.
var canaryRE = regexp.MustCompile(`CANARY-\d`)

// Timing of the fault tests: the invocation's deadline, the SDK's per-attempt
// HTTP timeout as in cmd/resolver, and a retry backoff short enough that
// three attempts cost milliseconds rather than the standard 1.8 s.
const (
	faultDeadline  = 2 * time.Second
	attemptTimeout = 3 * time.Second
	retryBackoff   = 5 * time.Millisecond
	maxAttempts    = 3
)

// faultPath is where each secret's mask sits in the request.
var faultPath = map[string]string{
	alphaARN: "/connection/alpha",
	bravoARN: "/connection/bravo",
	charlARN: "/connection/charlie",
	deltaARN: "/connection/delta",
	goneARN:  "/connection/gone",
}

// faultRequest names each of arns in its own member of connection, so that
// the answer's masks map back to secrets by path.
func faultRequest(arns ...string) string {
	conn := map[string]string{}
	for _, a := range arns {
		name := strings.TrimPrefix(faultPath[a], "/connection/")
		conn[name] = "Bearer {{workato:sm:token:" + a + "}}"
	}
	b, _ := json.Marshal(map[string]any{"connection": conn})
	return string(b)
}

// faultRig is the function's real stack, wired as cmd/resolver wires it,
// with Secrets Manager replaced by smfake behind an httptest server.
type faultRig struct {
	sm   *smfake.Server
	h    *api.Handler
	logs *lambdatest.Buffer // shared by the handler and the store's read goroutines
}

func newFaultRig(t *testing.T) *faultRig {
	t.Helper()
	sm := smfake.New()
	for a, v := range canaries {
		if _, err := sm.Put(smfake.Secret{ARN: a, String: aws.String(`{"token":"` + v + `"}`), Deleted: a == goneARN}); err != nil {
			t.Fatal(err)
		}
	}
	_, cfg := smfake.Serve(t, sm)
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTimeout(attemptTimeout)
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return retryBackoff, nil })
		})
	}
	logs := &lambdatest.Buffer{}
	logger := slog.New(telemetry.NewLogHandler(logs, slog.LevelDebug, ""))
	store, err := secrets.New(cfg, secrets.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	h := api.New(resolve.New(store), api.WithLogger(logger))
	return &faultRig{sm: sm, h: h, logs: logs}
}

// proxyAnswer is an API Gateway proxy response, its body still a string.
type proxyAnswer struct {
	StatusCode int
	Headers    map[string]string
	Body       string
}

type answerBody = answer.Body

// TestFaults injects Secrets Manager failures under the real SDK, retryer
// and store, and checks what the caller sees: the documented status and
// code for every mask, the headers, all-or-nothing bodies, no secret value
// in a failure's body or in any log line, an answer before the deadline,
// and (through the calls the double counted) that the fault really fired.
func TestFaults(t *testing.T) {
	t.Parallel()
	const (
		get   = "GetSecretValue"
		batch = "BatchGetSecretValue"
		desc  = "DescribeSecret"
	)
	all := []string{alphaARN, bravoARN, charlARN, deltaARN}
	tests := []struct {
		name   string
		arns   []string // the secrets the request names, one mask each
		faults []smfake.Fault
		status int
		// codes is the code of each failing mask by secret; a secret not
		// named resolved. nil for a 200.
		codes map[string]string
		// calls the double must have seen, by operation; a negative count
		// means "at least" that many.
		calls map[string]int
	}{
		// Throttling.
		{
			name:   "throttling burst retried",
			arns:   []string{alphaARN},
			faults: []smfake.Fault{{Op: get, Code: "ThrottlingException", Times: 2}},
			status: 200, calls: map[string]int{get: 3},
		},
		{
			// Throttles are retried while the deadline allows, not a
			// fixed number of times, and still end as Throttled before it.
			name:   "throttling without end",
			arns:   []string{alphaARN},
			faults: []smfake.Fault{{Op: get, Code: "ThrottlingException"}},
			status: 503, codes: map[string]string{alphaARN: "Throttled"}, calls: map[string]int{get: -(maxAttempts + 1)},
		},
		{
			// A throttled batch is not retried: its secrets move to
			// GetSecretValue, which has a hundred times the quota.
			name:   "batch throttled moves to single reads",
			arns:   all,
			faults: []smfake.Fault{{Op: batch, Code: "ThrottlingException", Times: 2}},
			status: 200, calls: map[string]int{batch: 1, get: len(all)},
		},
		// 5xx.
		{
			name:   "internal error once",
			arns:   []string{alphaARN},
			faults: []smfake.Fault{{Op: get, Code: "InternalServiceError", Times: 1}},
			status: 200, calls: map[string]int{get: 2},
		},
		{
			name:   "internal error always",
			arns:   []string{alphaARN},
			faults: []smfake.Fault{{Op: get, Code: "InternalServiceError"}},
			status: 502, codes: map[string]string{alphaARN: "UpstreamError"}, calls: map[string]int{get: maxAttempts},
		},
		// Latency.
		{
			name:   "latency past the deadline",
			arns:   []string{alphaARN},
			faults: []smfake.Fault{{Op: get, Latency: time.Minute}},
			status: 503, codes: map[string]string{alphaARN: "Timeout"}, calls: map[string]int{get: 1},
		},
		{
			name:   "batch latency on one secret past the deadline",
			arns:   all,
			faults: []smfake.Fault{{Op: batch, SecretID: charlARN, Latency: time.Minute}},
			status: 503,
			codes:  map[string]string{alphaARN: "Timeout", bravoARN: "Timeout", charlARN: "Timeout", deltaARN: "Timeout"},
			calls:  map[string]int{batch: 1},
		},
		{
			name:   "latency inside the deadline",
			arns:   []string{alphaARN},
			faults: []smfake.Fault{{Op: get, Latency: 300 * time.Millisecond}},
			status: 200, calls: map[string]int{get: 1},
		},
		// Transport.
		{
			name:   "connection reset once",
			arns:   []string{alphaARN},
			faults: []smfake.Fault{{Op: get, Reset: true, Times: 1}},
			status: 200, calls: map[string]int{get: 2},
		},
		{
			name:   "connection reset always",
			arns:   []string{alphaARN},
			faults: []smfake.Fault{{Op: get, Reset: true}},
			status: 502, codes: map[string]string{alphaARN: "UpstreamError"}, calls: map[string]int{get: maxAttempts},
		},
		{
			name:   "batch connection reset always",
			arns:   all,
			faults: []smfake.Fault{{Op: batch, Reset: true}},
			status: 502,
			codes:  map[string]string{alphaARN: "UpstreamError", bravoARN: "UpstreamError", charlARN: "UpstreamError", deltaARN: "UpstreamError"},
			calls:  map[string]int{batch: maxAttempts},
		},
		{
			name:   "truncated response",
			arns:   []string{alphaARN},
			faults: []smfake.Fault{{Op: get, Truncate: true}},
			status: 502, codes: map[string]string{alphaARN: "UpstreamError"}, calls: map[string]int{get: -1},
		},
		{
			// A reply cut off mid-body is transport trouble, like a reset:
			// GetSecretValue is a read, and one more attempt heals it.
			name:   "truncated response once",
			arns:   []string{alphaARN},
			faults: []smfake.Fault{{Op: get, Truncate: true, Times: 1}},
			status: 200, calls: map[string]int{get: 2},
		},
		{
			name:   "malformed response",
			arns:   []string{alphaARN},
			faults: []smfake.Fault{{Op: get, Malformed: true}},
			status: 502, codes: map[string]string{alphaARN: "UpstreamError"}, calls: map[string]int{get: -1},
		},
		{
			// A complete reply that is not JSON is not transport trouble:
			// it fails at once, unretried.
			name:   "malformed response once",
			arns:   []string{alphaARN},
			faults: []smfake.Fault{{Op: get, Malformed: true, Times: 1}},
			status: 502, codes: map[string]string{alphaARN: "UpstreamError"}, calls: map[string]int{get: 1},
		},
		{
			name:   "batch malformed response",
			arns:   all,
			faults: []smfake.Fault{{Op: batch, Malformed: true}},
			status: 502,
			codes:  map[string]string{alphaARN: "UpstreamError", bravoARN: "UpstreamError", charlARN: "UpstreamError", deltaARN: "UpstreamError"},
			calls:  map[string]int{batch: -1},
		},
		// Answers the caller can act on, and KMS.
		{
			name:   "access denied",
			arns:   []string{alphaARN},
			faults: []smfake.Fault{{Op: get, Code: "AccessDeniedException"}},
			status: 422, codes: map[string]string{alphaARN: "AccessDenied"}, calls: map[string]int{get: 1},
		},
		{
			name:   "decryption failure",
			arns:   []string{alphaARN},
			faults: []smfake.Fault{{Op: get, Code: "DecryptionFailure"}},
			status: 502, codes: map[string]string{alphaARN: "DecryptionFailure"}, calls: map[string]int{get: 1},
		},
		{
			name:   "resource not found",
			arns:   []string{alphaARN},
			faults: []smfake.Fault{{Op: get, Code: "ResourceNotFoundException"}},
			status: 422, codes: map[string]string{alphaARN: "SecretNotFound"}, calls: map[string]int{get: 1},
		},
		{
			name:   "marked for deletion",
			arns:   []string{goneARN},
			status: 422, codes: map[string]string{goneARN: "SecretNotFound"}, calls: map[string]int{get: 1, desc: 1},
		},
		// Batches: per-secret failures, all-or-nothing.
		{
			name: "batch mixed successes and errors",
			arns: all,
			faults: []smfake.Fault{
				{Op: batch, SecretID: bravoARN, Code: "AccessDeniedException"},
				{Op: batch, SecretID: charlARN, Code: "DecryptionFailure"},
				{Op: batch, SecretID: deltaARN, Code: "ResourceNotFoundException"},
			},
			status: 502,
			codes:  map[string]string{bravoARN: "AccessDenied", charlARN: "DecryptionFailure", deltaARN: "SecretNotFound"},
			calls:  map[string]int{batch: 1, get: 0},
		},
		{
			// The throttled entry is read again with GetSecretValue.
			name: "batch mixed with a throttled entry",
			arns: all,
			faults: []smfake.Fault{
				{Op: batch, SecretID: alphaARN, Code: "ResourceNotFoundException"},
				{Op: batch, SecretID: deltaARN, Code: "ThrottlingException"},
			},
			status: 422,
			codes:  map[string]string{alphaARN: "SecretNotFound"},
			calls:  map[string]int{batch: 1, get: 1},
		},
		{
			name:   "batch mixed with only 4xx",
			arns:   []string{alphaARN, bravoARN, goneARN},
			faults: []smfake.Fault{{Op: batch, SecretID: bravoARN, Code: "AccessDeniedException"}},
			status: 422,
			codes:  map[string]string{bravoARN: "AccessDenied", goneARN: "SecretNotFound"},
			calls:  map[string]int{batch: 1, desc: 1},
		},
		{
			name:   "batch denied as a whole falls back to single reads",
			arns:   all,
			faults: []smfake.Fault{{Op: batch, Code: "AccessDeniedException"}},
			status: 200, calls: map[string]int{batch: 1, get: len(all)},
		},
		{
			name: "batch denied, then single reads fail per secret",
			arns: all,
			faults: []smfake.Fault{
				{Op: batch, Code: "AccessDeniedException"},
				{Op: get, SecretID: charlARN, Code: "AccessDeniedException"},
			},
			status: 422, codes: map[string]string{charlARN: "AccessDenied"},
			calls: map[string]int{batch: 1, get: len(all)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rig := newFaultRig(t)
			for _, f := range tt.faults {
				rig.sm.Inject(f)
			}
			ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "fault-req"})
			ctx, cancel := context.WithTimeout(ctx, faultDeadline)
			defer cancel()
			start := time.Now()
			out, err := rig.h.Invoke(ctx, httpEvent("POST", "/v1/resolve", faultRequest(tt.arns...), false))
			took := time.Since(start)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if took >= faultDeadline {
				t.Errorf("answered after %v, past the %v deadline", took, faultDeadline)
			}
			var a proxyAnswer
			if err := json.Unmarshal(out, &a); err != nil {
				t.Fatalf("answer %s: %v", out, err)
			}
			if a.Headers["Cache-Control"] != "no-store" || a.Headers["Content-Type"] != "application/json" {
				t.Errorf("headers %v", a.Headers)
			}
			if a.StatusCode != tt.status {
				t.Errorf("status %d, want %d: %s", a.StatusCode, tt.status, a.Body)
			}
			var body answerBody
			if err := json.Unmarshal([]byte(a.Body), &body); err != nil {
				t.Fatalf("body %s: %v", a.Body, err)
			}
			if tt.codes == nil {
				checkResolved(t, body, tt.arns)
			} else {
				checkFailed(t, a.Body, body, tt.arns, tt.codes)
			}
			for op, want := range tt.calls {
				got := rig.sm.Calls(op)
				if (want >= 0 && got != want) || (want < 0 && got < -want) {
					t.Errorf("%d %s calls, want %d (negative: at least)", got, op, want)
				}
			}
			logs := rig.logs.String()
			if canaryRE.MatchString(logs) {
				t.Errorf("a secret value reached the log:\n%s", logs)
			}
			if !strings.Contains(logs, `"requestId":"fault-req"`) {
				t.Errorf("no log line carries the request id:\n%s", logs)
			}
		})
	}
}

// checkResolved checks a 200: every mask resolved to its secret's value.
func checkResolved(t *testing.T, body answerBody, arns []string) {
	t.Helper()
	if body.Error != nil {
		t.Fatalf("error %+v", body.Error)
	}
	if len(body.Masks) != len(arns) {
		t.Errorf("%d masks listed, want %d: %+v", len(body.Masks), len(arns), body.Masks)
	}
	for _, m := range body.Masks {
		if m.Status != "resolved" || m.Code != "" {
			t.Errorf("mask %+v, want resolved", m)
		}
	}
	var conn map[string]string
	if err := json.Unmarshal(body.Connection, &conn); err != nil {
		t.Fatalf("connection %s: %v", body.Connection, err)
	}
	for _, a := range arns {
		name := strings.TrimPrefix(faultPath[a], "/connection/")
		if got, want := conn[name], "Bearer "+canaries[a]; got != want {
			t.Errorf("connection.%s = %q, want %q", name, got, want)
		}
	}
}

// checkFailed checks an error answer: MaskResolutionFailed listing exactly
// the failing masks with their codes, and no value of any secret, not even
// of those that were read.
func checkFailed(t *testing.T, raw string, body answerBody, arns []string, codes map[string]string) {
	t.Helper()
	if canaryRE.MatchString(raw) {
		t.Errorf("a secret value is in a failure's body: %s", raw)
	}
	if body.Error == nil || body.Error.Code != "MaskResolutionFailed" || body.Error.Message == "" {
		t.Fatalf("want error MaskResolutionFailed: %s", raw)
	}
	if body.Connection != nil || body.Masks != nil {
		t.Errorf("a failure's body carries a connection or a masks list: %s", raw)
	}
	listed := map[string]bool{}
	for _, m := range body.Error.Masks {
		listed[m.SecretARN] = true
		want, failing := codes[m.SecretARN]
		switch {
		case !failing:
			t.Errorf("mask %+v is listed as failing, but its read succeeded", m)
		case m.Code != want:
			t.Errorf("%s: code %s, want %s (%s)", m.Path, m.Code, want, m.Message)
		}
		if m.Path != faultPath[m.SecretARN] || m.Key != "token" || m.Message == "" {
			t.Errorf("mask entry %+v: want path %s, key token and a message", m, faultPath[m.SecretARN])
		}
	}
	for _, a := range arns {
		if _, failing := codes[a]; failing && !listed[a] {
			t.Errorf("failing mask %s is not listed: %s", faultPath[a], raw)
		}
	}
	if n := len(body.Error.Masks); n != len(codes) {
		t.Errorf("%d masks listed, want %d", n, len(codes))
	}
}
