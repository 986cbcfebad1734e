package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// canary stands for a secret value: it must never reach the hook's log.
const canary = "CANARY-7f3a-not-for-logs"

// TestDecision: the status reported to CodeDeploy for each answer the
// version under test may give. Only a dry run whose every mask is verified
// lets traffic shift.
func TestDecision(t *testing.T) {
	t.Parallel()
	verified := `{"connection":{"password":"{{workato:sm:db.password:arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf}}","port":5432},` +
		`"masks":[{"path":"/connection/password","key":"db.password","secret_arn":"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf","status":"verified","version_id":"a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"}]}`
	for _, c := range []struct {
		name   string
		invoke func(http.ResponseWriter, *http.Request, invocation)
		want   string
		logHas []string // in the log line, e.g. what failed
		masks  float64  // logged on success
	}{
		{name: "every mask verified", invoke: answerWith(verified, ""), want: "Succeeded", masks: 1},
		{name: "no masks in the connection", invoke: answerWith(`{"connection":{"port":5432}}`, ""), want: "Succeeded", masks: 0},
		{
			name: "a mask fails",
			invoke: answerWith(`{"error":{"code":"MaskResolutionFailed","message":"1 mask failed","masks":[`+
				`{"path":"/connection/password","key":"db.password","secret_arn":"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf","code":"KeyNotFound","message":"no key db.password"}]}}`, ""),
			want:   "Failed",
			logHas: []string{"MaskResolutionFailed", "/connection/password", "db.password", "KeyNotFound", "prod/db-AbCdEf"},
		},
		{
			name:   "a request-level error",
			invoke: answerWith(`{"error":{"code":"TooManyMasks","message":"too many"}}`, ""),
			want:   "Failed",
			logHas: []string{"TooManyMasks"},
		},
		{
			// A version that ignores dry_run hands back values: the hook
			// fails it and keeps the values out of its log.
			name: "a value comes back resolved",
			invoke: answerWith(`{"connection":{"password":"`+canary+`","port":5432},`+
				`"masks":[{"path":"/connection/password","key":"db.password","secret_arn":"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf","status":"resolved"}]}`, ""),
			want:   "Failed",
			logHas: []string{"does not honour dry_run", `\"resolved\"`},
		},
		{
			name:   "the function errors",
			invoke: answerWith(`{"errorMessage":"`+canary+`","errorType":"Runtime.ExitError"}`, "Unhandled"),
			want:   "Failed",
			logHas: []string{"failed the invocation (Unhandled)"},
		},
		{
			name:   "not the resolver's answer",
			invoke: answerWith(`"`+canary+`"`, ""),
			want:   "Failed",
			logHas: []string{"something other than the resolver's JSON answer"},
		},
		{
			name:   "neither connection nor error",
			invoke: answerWith(`{}`, ""),
			want:   "Failed",
			logHas: []string{"neither a connection nor an error"},
		},
		{
			name:   "Lambda refuses: the hook may not invoke the version",
			invoke: lambdaError(http.StatusForbidden, "AccessDeniedException"),
			want:   "Failed",
			logHas: []string{"AccessDeniedException"},
		},
		{
			name:   "Lambda refuses: no such version",
			invoke: lambdaError(http.StatusNotFound, "ResourceNotFoundException"),
			want:   "Failed",
			logHas: []string{"ResourceNotFoundException"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := &double{invoke: c.invoke}
			h, log := start(t, d, validEnv())
			if err := h.handle(context.Background(), testEvent); err != nil {
				t.Fatalf("handle: %v", err)
			}
			invs, reps := d.recorded()
			if len(reps) != 1 {
				t.Fatalf("%d reports to CodeDeploy, want 1", len(reps))
			}
			if want := (report{testEvent.DeploymentID, testEvent.LifecycleEventHookExecutionID, c.want}); reps[0] != want {
				t.Errorf("reported %+v, want %+v", reps[0], want)
			}
			checkInvocation(t, invs)
			line := log.String()
			for _, s := range c.logHas {
				if !strings.Contains(line, s) {
					t.Errorf("log does not say %q:\n%s", s, line)
				}
			}
			if strings.Contains(line, canary) {
				t.Errorf("a value of the answer reached the log:\n%s", line)
			}
			if c.want == "Succeeded" {
				var rec struct {
					Msg   string
					Masks *float64
				}
				if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Masks == nil || *rec.Masks != c.masks {
					t.Errorf("success log %q: want masks %v (%v)", line, c.masks, err)
				}
			}
		})
	}
}

// checkInvocation: one synchronous invocation of exactly the version under
// test (not an alias, not $LATEST), whose event is the dry run of the
// configured connection.
func checkInvocation(t *testing.T, invs []invocation) {
	t.Helper()
	if len(invs) != 1 {
		t.Fatalf("%d invocations, want 1", len(invs))
	}
	inv := invs[0]
	if inv.functionName != testTarget || inv.qualifier != "" {
		t.Errorf("invoked %q qualifier %q, want %q", inv.functionName, inv.qualifier, testTarget)
	}
	if inv.invocationType != "" && inv.invocationType != "RequestResponse" {
		t.Errorf("invocation type %q, want RequestResponse", inv.invocationType)
	}
	var req map[string]json.RawMessage
	if err := json.Unmarshal(inv.payload, &req); err != nil {
		t.Fatalf("payload %s: %v", inv.payload, err)
	}
	if string(req["dry_run"]) != "true" || len(req) != 2 {
		t.Errorf("payload %s, want connection and dry_run true only", inv.payload)
	}
	if got, want := string(req["connection"]), validEnv()[EnvConnection]; got != want {
		t.Errorf("connection %s, want %s", got, want)
	}
}

// TestMisconfigured: a hook that cannot run its check reports Failed
// rather than leaving CodeDeploy to wait for a status, and invokes nothing.
func TestMisconfigured(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		env    map[string]string
		logHas string
	}{
		{"no target", map[string]string{EnvConnection: `{}`}, EnvTarget},
		{"the alias, not a version", map[string]string{EnvTarget: strings.TrimSuffix(testTarget, ":7") + ":live", EnvConnection: `{}`}, "not the ARN of a function version"},
		{"unqualified", map[string]string{EnvTarget: strings.TrimSuffix(testTarget, ":7"), EnvConnection: `{}`}, "not the ARN of a function version"},
		{"no connection", map[string]string{EnvTarget: testTarget}, EnvConnection + " is empty"},
		{"connection not JSON", map[string]string{EnvTarget: testTarget, EnvConnection: `{"password": ` + canary}, EnvConnection + " is not a JSON value"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := &double{invoke: func(http.ResponseWriter, *http.Request, invocation) { t.Error("invoked although misconfigured") }}
			h, log := start(t, d, c.env)
			if err := h.handle(context.Background(), testEvent); err != nil {
				t.Fatalf("handle: %v", err)
			}
			invs, reps := d.recorded()
			if len(invs) != 0 || len(reps) != 1 || reps[0].Status != "Failed" {
				t.Errorf("%d invocations, reports %+v; want none and one Failed", len(invs), reps)
			}
			if !strings.Contains(log.String(), c.logHas) {
				t.Errorf("log does not say %q:\n%s", c.logHas, log)
			}
			if strings.Contains(log.String(), canary) {
				t.Errorf("the connection reached the log:\n%s", log)
			}
		})
	}
}

// TestHangingVersion: a version that does not answer within the hook's
// time fails the check, and the hook still reports Failed before its own
// deadline (ReportReserve).
func TestHangingVersion(t *testing.T) {
	t.Parallel()
	d := &double{invoke: func(_ http.ResponseWriter, r *http.Request, _ invocation) { <-r.Context().Done() }}
	h, _ := start(t, d, validEnv())
	h.reserve = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if err := h.handle(ctx, testEvent); err != nil {
		t.Fatalf("handle: %v", err)
	}
	if _, reps := d.recorded(); len(reps) != 1 || reps[0].Status != "Failed" {
		t.Errorf("reports %+v, want one Failed", reps)
	}
}

// TestReportFails: when CodeDeploy refuses the report, the hook fails the
// invocation, so that Lambda retries it.
func TestReportFails(t *testing.T) {
	t.Parallel()
	d := &double{invoke: answerWith(`{"connection":{}}`, ""), reportStatus: http.StatusBadRequest}
	h, _ := start(t, d, validEnv())
	err := h.handle(context.Background(), testEvent)
	if err == nil || !strings.Contains(err.Error(), "DeploymentDoesNotExistException") || !strings.Contains(err.Error(), testEvent.DeploymentID) {
		t.Errorf("handle: %v, want the CodeDeploy error naming the deployment", err)
	}
}

// TestNotAHookEvent: an event without CodeDeploy's ids is refused before
// anything is invoked or reported.
func TestNotAHookEvent(t *testing.T) {
	t.Parallel()
	d := &double{invoke: answerWith(`{"connection":{}}`, "")}
	h, _ := start(t, d, validEnv())
	if err := h.handle(context.Background(), event{DeploymentID: "d-EXAMPLE123"}); err == nil {
		t.Error("handle accepted an event without LifecycleEventHookExecutionId")
	}
	if invs, reps := d.recorded(); len(invs) != 0 || len(reps) != 0 {
		t.Errorf("%d invocations, %d reports; want none", len(invs), len(reps))
	}
}
