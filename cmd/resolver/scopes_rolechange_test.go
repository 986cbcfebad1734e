package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/smfake"
)

// TestScopeRoleChangeStartsEmpty: when SCOPES_SECRET_ARN gives a scope
// another role, the scope starts with an empty partition. Its old
// values have expired by the time the new document is read (both live
// CACHE_TTL), so the test tells the partitions apart by stale-if-error:
// with the read under the new role failing transiently, a partition kept
// from the old role would answer its expired value; an empty one answers
// the failure. Then the new role reads the secret itself.
func TestScopeRoleChangeStartsEmpty(t *testing.T) {
	t.Parallel()
	sm, url := newScopeFake(t)
	// tenant A's secret, readable by both roles, so that only the
	// partition decides what the second role's request gets.
	if err := sm.Grant(tenantASecret, roleB); err != nil {
		t.Fatal(err)
	}
	setDoc := func(role, extID string) time.Time {
		t.Helper()
		doc := scopesDoc(t, map[string]scopeSpec{"s": {RoleARN: role, ExternalID: extID, Callers: []string{"*"}, Secrets: tenantPatterns}})
		if _, err := sm.Put(smfake.Secret{ARN: scopesSecretARN, String: aws.String(doc), Readers: []string{smfake.DefaultPrincipal}}); err != nil {
			t.Fatal(err)
		}
		return time.Now()
	}
	setDoc(roleA, extIDA)
	e := startEmulator(t, url, "AWS_ENDPOINT_URL_STS="+url, "SCOPES_SECRET_ARN="+scopesSecretARN,
		"CACHE_TTL=2s", "AWS_MAX_ATTEMPTS=1")
	e.noLeak(tenantAValue, extIDA)
	conn := keyOf(tenantASecret)
	wantResolved(t, e.invokeProxy(t, scoped(t, "s", conn)), `{"k":"`+tenantAValue+`"}`, resolvedKey(tenantASecret))
	if n := readsBy(sm, roleA, tenantASecret); n != 1 {
		t.Fatalf("role A read the secret %d times, want 1", n)
	}

	changed := setDoc(roleB, "")
	sm.Inject(smfake.Fault{SecretID: tenantASecret, Code: "InternalServiceError"})
	time.Sleep(time.Until(changed.Add(2*time.Second + 300*time.Millisecond)))
	wantMaskFailures(t, e.invokeProxy(t, scoped(t, "s", conn)), http.StatusBadGateway, failedKey(tenantASecret, "UpstreamError"))
	if n := readsBy(sm, roleA, tenantASecret); n != 1 {
		t.Errorf("role A read the secret %d times after the change, want still 1", n)
	}

	sm.ClearFaults()
	before := readsBy(sm, roleB, tenantASecret)
	wantResolved(t, e.invokeProxy(t, scoped(t, "s", conn)), `{"k":"`+tenantAValue+`"}`, resolvedKey(tenantASecret))
	if n := readsBy(sm, roleB, tenantASecret) - before; n != 1 {
		t.Errorf("role B read the secret %d times, want 1", n)
	}
	if n := readsBy(sm, roleA, tenantASecret); n != 1 {
		t.Errorf("role A read the secret %d times in all, want 1", n)
	}
}
