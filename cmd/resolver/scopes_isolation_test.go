package main

// Isolation of scopes through the built bootstrap: what one partition
// read (values, remembered misses, in-flight reads) is served to no other
// — neither another scope, nor the unscoped requests, nor the reverse —
// even for the same ARN. The double lets only one principal read each
// secret, so a value crossing partitions would be a 200 where the test
// wants the reader's AccessDenied.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/lambdatest"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// TestScopeReadsWithRole: a scoped request reads with its role's
// credentials; the same ARN, unscoped, is read with the function's own
// role (and refused) even after the scope cached it; a second scope, of
// the same role or of another, reads for itself.
func TestScopeReadsWithRole(t *testing.T) {
	t.Parallel()
	e, sm := startScoped(t, "SCOPES="+testScopes(t), "REFRESH_MIN_INTERVAL=0s")
	conn := keyOf(tenantASecret)
	want := `{"k":"` + tenantAValue + `"}`

	wantResolved(t, e.invokeProxy(t, scoped(t, "a", conn)), want, resolvedKey(tenantASecret))
	if n := readsBy(sm, roleA, tenantASecret); n != 1 {
		t.Fatalf("the scope's role read the secret %d times, want 1", n)
	}
	if n := readsBy(sm, smfake.DefaultPrincipal, tenantASecret); n != 0 {
		t.Fatalf("the function's own role read the secret %d times for a scoped request", n)
	}
	calls := sm.AssumeRoleCalls()
	if len(calls) != 1 || calls[0].RoleARN != roleA || !calls[0].ExternalIDIs(extIDA) || !calls[0].Issued {
		t.Fatalf("AssumeRole calls %+v, want one of %s with its external id", calls, roleA)
	}

	t.Run("unscoped, same ARN, after the scope cached it", func(t *testing.T) {
		wantMaskFailures(t, e.invokeProxy(t, unscoped(t, conn)), http.StatusUnprocessableEntity,
			failedKey(tenantASecret, "AccessDenied"))
		if n := readsBy(sm, smfake.DefaultPrincipal, tenantASecret); n != 1 {
			t.Errorf("the function's own role tried %d reads, want 1", n)
		}
	})
	t.Run("the scope again: its own cache", func(t *testing.T) {
		wantResolved(t, e.invokeProxy(t, scoped(t, "a", conn)), want, resolvedKey(tenantASecret))
		if n := readsBy(sm, roleA, tenantASecret); n != 1 {
			t.Errorf("the role read %d times, want 1 (a cache hit)", n)
		}
		if n := len(sm.AssumeRoleCalls()); n != 1 {
			t.Errorf("%d AssumeRole calls, want 1 (cached credentials)", n)
		}
	})
	t.Run("another scope of the same role reads for itself", func(t *testing.T) {
		wantResolved(t, e.invokeProxy(t, scoped(t, "a-too", conn)), want, resolvedKey(tenantASecret))
		if n := readsBy(sm, roleA, tenantASecret); n != 2 {
			t.Errorf("the role read %d times, want 2 (one per scope)", n)
		}
	})
	t.Run("another scope's role is refused", func(t *testing.T) {
		wantMaskFailures(t, e.invokeProxy(t, scoped(t, "b", conn)), http.StatusUnprocessableEntity,
			failedKey(tenantASecret, "AccessDenied"))
		if n := readsBy(sm, roleB, tenantASecret); n != 1 {
			t.Errorf("scope b's role tried %d reads, want 1", n)
		}
	})
	t.Run("max_age 0 reads again with the role", func(t *testing.T) {
		before := readsBy(sm, roleA, tenantASecret)
		wantResolved(t, e.invokeProxy(t, scoped(t, "a", conn, `,"max_age":0`)), want, resolvedKey(tenantASecret))
		if n := readsBy(sm, roleA, tenantASecret) - before; n != 1 {
			t.Errorf("max_age 0 in a scope: %d reads by the role, want 1", n)
		}
	})
	t.Run("dry run in a scope", func(t *testing.T) {
		p := e.invokeProxy(t, scoped(t, "b", keyOf(tenantBSecret), `,"dry_run":true`))
		wantResolved(t, p, keyOf(tenantBSecret),
			answer.MaskEntry{Path: "/connection/k", Key: "key", SecretARN: tenantBSecret, Status: "verified"})
		if n := readsBy(sm, roleB, tenantBSecret); n != 1 {
			t.Errorf("the dry run read %d times with scope b's role, want 1", n)
		}
	})
}

// TestScopeNeverGetsUnscopedValue: the reverse direction. A value the
// function's own role read and cached is not served to a scope whose role
// may not read it, nor is a miss remembered in one partition answered in
// another.
func TestScopeNeverGetsUnscopedValue(t *testing.T) {
	t.Parallel()
	e, sm := startScoped(t, "SCOPES="+testScopes(t), "CACHE_NOT_FOUND_TTL=1h")
	conn := keyOf(ownSecret)

	wantResolved(t, e.invokeProxy(t, unscoped(t, conn)), `{"k":"`+ownValue+`"}`, resolvedKey(ownSecret))
	wantMaskFailures(t, e.invokeProxy(t, scoped(t, "a", conn)), http.StatusUnprocessableEntity,
		failedKey(ownSecret, "AccessDenied"))
	if n := readsBy(sm, roleA, ownSecret); n != 1 {
		t.Errorf("the scope's role tried %d reads, want 1", n)
	}
	wantResolved(t, e.invokeProxy(t, unscoped(t, conn)), `{"k":"`+ownValue+`"}`, resolvedKey(ownSecret))
	if n := readsBy(sm, smfake.DefaultPrincipal, ownSecret); n != 1 {
		t.Errorf("the function's role read %d times, want 1 (its own cache)", n)
	}

	// Remembered misses: a secret missing when one partition asked, made
	// before the other asks, is read by the other.
	later := func(name string) string {
		return "arn:aws:secretsmanager:us-east-1:" + tenantAccount + ":secret:" + name
	}
	put := func(arn, value string, readers ...string) {
		if _, err := sm.Put(smfake.Secret{ARN: arn, String: aws.String(`{"key":"` + value + `"}`), Readers: readers}); err != nil {
			t.Fatal(err)
		}
		e.noLeak(value)
	}
	t.Run("miss unscoped, then scoped", func(t *testing.T) {
		arn := later("tenant-a/later-L4ter1")
		wantMaskFailures(t, e.invokeProxy(t, unscoped(t, keyOf(arn))), http.StatusUnprocessableEntity, failedKey(arn, "SecretNotFound"))
		put(arn, "later-a-value", roleA)
		wantResolved(t, e.invokeProxy(t, scoped(t, "a", keyOf(arn))), `{"k":"later-a-value"}`, resolvedKey(arn))
	})
	t.Run("miss scoped, then unscoped and another scope", func(t *testing.T) {
		arn := later("tenant-b/later-L4ter2")
		wantMaskFailures(t, e.invokeProxy(t, scoped(t, "b", keyOf(arn))), http.StatusUnprocessableEntity, failedKey(arn, "SecretNotFound"))
		put(arn, "later-b-value")
		wantResolved(t, e.invokeProxy(t, unscoped(t, keyOf(arn))), `{"k":"later-b-value"}`, resolvedKey(arn))
		// Scope "a" may not name tenant B's secrets; "a-too" neither. Scope
		// b itself still remembers its miss (CACHE_NOT_FOUND_TTL).
		wantMaskFailures(t, e.invokeProxy(t, scoped(t, "b", keyOf(arn))), http.StatusUnprocessableEntity, failedKey(arn, "SecretNotFound"))
	})
}

// TestScopeInflightNotJoined: a scoped read and an unscoped one of the
// same ARN at the same time (several invocations at once in one
// environment) are two reads: the unscoped request does not join the
// scope's read, nor the reverse.
func TestScopeInflightNotJoined(t *testing.T) {
	t.Parallel()
	f := startScopedTraced(t, "SCOPES="+testScopes(t), "AWS_LAMBDA_MAX_CONCURRENCY=4")
	f.sm.Inject(smfake.Fault{SecretID: tenantASecret, Latency: 600 * time.Millisecond})
	conn := keyOf(tenantASecret)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	events := [][]byte{scoped(t, "a", conn), unscoped(t, conn), scoped(t, "a", conn), unscoped(t, conn)}
	answers := make([]lambdatest.Answer, len(events))
	errs := make([]error, len(events))
	var wg sync.WaitGroup
	for i, ev := range events {
		wg.Go(func() { answers[i], errs[i] = f.api.Invoke(ctx, lambdatest.Invocation{Payload: ev}) })
		time.Sleep(50 * time.Millisecond)
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
		if i%2 == 0 {
			wantResolved(t, p, `{"k":"`+tenantAValue+`"}`, resolvedKey(tenantASecret))
		} else {
			wantMaskFailures(t, p, http.StatusUnprocessableEntity, failedKey(tenantASecret, "AccessDenied"))
			if strings.Contains(p.Body, tenantAValue) {
				t.Errorf("the unscoped request got the scope's value: %s", p.Body)
			}
		}
	}
	if n := f.sm.SecretReadsBy(roleA, tenantASecret); n != 1 {
		t.Errorf("the scope's role read %d times, want 1 (its two requests share a read)", n)
	}
	if n := f.sm.SecretReadsBy(smfake.DefaultPrincipal, tenantASecret); n < 1 {
		t.Errorf("the unscoped requests made no read of their own")
	}
}
