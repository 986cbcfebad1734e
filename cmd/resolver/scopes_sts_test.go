package main

// A scope's sts:AssumeRole through the built bootstrap: one call for many
// concurrent cold requests, the session name, a refusal answered
// ScopeUnavailable and remembered, throttling and the deadline.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maskresolver/maskresolver/internal/lambdatest"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// TestScopeOneAssumeRole: N concurrent cold requests of a scope (several
// invocations at once in one environment) share one AssumeRole, signed by
// the function's own role, with the scope's external id and a session
// name holding the scope's name and the function's.
func TestScopeOneAssumeRole(t *testing.T) {
	t.Parallel()
	const n = 8
	f := startScopedTraced(t, "SCOPES="+testScopes(t), "AWS_LAMBDA_MAX_CONCURRENCY=8")
	f.sm.Inject(smfake.Fault{Op: "AssumeRole", Latency: 400 * time.Millisecond}) // so that all overlap
	ev := scoped(t, "a", keyOf(tenantASecret))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	answers := make([]lambdatest.Answer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() { answers[i], errs[i] = f.api.Invoke(ctx, lambdatest.Invocation{Payload: ev}) })
	}
	wg.Wait()
	for i, a := range answers {
		if errs[i] != nil {
			t.Fatalf("invocation %d: %v\n%s", i, errs[i], f.logs.String())
		}
		var p proxyResponse
		if err := json.Unmarshal(a.Body, &p); err != nil {
			t.Fatalf("invocation %d: %s", i, a.Body)
		}
		wantResolved(t, p, `{"k":"`+tenantAValue+`"}`, resolvedKey(tenantASecret))
	}
	calls := f.sm.AssumeRoleCalls()
	if len(calls) != 1 {
		t.Fatalf("%d concurrent cold requests made %d AssumeRole calls, want 1: %+v", n, len(calls), calls)
	}
	c := calls[0]
	if c.RoleARN != roleA || !c.ExternalIDIs(extIDA) || c.Principal != smfake.DefaultPrincipal {
		t.Errorf("AssumeRole %+v: want %s, its external id, signed by the function's role", c, roleA)
	}
	// The traced harness names the function "maskresolver".
	if s := c.RoleSessionName; !strings.HasPrefix(s, "maskresolver") || !strings.HasSuffix(s, "a") || len(s) > 64 {
		t.Errorf("RoleSessionName %q: want the function's name and the scope's", s)
	}
	if n := f.sm.SecretReadsBy(roleA, tenantASecret); n != 1 {
		t.Errorf("%d reads by the role, want 1", n)
	}
}

// TestScopeSessionName: a scope's name is kept whole in the session name,
// with as much of the function's name as fits STS's 64 characters.
func TestScopeSessionName(t *testing.T) {
	t.Parallel()
	long := "tenant-with-a-rather-long-project-name.v2_" + strings.Repeat("x", 64-len("tenant-with-a-rather-long-project-name.v2_")-4)
	doc := scopesDoc(t, map[string]scopeSpec{
		long: {RoleARN: roleA, ExternalID: extIDA, Callers: []string{"*"}, Secrets: tenantPatterns},
	})
	f := startScopedTraced(t, "SCOPES="+doc)
	wantResolved(t, f.invoke(t, scoped(t, long, keyOf(tenantASecret)), ""), `{"k":"`+tenantAValue+`"}`, resolvedKey(tenantASecret))
	calls := f.sm.AssumeRoleCalls()
	if len(calls) != 1 {
		t.Fatalf("%d AssumeRole calls, want 1", len(calls))
	}
	s := calls[0].RoleSessionName
	if !strings.Contains(s, long) || len(s) > 64 || !strings.HasPrefix(s, "mas") {
		t.Errorf("RoleSessionName %q (%d characters): want the scope's name %q whole, led by the function's name cut to fit 64", s, len(s), long)
	}
}

// TestScopeRefusedRemembered: a role STS refuses answers 502
// ScopeUnavailable naming the role and STS's code; the refusal is
// remembered for CACHE_NOT_FOUND_TTL (max_age 0 too makes no call), other
// scopes work meanwhile, and once the time has passed STS is asked again.
func TestScopeRefusedRemembered(t *testing.T) {
	t.Parallel()
	const remember = 3 * time.Second
	e, sm := startScoped(t, "SCOPES="+testScopes(t), "CACHE_NOT_FOUND_TTL=3s")
	ev := scoped(t, "broken", keyOf(tenantASecret))
	// The refusal is remembered from some moment between sending the
	// request and its answer: after sent, so it holds until at least
	// sent+remember; before answered, so it ends by answered+remember.
	sent := time.Now()
	p := e.invokeProxy(t, ev)
	answered := time.Now()
	wantRequestError(t, p, http.StatusBadGateway, "ScopeUnavailable")
	msg := decodeBody(t, p.Body).Error.Message
	if !strings.Contains(msg, roleRefused) || !strings.Contains(msg, "AccessDenied") {
		t.Errorf("message %q: want the role %s and STS's code AccessDenied", msg, roleRefused)
	}
	if strings.Contains(msg, "not authorized") {
		t.Errorf("message %q quotes STS's message", msg)
	}
	calls := len(sm.AssumeRoleCalls())
	if calls != 1 {
		t.Fatalf("%d AssumeRole calls, want 1", calls)
	}
	if n := smCalls(sm); n != 0 {
		t.Errorf("%d Secrets Manager calls for a scope whose role was refused", n)
	}

	for _, ev := range [][]byte{ev, scoped(t, "broken", keyOf(tenantASecret), `,"max_age":0`)} {
		p2 := e.invokeProxy(t, ev)
		if time.Since(sent) >= remember {
			t.Fatal("too slow to tell: the refusal may have been forgotten")
		}
		wantRequestError(t, p2, http.StatusBadGateway, "ScopeUnavailable")
		if got := decodeBody(t, p2.Body).Error.Message; got != msg {
			t.Errorf("remembered refusal: message %q, want %q", got, msg)
		}
	}
	if n := len(sm.AssumeRoleCalls()); n != calls {
		t.Errorf("a remembered refusal made %d more AssumeRole calls", n-calls)
	}
	wantResolved(t, e.invokeProxy(t, scoped(t, "b", keyOf(tenantBSecret))), `{"k":"`+tenantBValue+`"}`, resolvedKey(tenantBSecret))

	// The role becomes trusted; after the memory ends the scope works.
	if err := sm.AddRole(roleRefused); err != nil {
		t.Fatal(err)
	}
	if err := sm.Grant(tenantASecret, roleRefused); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(answered.Add(remember + 200*time.Millisecond)))
	wantResolved(t, e.invokeProxy(t, ev), `{"k":"`+tenantAValue+`"}`, resolvedKey(tenantASecret))
}

// TestScopeSTSThrottled: STS throttling AssumeRole past the retries is
// 503 Throttled for the request, not remembered: once STS answers, the
// scope works.
func TestScopeSTSThrottled(t *testing.T) {
	t.Parallel()
	e, sm := startScoped(t, "SCOPES="+testScopes(t), "AWS_MAX_ATTEMPTS=2", "AWS_LAMBDA_FUNCTION_TIMEOUT=5")
	sm.Inject(smfake.Fault{Op: "AssumeRole", RoleARN: roleA, Code: "Throttling"})
	ev := scoped(t, "a", keyOf(tenantASecret))
	wantRequestError(t, e.invokeProxy(t, ev), http.StatusServiceUnavailable, "Throttled")
	if n := len(sm.AssumeRoleCalls()); n < 1 {
		t.Fatalf("%d AssumeRole calls", n)
	}
	if n := smCalls(sm); n != 0 {
		t.Errorf("%d Secrets Manager calls without credentials", n)
	}
	sm.ClearFaults()
	wantResolved(t, e.invokeProxy(t, ev), `{"k":"`+tenantAValue+`"}`, resolvedKey(tenantASecret))
}

// TestScopeSTSFailing: STS failing (a 5xx past the retries) is 502
// ScopeUnavailable naming the role and STS's code.
func TestScopeSTSFailing(t *testing.T) {
	t.Parallel()
	e, sm := startScoped(t, "SCOPES="+testScopes(t), "AWS_MAX_ATTEMPTS=2", "CACHE_NOT_FOUND_TTL=0s")
	sm.Inject(smfake.Fault{Op: "AssumeRole", RoleARN: roleB, Code: "InternalFailure"})
	p := e.invokeProxy(t, scoped(t, "b", keyOf(tenantBSecret)))
	wantRequestError(t, p, http.StatusBadGateway, "ScopeUnavailable")
	if msg := decodeBody(t, p.Body).Error.Message; !strings.Contains(msg, roleB) || !strings.Contains(msg, "InternalFailure") {
		t.Errorf("message %q: want the role %s and STS's code InternalFailure", msg, roleB)
	}
	sm.ClearFaults()
	wantResolved(t, e.invokeProxy(t, scoped(t, "b", keyOf(tenantBSecret))), `{"k":"`+tenantBValue+`"}`, resolvedKey(tenantBSecret))
}

// TestScopeSTSTimeout: the deadline reached while assuming the role is 503
// Timeout.
func TestScopeSTSTimeout(t *testing.T) {
	t.Parallel()
	f := startScopedTraced(t, "SCOPES="+testScopes(t))
	f.sm.Inject(smfake.Fault{Op: "AssumeRole", Latency: 8 * time.Second, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	start := time.Now()
	a, err := f.api.Invoke(ctx, lambdatest.Invocation{Payload: scoped(t, "a", keyOf(tenantASecret)), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("invoke: %v\n%s", err, f.logs.String())
	}
	var p proxyResponse
	if err := json.Unmarshal(a.Body, &p); err != nil || a.FunctionError {
		t.Fatalf("answer %s: %v", a.Body, err)
	}
	wantRequestError(t, p, http.StatusServiceUnavailable, "Timeout")
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("answered after %v, past the 2 s deadline", d)
	}
}

// TestScopeCredentialsRenewed: a scope's credentials are reused while
// they are good and renewed before they expire — a minute before, so
// credentials issued for 65 s are renewed on the first request more than
// five seconds later — and the renewed ones read.
func TestScopeCredentialsRenewed(t *testing.T) {
	t.Parallel()
	sm, url := newScopeFake(t)
	if err := sm.AddRole(roleB, smfake.CredentialLifetime(65*time.Second)); err != nil {
		t.Fatal(err)
	}
	e := startEmulator(t, url, "AWS_ENDPOINT_URL_STS="+url, "SCOPES="+testScopes(t), "REFRESH_MIN_INTERVAL=0s")
	e.noLeak(tenantBValue)
	ev := scoped(t, "b", keyOf(tenantBSecret), `,"max_age":0`)
	want := func() {
		t.Helper()
		wantResolved(t, e.invokeProxy(t, ev), `{"k":"`+tenantBValue+`"}`, resolvedKey(tenantBSecret))
	}
	want()
	want() // at once: reused
	if n := len(sm.AssumeRoleCalls()); n != 1 {
		t.Fatalf("%d AssumeRole calls for two requests at once, want 1", n)
	}
	time.Sleep(5500 * time.Millisecond)
	want()
	if n := len(sm.AssumeRoleCalls()); n != 2 {
		t.Errorf("%d AssumeRole calls after the credentials came within a minute of expiry, want 2", n)
	}
	if n := readsBy(sm, roleB, tenantBSecret); n != 3 {
		t.Errorf("role B read the secret %d times, want 3 (every request forced a read)", n)
	}
}
