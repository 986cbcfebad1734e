package scopes_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/config"
	"github.com/maskresolver/maskresolver/internal/scopes"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// A scope's credentials are its role's, assumed with its external id when
// it has one and a session name of the function's and the scope's names;
// they read what the function's own role may not.
func TestReadyAssumesTheScopesRole(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, role, ext string
	}{
		{"with external id", roleA, extID},
		{"without external id", roleB, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := start(t)
			ss := parse(t, map[string]scope{"tenant-a": {role: tt.role, ext: tt.ext}})
			r := f.registry(t, scopes.WithScopes(ss))
			h := open(t, r, "tenant-a")
			if err := h.Ready(t.Context()); err != nil {
				t.Fatal(err)
			}
			calls := f.sm.AssumeRoleCalls()
			if len(calls) != 1 || r.AssumeRoleCalls() != 1 {
				t.Fatalf("%d calls on the double, %d counted; want 1", len(calls), r.AssumeRoleCalls())
			}
			c := calls[0]
			if c.RoleARN != tt.role || c.RoleSessionName != "maskresolver-prod@tenant-a" ||
				c.RoleSessionName != config.RoleSessionName(function, "tenant-a") || !c.Issued {
				t.Errorf("call %+v", c)
			}
			if c.ExternalID != (tt.ext != "") || (tt.ext != "" && !c.ExternalIDIs(extID)) {
				t.Errorf("ExternalID sent = %v, want %v (and the scope's)", c.ExternalID, tt.ext != "")
			}
			s, _ := ss.Get("tenant-a")
			if h.Name() != "tenant-a" || h.RoleARN() != tt.role || h.Partition() != s.PartitionKey() || h.Partition() == "" {
				t.Errorf("Name %q, RoleARN %q, Partition %q", h.Name(), h.RoleARN(), h.Partition())
			}
			if !h.Allows(tenantSecret) || h.Allows("arn:aws:secretsmanager:us-east-1:210987654321:secret:tenant-b/api") {
				t.Error("Allows does not follow the scope's secrets")
			}
			if tt.role != roleA {
				return
			}
			in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(tenantSecret)}
			out, err := f.secrets(h.Credentials()).GetSecretValue(t.Context(), in)
			if err != nil || aws.ToString(out.SecretString) != "tenant-a-key" {
				t.Fatalf("read with the scope's credentials: %v", err)
			}
			if _, err := f.secrets(nil).GetSecretValue(t.Context(), in); err == nil {
				t.Error("the function's own credentials read the tenant's secret")
			}
			if n := f.assumeCalls(); n != 1 {
				t.Errorf("%d AssumeRole calls after a read, want the 1 of Ready", n)
			}
		})
	}
}

// An unknown scope and a closed one give the same answer, and nothing is
// assumed for either.
func TestOpenUnknownAndClosedAlike(t *testing.T) {
	t.Parallel()
	f := start(t)
	r := f.registry(t, scopes.WithScopes(parse(t, map[string]scope{
		"tenant-a": {role: roleA, ext: extID},
		"open":     {role: roleB, callers: []string{"*"}},
	})))
	type result struct {
		h  *scopes.Handle
		ok bool
	}
	try := func(name, principal string, direct bool) result {
		h, ok := r.Open(t.Context(), name, principal, direct)
		return result{h, ok}
	}
	denied := map[string]result{
		"unknown":              try("tenant-z", caller, false),
		"unknown, direct":      try("tenant-z", "", true),
		"closed to the caller": try("tenant-a", "arn:aws:iam::123456789012:role/other", false),
		"closed to direct":     try("tenant-a", "", true),
		"empty name":           try("", caller, false),
	}
	for name, got := range denied {
		if got != (result{}) {
			t.Errorf("%s: Open = %v, %v; want nil, false", name, got.h, got.ok)
		}
	}
	for _, direct := range []bool{true, false} {
		if h, ok := r.Open(t.Context(), "open", caller, direct); !ok || h.Name() != "open" {
			t.Errorf(`Open("open", direct %v) = %v, %v: "*" admits anyone`, direct, h, ok)
		}
	}
	if n := f.assumeCalls(); n != 0 {
		t.Errorf("Open made %d AssumeRole calls, want 0", n)
	}
	var none *scopes.Registry
	if h, ok := none.Open(t.Context(), "tenant-a", caller, false); h != nil || ok || none.IsScopesSecret(scopesARN) {
		t.Error("a nil Registry has scopes")
	}
}

// Credentials are reused until they are within the expiry window of their
// expiry, then assumed again.
func TestCredentialsRenewedNearExpiry(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		lifetime time.Duration
		want     int
	}{
		{"far from expiry", time.Hour, 1},
		{"inside the window", scopes.DefaultExpiryWindow - 5*time.Second, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := start(t, smfake.CredentialLifetime(tt.lifetime))
			r := f.registry(t, scopes.WithScopes(parse(t, map[string]scope{"b": {role: roleB}})))
			for range 3 {
				if err := open(t, r, "b").Ready(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			if n := f.assumeCalls(); n != tt.want {
				t.Errorf("%d AssumeRole calls for 3 requests, want %d", n, tt.want)
			}
		})
	}

	// On the clock: reused, then renewed once inside the window.
	t.Run("over time", func(t *testing.T) {
		t.Parallel()
		f := start(t, smfake.CredentialLifetime(scopes.DefaultExpiryWindow+3*time.Second))
		r := f.registry(t, scopes.WithScopes(parse(t, map[string]scope{"b": {role: roleB}})))
		h := open(t, r, "b")
		first, err := h.Credentials().Retrieve(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		again, err := h.Credentials().Retrieve(t.Context())
		if err != nil || again.AccessKeyID != first.AccessKeyID || f.assumeCalls() != 1 {
			t.Fatalf("not reused: %v, %d calls", err, f.assumeCalls())
		}
		wait := time.Until(first.Expires)
		if wait > 5*time.Second {
			t.Fatalf("the cache holds the credentials %v longer: not renewed inside the expiry window", wait)
		}
		time.Sleep(wait + 100*time.Millisecond)
		renewed, err := h.Credentials().Retrieve(t.Context())
		if err != nil || renewed.AccessKeyID == first.AccessKeyID || f.assumeCalls() != 2 {
			t.Fatalf("not renewed: %v, %d calls", err, f.assumeCalls())
		}
	})
}

// Concurrent cold requests of a scope share one AssumeRole, counted for
// the one request that led it.
func TestConcurrentColdReadyShareOneCall(t *testing.T) {
	t.Parallel()
	f := start(t)
	f.sm.Inject(smfake.Fault{Op: "AssumeRole", Latency: 300 * time.Millisecond, Times: 1})
	r := f.registry(t, scopes.WithScopes(parse(t, map[string]scope{"tenant-a": {role: roleA, ext: extID}})))
	const n = 16
	counts := make([]scopes.CallCount, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ctx := scopes.CountCalls(t.Context(), &counts[i])
			h, ok := r.Open(ctx, "tenant-a", caller, false)
			if !ok {
				errs[i] = errors.New("not opened")
				return
			}
			errs[i] = h.Ready(ctx)
		})
	}
	wg.Wait()
	led := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("request %d: %v", i, errs[i])
		}
		led += counts[i].Load()
	}
	if got := f.assumeCalls(); got != 1 || r.AssumeRoleCalls() != 1 || led != 1 {
		t.Errorf("%d AssumeRole calls on the double, %d counted, %d attributed; want 1, 1, 1", got, r.AssumeRoleCalls(), led)
	}
}

// A refused AssumeRole answers ScopeUnavailable naming the role and STS's
// code; it is remembered for the refused TTL, answered without a call,
// then forgotten.
func TestRefusedAssumeRoleRemembered(t *testing.T) {
	t.Parallel()
	const nobody = "arn:aws:iam::210987654321:role/nobody"
	for _, tt := range []struct {
		name, role, ext string
		fault           *smfake.Fault
		wantSTSCode     string
	}{
		{"unknown role", nobody, "", nil, "AccessDenied"},
		{"wrong external id", roleA, extID + "-old", nil, "AccessDenied"},
		{"no external id", roleA, "", nil, "AccessDenied"},
		{"STS failing", roleB, "", &smfake.Fault{Op: "AssumeRole", Code: "InternalFailure"}, "InternalFailure"},
		{"no valid answer", roleB, "", &smfake.Fault{Op: "AssumeRole", Malformed: true}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := start(t)
			var inj *smfake.Injected
			if tt.fault != nil {
				inj = f.sm.Inject(*tt.fault)
			}
			r := f.registry(t, scopes.WithScopes(parse(t, map[string]scope{"s": {role: tt.role, ext: tt.ext}})),
				scopes.WithRefusedTTL(5*time.Second))
			err := open(t, r, "s").Ready(t.Context())
			var e *scopes.Error
			if !errors.As(err, &e) || e.Code != answer.ScopeUnavailable || e.STSCode != tt.wantSTSCode || e.Remembered {
				t.Fatalf("Ready = %#v, want ScopeUnavailable %s", err, tt.wantSTSCode)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.role) || !strings.Contains(msg, tt.wantSTSCode) ||
				strings.Contains(msg, "not authorized") || strings.Contains(msg, "smfake") {
				t.Errorf("message %q: want the role and the code, nothing of STS's message", msg)
			}
			noCanary(t, "the error", msg)

			// Remembered: the same answer, no call, from Ready and from
			// the credentials a read would sign with.
			f.clock.Add(4 * time.Second)
			err = open(t, r, "s").Ready(t.Context())
			if !errors.As(err, &e) || !e.Remembered || err.Error() != msg {
				t.Errorf("second Ready = %v, want the same error, remembered", err)
			}
			if _, err := open(t, r, "s").Credentials().Retrieve(t.Context()); !errors.As(err, &e) || !e.Remembered {
				t.Errorf("Credentials().Retrieve = %v, want the remembered refusal", err)
			}
			if n := f.assumeCalls(); n != 1 {
				t.Errorf("%d AssumeRole calls, want 1: the refusal is remembered", n)
			}

			// Forgotten after the TTL: STS is asked again.
			if inj != nil {
				f.sm.ClearFaults()
			}
			if tt.role == nobody {
				if err := f.sm.AddRole(nobody); err != nil {
					t.Fatal(err)
				}
			}
			f.clock.Add(time.Second)
			err = open(t, r, "s").Ready(t.Context())
			if n := f.assumeCalls(); n != 2 {
				t.Errorf("%d AssumeRole calls after the TTL, want 2", n)
			}
			// tenant-a's role still wants extID, which neither sends.
			if wantOK := tt.role != roleA; wantOK != (err == nil) {
				t.Errorf("after the TTL: %v", err)
			}
		})
	}
}

// Without a refused TTL, every request asks STS.
func TestRefusalNotRememberedWithZeroTTL(t *testing.T) {
	t.Parallel()
	f := start(t)
	r := f.registry(t, scopes.WithScopes(parse(t, map[string]scope{"s": {role: roleA}})), scopes.WithRefusedTTL(0))
	for range 2 {
		if err := open(t, r, "s").Ready(t.Context()); err == nil {
			t.Fatal("Ready without the external id succeeded")
		}
	}
	if n := f.assumeCalls(); n != 2 {
		t.Errorf("%d AssumeRole calls, want 2", n)
	}
}

// STS throttling past the client's retries is Throttled, and not
// remembered: it says "come back shortly".
func TestThrottled(t *testing.T) {
	t.Parallel()
	f := start(t)
	f.sm.Inject(smfake.Fault{Op: "AssumeRole", Code: "Throttling"})
	r, err := f.newRegistry(t.Context(), f.stsRetrying(3), scopes.WithScopes(parse(t, map[string]scope{"b": {role: roleB}})))
	if err != nil {
		t.Fatal(err)
	}
	err = open(t, r, "b").Ready(t.Context())
	var e *scopes.Error
	if !errors.As(err, &e) || e.Code != answer.Throttled || e.STSCode != "Throttling" || !strings.Contains(err.Error(), roleB) {
		t.Fatalf("Ready = %v, want Throttled", err)
	}
	if n := f.assumeCalls(); n != 3 || r.AssumeRoleCalls() != 1 {
		t.Errorf("%d attempts, %d calls counted; want 3, 1", n, r.AssumeRoleCalls())
	}
	f.sm.ClearFaults()
	if err := open(t, r, "b").Ready(t.Context()); err != nil || f.assumeCalls() != 4 {
		t.Errorf("after the throttling: %v, %d calls; want success on a new call", err, f.assumeCalls())
	}
}

// STS throttling until the deadline is Throttled too, not a Timeout.
func TestThrottledUntilDeadline(t *testing.T) {
	t.Parallel()
	f := start(t)
	f.sm.Inject(smfake.Fault{Op: "AssumeRole", Code: "Throttling", Times: 3})
	client := sts.NewFromConfig(f.cfg, func(o *sts.Options) {
		o.RetryMaxAttempts = 0
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 10
			so.RateLimiter = ratelimit.None
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 150 * time.Millisecond, nil })
		})
	})
	r, err := f.newRegistry(t.Context(), client, scopes.WithScopes(parse(t, map[string]scope{"b": {role: roleB}})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	err = open(t, r, "b").Ready(ctx)
	var e *scopes.Error
	if !errors.As(err, &e) || e.Code != answer.Throttled || e.STSCode != "Throttling" {
		t.Fatalf("Ready = %v, want Throttled", err)
	}
	// The call goes on, and succeeds once STS stops throttling.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c := f.sm.AssumeRoleCalls(); len(c) > 0 && c[len(c)-1].Issued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the AssumeRole call did not go on")
		}
	}
	if err := open(t, r, "b").Ready(t.Context()); err != nil || f.assumeCalls() != 4 || r.AssumeRoleCalls() != 1 {
		t.Errorf("next request: %v, %d attempts, %d calls; want the credentials of the first call", err, f.assumeCalls(), r.AssumeRoleCalls())
	}
}

// A slow STS and a short deadline: Timeout at the deadline; the call goes
// on and its credentials serve the next request.
func TestTimeout(t *testing.T) {
	t.Parallel()
	f := start(t)
	f.sm.Inject(smfake.Fault{Op: "AssumeRole", Latency: time.Second, Times: 1})
	r := f.registry(t, scopes.WithScopes(parse(t, map[string]scope{"b": {role: roleB}})))
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	begin := time.Now()
	err := open(t, r, "b").Ready(ctx)
	var e *scopes.Error
	if !errors.As(err, &e) || e.Code != answer.Timeout || !strings.Contains(err.Error(), roleB) {
		t.Fatalf("Ready = %v, want Timeout", err)
	}
	if d := time.Since(begin); d > 700*time.Millisecond {
		t.Errorf("Ready waited %v past its 100 ms deadline", d)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c := f.sm.AssumeRoleCalls(); len(c) == 1 && c[0].Issued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the AssumeRole call did not go on")
		}
	}
	if err := open(t, r, "b").Ready(t.Context()); err != nil || f.assumeCalls() != 1 {
		t.Errorf("next request: %v, %d calls; want the credentials of the first call", err, f.assumeCalls())
	}
}

// Credentials are kept for a bounded number of scopes: the least recently
// opened is assumed again when it comes back.
func TestCredentialsBounded(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		max, want int
	}{{2, 4}, {3, 3}} {
		f := start(t)
		r := f.registry(t, scopes.WithMaxScopes(tt.max),
			scopes.WithScopes(parse(t, map[string]scope{"a": {role: roleB}, "b": {role: roleB}, "c": {role: roleB}})))
		for _, name := range []string{"a", "b", "c", "a"} {
			if err := open(t, r, name).Ready(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		if n := f.assumeCalls(); n != tt.want {
			t.Errorf("bound %d: %d AssumeRole calls, want %d", tt.max, n, tt.want)
		}
	}
}
