package main

// Secrets Manager failing under the binary: the answers, the stale values
// served and refused, and attempts cut off and retried.

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/app"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// TestRIEFaults injects Secrets Manager failures. Each case reads its own
// secret, so that no cached or stale value hides the fault.
func TestRIEFaults(t *testing.T) {
	t.Parallel()
	const timeout = 3 // seconds: the emulator's invocation timeout
	e, sm := startWithFake(t, "AWS_MAX_ATTEMPTS=1", "AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(timeout))

	secret := func(t *testing.T, name string) string {
		t.Helper()
		arn := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:" + name
		value := "fault-value-" + strings.ToLower(name[:len(name)-7])
		if _, err := sm.Put(smfake.Secret{ARN: arn, String: aws.String(`{"k":"` + value + `"}`)}); err != nil {
			t.Fatal(err)
		}
		e.noLeak(value)
		return arn
	}
	for _, tc := range []struct {
		name   string
		fault  smfake.Fault
		status int
		code   string
	}{
		// One fault of each status class; every fault under the real SDK
		// and store is a row of internal/api's TestFaults.
		{"AccessDenied-Ac1De2", smfake.Fault{Code: "AccessDeniedException"}, 422, "AccessDenied"},
		{"Decryption-Dc1Fa2", smfake.Fault{Code: "DecryptionFailure"}, 502, "DecryptionFailure"},
		{"Throttled-Th1Ro2", smfake.Fault{Code: "ThrottlingException"}, 503, "Throttled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arn := secret(t, tc.name)
			f := tc.fault
			f.Op, f.SecretID = "GetSecretValue", arn
			sm.Inject(f)
			p := e.invokeProxy(t, post(t, `{"connection":{"k":"`+mask("k", arn)+`"}}`))
			wantMaskFailures(t, p, tc.status, answer.MaskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Code: tc.code})
			if sm.SecretReads(arn) == 0 {
				t.Errorf("the faulted secret was never read")
			}
		})
	}

	t.Run("highest status wins", func(t *testing.T) {
		arn := secret(t, "Mixed-Mi1Xe2")
		sm.Inject(smfake.Fault{SecretID: arn, Code: "DecryptionFailure"}) // any operation: two cold secrets are one batch
		p := e.invokeProxy(t, post(t, `{"connection":{"a":"`+mask("nope", jiraARN)+`","b":"`+mask("k", arn)+`"}}`))
		wantMaskFailures(t, p, http.StatusBadGateway,
			answer.MaskEntry{Path: "/connection/a", Key: "nope", SecretARN: jiraARN, Code: "KeyNotFound"},
			answer.MaskEntry{Path: "/connection/b", Key: "k", SecretARN: arn, Code: "DecryptionFailure"})
	})

	t.Run("slower than the deadline", func(t *testing.T) {
		arn := secret(t, "Slow-Sl1Ow2")
		sm.Inject(smfake.Fault{Op: "GetSecretValue", SecretID: arn, Latency: 4 * timeout * time.Second})
		start := time.Now()
		p := e.invokeProxy(t, post(t, `{"connection":{"k":"`+mask("k", arn)+`"}}`))
		took := time.Since(start)
		wantMaskFailures(t, p, http.StatusServiceUnavailable, answer.MaskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Code: "Timeout"})
		if took >= timeout*time.Second {
			t.Errorf("the answer took %v, not inside the %d s invocation timeout", took, timeout)
		}
	})

	t.Run("recovers after the fault", func(t *testing.T) {
		arn := secret(t, "Once-On1Ce2")
		sm.Inject(smfake.Fault{Op: "GetSecretValue", SecretID: arn, Code: "InternalServiceError", Times: 1})
		ev := post(t, `{"connection":{"k":"`+mask("k", arn)+`"}}`)
		wantMaskFailures(t, e.invokeProxy(t, ev), http.StatusBadGateway,
			answer.MaskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Code: "UpstreamError"})
		wantResolved(t, e.invokeProxy(t, ev), `{"k":"fault-value-once"}`,
			answer.MaskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Status: "resolved"})
	})
}

// TestRIEAttemptTimeout: a Secrets Manager attempt that hangs is cut off by
// the per-attempt timeout and retried by the standard retryer, inside the
// invocation's deadline, instead of using up the whole request.
func TestRIEAttemptTimeout(t *testing.T) {
	t.Parallel()
	e, sm := startWithFake(t, "AWS_LAMBDA_FUNCTION_TIMEOUT=10")
	arn := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:hang-once-Ha1No2"
	if _, err := sm.Put(smfake.Secret{ARN: arn, String: aws.String(`{"k":"after-retry-value"}`)}); err != nil {
		t.Fatal(err)
	}
	e.noLeak("after-retry-value")
	sm.Inject(smfake.Fault{SecretID: arn, Latency: time.Minute, Times: 1})
	start := time.Now()
	p := e.invokeProxy(t, post(t, `{"connection":{"k":"`+mask("k", arn)+`"}}`))
	took := time.Since(start)
	wantResolved(t, p, `{"k":"after-retry-value"}`,
		answer.MaskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Status: "resolved"})
	if n := sm.SecretReads(arn); n != 2 {
		t.Errorf("the secret was read %d times, want 2 (a cut-off attempt and its retry)", n)
	}
	if took < app.AttemptTimeout || took > 3*app.AttemptTimeout {
		t.Errorf("answered after %v; want one attempt timeout (%v) and a quick retry", took, app.AttemptTimeout)
	}
}

// TestRIEStaleIfError checks CACHE_STALE_IF_ERROR: with every cached value
// expired at once (CACHE_TTL=0s), a refresh that fails transiently serves
// the last value, and one that fails for a reason waiting cannot fix
// does not. Every fault of each kind is a row of internal/secrets'
// TestStoreStaleIfError and TestStoreNoStaleAfterDefinitiveFailure.
func TestRIEStaleIfError(t *testing.T) {
	t.Parallel()
	const timeout = 2 // seconds
	e, sm := startWithFake(t, "CACHE_TTL=0s", "AWS_MAX_ATTEMPTS=1", "AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(timeout))

	n := 0
	warm := func(t *testing.T) (arn string, ev []byte) {
		t.Helper()
		n++
		arn = fmt.Sprintf("arn:aws:secretsmanager:us-east-1:%s:secret:stale-probe-%d-St4lE%d", account, n, n%10)
		value := fmt.Sprintf("stale-value-%d", n)
		if _, err := sm.Put(smfake.Secret{ARN: arn, String: aws.String(`{"k":"` + value + `"}`)}); err != nil {
			t.Fatal(err)
		}
		e.noLeak(value)
		ev = post(t, `{"connection":{"k":"`+mask("k", arn)+`"}}`)
		wantResolved(t, e.invokeProxy(t, ev), `{"k":"`+value+`"}`,
			answer.MaskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Status: "resolved"})
		return arn, ev
	}
	for _, tc := range []struct {
		name  string
		fault smfake.Fault
	}{
		{"throttled", smfake.Fault{Code: "ThrottlingException"}},
		{"timeout", smfake.Fault{Latency: 3 * timeout * time.Second}},
	} {
		t.Run("stale served when "+tc.name, func(t *testing.T) {
			arn, ev := warm(t)
			before := sm.SecretReads(arn)
			f := tc.fault
			f.Op, f.SecretID, f.Times = "GetSecretValue", arn, 1
			sm.Inject(f)
			wantResolved(t, e.invokeProxy(t, ev), fmt.Sprintf(`{"k":"stale-value-%d"}`, n),
				answer.MaskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Status: "resolved"})
			if sm.SecretReads(arn) == before {
				t.Errorf("the expired value was served without trying to refresh it")
			}
		})
	}
	for _, tc := range []struct {
		name, code, want string
		status           int
		remembered       bool // answered from memory for CACHE_NOT_FOUND_TTL
	}{
		{"access denied", "AccessDeniedException", "AccessDenied", 422, false},
		{"not found", "ResourceNotFoundException", "SecretNotFound", 422, true},
	} {
		t.Run("no stale value after "+tc.name, func(t *testing.T) {
			arn, ev := warm(t)
			sm.Inject(smfake.Fault{Op: "GetSecretValue", SecretID: arn, Code: tc.code, Times: 1})
			wantMaskFailures(t, e.invokeProxy(t, ev), tc.status,
				answer.MaskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Code: tc.want})
			// The value the role may no longer read must not come back
			// when the next refresh merely fails transiently.
			sm.Inject(smfake.Fault{Op: "GetSecretValue", SecretID: arn, Code: "InternalServiceError"})
			before := sm.SecretReads(arn)
			if tc.remembered {
				wantMaskFailures(t, e.invokeProxy(t, ev), tc.status,
					answer.MaskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Code: tc.want})
				if sm.SecretReads(arn) != before {
					t.Errorf("a remembered SecretNotFound was read again")
				}
				return
			}
			wantMaskFailures(t, e.invokeProxy(t, ev), http.StatusBadGateway,
				answer.MaskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Code: "UpstreamError"})
		})
	}
}
