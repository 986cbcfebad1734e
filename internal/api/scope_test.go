package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/api"
	"github.com/maskresolver/maskresolver/internal/config"
	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/scopes"
	"github.com/maskresolver/maskresolver/internal/telemetry"
)

const (
	roleOK      = "arn:aws:iam::210987654321:role/tenant"
	roleDenied  = "arn:aws:iam::210987654321:role/denied"
	roleThrottl = "arn:aws:iam::210987654321:role/throttled"
	roleSlow    = "arn:aws:iam::210987654321:role/slow"
	// extCanary is an external id: it may reach STS and nothing else.
	extCanary = "ext-CANARY-p3Lk8v"
)

// scopesDoc opens "tenant" to caller, "direct" to direct invocations,
// and three scopes whose roles cannot be assumed; all may read arn.
const scopesDoc = `{
 "tenant": {"role_arn": "` + roleOK + `", "external_id": "` + extCanary + `", "callers": ["` + caller + `"], "secrets": ["` + arn + `"]},
 "direct": {"role_arn": "` + roleOK + `", "callers": ["*"], "secrets": ["` + arn + `"]},
 "denied": {"role_arn": "` + roleDenied + `", "external_id": "` + extCanary + `", "callers": ["` + caller + `"], "secrets": ["` + arn + `"]},
 "throttled": {"role_arn": "` + roleThrottl + `", "callers": ["` + caller + `"], "secrets": ["` + arn + `"]},
 "slow": {"role_arn": "` + roleSlow + `", "callers": ["` + caller + `"], "secrets": ["` + arn + `"]}
}`

// fakeSTS answers AssumeRole as its role asks; its errors quote the
// external id, which must go no further.
type fakeSTS struct {
	mu    sync.Mutex
	calls int
}

func (f *fakeSTS) AssumeRole(_ context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	switch aws.ToString(in.RoleArn) {
	case roleDenied:
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "no trust for external id " + aws.ToString(in.ExternalId)}
	case roleThrottl:
		return nil, &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
	case roleSlow:
		time.Sleep(300 * time.Millisecond)
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "late"}
	}
	return &sts.AssumeRoleOutput{Credentials: &ststypes.Credentials{
		AccessKeyId: aws.String("ASIATENANT"), SecretAccessKey: aws.String("secret"),
		SessionToken: aws.String("token"), Expiration: aws.Time(time.Now().Add(time.Hour)),
	}}, nil
}

// scopedResolver resolves with the scopes of scopesDoc; every partition
// is s, and the partitions used are counted by key.
func scopedResolver(t testing.TB, s store, used map[string]int) *resolve.Resolver {
	t.Helper()
	ss, err := config.ParseScopes([]byte(scopesDoc), "SCOPES")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := scopes.New(context.Background(), &fakeSTS{}, scopes.WithScopes(ss))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	return resolve.New(s, resolve.WithScopes(reg, func(key string, _ aws.CredentialsProvider) resolve.Store {
		mu.Lock()
		defer mu.Unlock()
		if used != nil {
			used[key]++
		}
		return s
	}))
}

func scopedBody(scope string) string {
	return `{"scope":"` + scope + `","connection":{"client_secret":"` + mask + `"}}`
}

// A scoped request is answered with its status and code; the allowlist
// applies to it, caller rules do not, and a direct invocation is admitted
// only by a scope open to "*".
func TestScopedAnswers(t *testing.T) {
	t.Parallel()
	refuse := func(string, string) bool { return false }
	noJira := func(a string) bool { return !strings.Contains(a, "jira") }
	for _, tc := range []struct {
		name   string
		event  []byte
		opts   []api.Option
		status int
		code   string // "" on success
	}{
		{"scoped", httpEvent("POST", "/v1/resolve", scopedBody("tenant"), false), nil, 200, ""},
		{"scoped, caller rules refuse", httpEvent("POST", "/v1/resolve", scopedBody("tenant"), false), []api.Option{api.WithCallerRules(refuse)}, 200, ""},
		{"unscoped, caller rules refuse", httpEvent("POST", "/v1/resolve", reqBody, false), []api.Option{api.WithCallerRules(refuse)}, 422, "MaskResolutionFailed"},
		{"scoped, allowlist refuses", restEvent("POST", "/v1/resolve", scopedBody("tenant")), []api.Option{api.WithAllowlist(noJira)}, 422, "MaskResolutionFailed"},
		{"unknown scope", httpEvent("POST", "/v1/resolve", scopedBody("nope"), false), nil, 403, "ScopeNotAllowed"},
		{"direct, closed scope", []byte(scopedBody("tenant")), nil, 403, "ScopeNotAllowed"},
		{"direct, scope open to *", []byte(scopedBody("direct")), nil, 200, ""},
		{"scope null", []byte(`{"scope":null,"connection":{}}`), nil, 400, "InvalidRequest"},
		{"role refused", httpEvent("POST", "/v1/resolve", scopedBody("denied"), false), nil, 502, "ScopeUnavailable"},
		{"STS throttles", httpEvent("POST", "/v1/resolve", scopedBody("throttled"), false), nil, 503, "Throttled"},
	} {
		var logs bytes.Buffer
		h := api.New(scopedResolver(t, store{}, nil), append([]api.Option{api.WithLogger(slogTo(&logs))}, tc.opts...)...)
		body := invokeBody(t, h, tc.event)
		if tc.code == "" {
			if !strings.Contains(body.body, value) || body.status != 200 {
				t.Errorf("%s: %d %s", tc.name, body.status, body.body)
			}
		} else if got := errorCode(t, body.body); body.status != tc.status || got != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, body.status, body.body, tc.status, tc.code)
		} else if tc.status != 422 && strings.Contains(body.body, `"masks"`) {
			t.Errorf("%s: a request-level answer lists masks: %s", tc.name, body.body)
		}
		noCanary(t, tc.name, body.body+logs.String())
	}
}

// The deadline passing while STS is called is a request-level 503 Timeout.
func TestScopedTimeout(t *testing.T) {
	t.Parallel()
	h := api.New(scopedResolver(t, store{}, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	a := invokeCtx(t, ctx, h, httpEvent("POST", "/v1/resolve", scopedBody("slow"), false))
	if a.StatusCode != 503 || errorCode(t, a.Body) != "Timeout" {
		t.Errorf("%d %s", a.StatusCode, a.Body)
	}
}

// Unknown and closed scopes answer byte for byte the same.
func TestScopeNotAllowedIsOneAnswer(t *testing.T) {
	t.Parallel()
	ss, err := config.ParseScopes([]byte(`{}`), "SCOPES")
	if err != nil {
		t.Fatal(err)
	}
	none, err := scopes.New(context.Background(), &fakeSTS{}, scopes.WithScopes(ss))
	if err != nil {
		t.Fatal(err)
	}
	unknown := api.New(resolve.New(store{}, resolve.WithScopes(none, func(string, aws.CredentialsProvider) resolve.Store { return store{} })))
	closed := api.New(scopedResolver(t, store{}, nil))
	for _, event := range [][]byte{[]byte(scopedBody("tenant")), restEvent("POST", "/v1/resolve", scopedBody("tenant"))} {
		u, err1 := unknown.Invoke(context.Background(), event)
		c, err2 := closed.Invoke(context.Background(), bytes.ReplaceAll(event, []byte(caller), []byte(caller+"-other")))
		if err1 != nil || err2 != nil || !bytes.Equal(u, c) || !bytes.Contains(u, []byte("ScopeNotAllowed")) {
			t.Errorf("unknown: %s\nclosed:  %s", u, c)
		}
	}
}

// The summary line names the scope and counts AssumeRole calls, in a log
// field and a metric, on scoped requests only.
func TestScopedSummaryLine(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	used := map[string]int{}
	h := api.New(scopedResolver(t, store{}, used), api.WithLogger(slogTo(&logs)))
	for i, want := range []float64{1, 0} {
		logs.Reset()
		if a := invoke(t, h, httpEvent("POST", "/v1/resolve", scopedBody("tenant"), false)); a.StatusCode != 200 {
			t.Fatalf("%d %s", a.StatusCode, a.Body)
		}
		line := summaryLine(t, logs.String())
		if line["scope"] != "tenant" || line["assume_role_calls"] != want || line["AssumeRoleCalls"] != want {
			t.Errorf("request %d: scope %v, assume_role_calls %v, AssumeRoleCalls %v; want %v",
				i, line["scope"], line["assume_role_calls"], line["AssumeRoleCalls"], want)
		}
		if !strings.Contains(logs.String(), `{"Name":"AssumeRoleCalls","Unit":"Count"}`) {
			t.Errorf("request %d: AssumeRoleCalls is not declared a metric: %s", i, logs.String())
		}
	}
	if len(used) != 1 {
		t.Errorf("partitions used: %v", used)
	}
	logs.Reset()
	invoke(t, h, httpEvent("POST", "/v1/resolve", reqBody, false))
	if line := summaryLine(t, logs.String()); line["scope"] != nil || line["assume_role_calls"] != nil || line["AssumeRoleCalls"] != nil ||
		strings.Contains(logs.String(), "AssumeRoleCalls") {
		t.Errorf("unscoped line names a scope: %s", logs.String())
	}
}

func noCanary(t *testing.T, what, text string) {
	t.Helper()
	if strings.Contains(text, extCanary) || strings.Contains(text, "p3Lk8v") {
		t.Errorf("%s: the external id leaked: %s", what, text)
	}
}

func slogTo(w *bytes.Buffer) *slog.Logger {
	return slog.New(telemetry.NewLogHandler(w, slog.LevelDebug, ""))
}

// answered is an answer's status and body, whatever the event's source.
type answered struct {
	status int
	body   string
}

// invokeBody invokes h with event; a direct invocation's status is its
// code's (200 without one).
func invokeBody(t *testing.T, h *api.Handler, event []byte) answered {
	t.Helper()
	if bytes.Contains(event, []byte(`"requestContext"`)) {
		a := invoke(t, h, event)
		return answered{a.StatusCode, a.Body}
	}
	out, err := h.Invoke(context.Background(), event)
	if err != nil {
		t.Fatal(err)
	}
	var e struct{ Error struct{ Code answer.Code } }
	if json.Unmarshal(out, &e) != nil || e.Error.Code == "" {
		return answered{200, string(out)}
	}
	if e.Error.Code == answer.MaskResolutionFailed {
		return answered{422, string(out)}
	}
	return answered{answer.Status(e.Error.Code), string(out)}
}
