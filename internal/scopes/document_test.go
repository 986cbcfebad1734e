package scopes_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/config"
	"github.com/maskresolver/maskresolver/internal/scopes"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

const ttl = time.Minute

// fromSecret builds a Registry that reads its scopes from scopesARN.
func (f *fixture) fromSecret(t *testing.T, opts ...scopes.Option) *scopes.Registry {
	t.Helper()
	return f.registry(t, append([]scopes.Option{scopes.WithScopesSecret(scopesARN, f.secrets(nil)), scopes.WithTTL(ttl)}, opts...)...)
}

func (f *fixture) docReads() int { return f.sm.SecretReads(scopesARN) }

// The document is read once at construction, not again within CACHE_TTL,
// and once by the first request after it. A changed role is a new
// partition with credentials of its own.
func TestScopesSecretReadAndReread(t *testing.T) {
	t.Parallel()
	f := start(t)
	f.putDoc(t, doc(map[string]scope{"tenant": {role: roleA, ext: extID}, "gone": {role: roleB}}))
	r := f.fromSecret(t)
	if n := f.docReads(); n != 1 || r.Len() != 2 {
		t.Fatalf("after New: %d reads, %d scopes; want 1, 2", n, r.Len())
	}
	before := open(t, r, "tenant")
	if err := before.Ready(t.Context()); err != nil {
		t.Fatal(err)
	}

	f.putDoc(t, doc(map[string]scope{"tenant": {role: roleB}, "new": {role: roleB}}))
	f.clock.Add(ttl - time.Second)
	if open(t, r, "tenant").RoleARN() != roleA || f.docReads() != 1 {
		t.Fatalf("re-read within CACHE_TTL: %d reads", f.docReads())
	}
	f.clock.Add(time.Second)
	after := open(t, r, "tenant")
	if n := f.docReads(); n != 2 {
		t.Fatalf("%d reads after CACHE_TTL, want 2", n)
	}
	if after.RoleARN() != roleB || after.Partition() == before.Partition() || !strings.HasPrefix(after.Partition(), "tenant/") {
		t.Errorf("after the change: role %s, partition %q (was %q); want roleB in a new partition",
			after.RoleARN(), after.Partition(), before.Partition())
	}
	if err := after.Ready(t.Context()); err != nil {
		t.Fatal(err)
	}
	if calls := f.sm.AssumeRoleCalls(); len(calls) != 2 || calls[1].RoleARN != roleB || calls[1].ExternalID {
		t.Errorf("AssumeRole calls %+v: want a second one, of roleB without an external id", calls)
	}
	if _, ok := r.Open(t.Context(), "gone", caller, false); ok {
		t.Error("a scope the new document drops still opens")
	}
	if _, ok := r.Open(t.Context(), "new", caller, false); !ok {
		t.Error("a scope the new document adds does not open")
	}
	if n := f.docReads(); n != 2 {
		t.Errorf("%d reads, want 2: the new document is good for CACHE_TTL", n)
	}
}

// A re-read that fails, or finds an invalid document, leaves the last
// good one in force, logs the ARN and the code without quoting anything,
// and is tried again 10 s later.
func TestRereadFailureKeepsLastGood(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		break_   func(f *fixture)
		wantCode string
	}{
		{"access denied", func(f *fixture) {
			f.sm.Inject(smfake.Fault{SecretID: scopesARN, Code: "AccessDeniedException", Times: 1})
		}, "AccessDeniedException"},
		{"invalid document", func(f *fixture) {
			f.sm.Put(smfake.Secret{ARN: scopesARN, String: aws.String(`{"tenant": {"role_arn": "` + roleA +
				`", "external-id": "` + extID + `", "callers": ["*"], "secrets": ["*"]}}`)})
		}, "InvalidScopes"},
		{"not JSON", func(f *fixture) {
			f.sm.Put(smfake.Secret{ARN: scopesARN, String: aws.String(`{"tenant": {"external_id": ` + extID)})
		}, "InvalidScopes"},
		{"binary", func(f *fixture) {
			f.sm.Put(smfake.Secret{ARN: scopesARN, Binary: []byte(extID)})
		}, "NoSecretString"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := start(t)
			good := doc(map[string]scope{"tenant": {role: roleA, ext: extID}})
			f.putDoc(t, good)
			r := f.fromSecret(t)
			h := open(t, r, "tenant")
			tt.break_(f)
			f.clock.Add(ttl)
			kept := open(t, r, "tenant")
			if n := f.docReads(); n != 2 {
				t.Fatalf("%d reads, want 2", n)
			}
			if kept.Partition() != h.Partition() || kept.Ready(t.Context()) != nil {
				t.Error("the last good document is not in force")
			}
			log := f.logs.String()
			if !strings.Contains(log, "re-read failed") || !strings.Contains(log, scopesARN) || !strings.Contains(log, `"code":"`+tt.wantCode+`"`) {
				t.Errorf("log %s: want the failure, the ARN and %s", log, tt.wantCode)
			}
			noCanary(t, "the log", log)
			if strings.Contains(log, "role_arn\\\": ") || strings.Contains(log, "{\\\"") {
				t.Errorf("the log quotes the document: %s", log)
			}

			// Tried again 10 s later, not at every request.
			open(t, r, "tenant")
			f.clock.Add(9 * time.Second)
			open(t, r, "tenant")
			if n := f.docReads(); n != 2 {
				t.Errorf("%d reads within 10 s of the failure, want 2", n)
			}
			f.sm.ClearFaults()
			f.putDoc(t, doc(map[string]scope{"tenant": {role: roleB}}))
			f.clock.Add(time.Second)
			if h := open(t, r, "tenant"); h.RoleARN() != roleB || f.docReads() != 3 {
				t.Errorf("10 s after the failure: role %s, %d reads; want the new document", h.RoleARN(), f.docReads())
			}
		})
	}
}

// One re-read at a time: the request that starts it waits for it no
// longer than its deadline, the others do not wait, and the read goes on
// for the requests after.
func TestRereadOneAtATime(t *testing.T) {
	t.Parallel()
	f := start(t)
	f.putDoc(t, doc(map[string]scope{"tenant": {role: roleA, ext: extID}}))
	r := f.fromSecret(t)
	f.putDoc(t, doc(map[string]scope{"tenant": {role: roleB}}))
	f.sm.Inject(smfake.Fault{SecretID: scopesARN, Latency: 700 * time.Millisecond, Times: 1})
	f.clock.Add(ttl)

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	begin := time.Now()
	h, ok := r.Open(ctx, "tenant", caller, false)
	if d := time.Since(begin); !ok || h.RoleARN() != roleA || d > 500*time.Millisecond {
		t.Fatalf("leader: %v after %v; want the document in force by its 100 ms deadline", h, d)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			begin := time.Now()
			h, ok := r.Open(t.Context(), "tenant", caller, false)
			if d := time.Since(begin); !ok || h.RoleARN() != roleA || d > 300*time.Millisecond {
				t.Errorf("concurrent request: %v after %v; want the document in force at once", h, d)
			}
		})
	}
	wg.Wait()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if h := open(t, r, "tenant"); h.RoleARN() == roleB {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the re-read never took effect")
		}
	}
	if n := f.docReads(); n != 2 {
		t.Errorf("%d reads, want 2", n)
	}
}

// A document that cannot be read or is invalid at construction is an
// error naming SCOPES_SECRET_ARN (and the scope), never quoting the
// document or an external id.
func TestScopesSecretInitErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		setup   func(t *testing.T, f *fixture)
		want    []string
		invalid bool // read, but not a valid document
	}{
		{"missing", func(*testing.T, *fixture) {}, []string{"ResourceNotFoundException"}, false},
		{"denied", func(t *testing.T, f *fixture) {
			f.putDoc(t, doc(map[string]scope{"tenant": {role: roleA, ext: extID}}))
			f.sm.Inject(smfake.Fault{SecretID: scopesARN, Code: "AccessDeniedException"})
		}, []string{"AccessDeniedException"}, false},
		{"invalid scope", func(t *testing.T, f *fixture) {
			f.putDoc(t, `{"tenant": {"role_arn": "`+roleA+`", "external_id": "`+extID+` x", "callers": ["*"], "secrets": ["*"]}}`)
		}, []string{`scope "tenant"`, "external_id"}, true},
		{"not JSON", func(t *testing.T, f *fixture) {
			f.putDoc(t, `{"tenant": {"external_id": "`+extID+`"`)
		}, []string{"not valid JSON"}, true},
		{"binary", func(t *testing.T, f *fixture) {
			if _, err := f.sm.Put(smfake.Secret{ARN: scopesARN, Binary: []byte(extID)}); err != nil {
				t.Fatal(err)
			}
		}, []string{"NoSecretString"}, false},
		{"slow", func(t *testing.T, f *fixture) {
			f.putDoc(t, doc(map[string]scope{"tenant": {role: roleA, ext: extID}}))
			f.sm.Inject(smfake.Fault{SecretID: scopesARN, Latency: time.Second})
		}, []string{"Timeout"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := start(t)
			tt.setup(t, f)
			ctx := t.Context()
			if tt.name == "slow" {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 100*time.Millisecond)
				defer cancel()
			}
			_, err := f.newRegistry(ctx, f.sts, scopes.WithScopesSecret(scopesARN, f.secrets(nil)))
			if err == nil {
				t.Fatal("New succeeded")
			}
			msg := err.Error()
			for _, w := range append(tt.want, "SCOPES_SECRET_ARN", scopesARN) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not name %q", msg, w)
				}
			}
			noCanary(t, "the error", msg)
			if errors.Is(err, config.ErrInvalidScopes) != tt.invalid {
				t.Errorf("errors.Is(ErrInvalidScopes) wrong for %q", msg)
			}
		})
	}
}

// The scopes secret is recognised in every spelling of its ARN, and
// nothing else is.
func TestIsScopesSecret(t *testing.T) {
	t.Parallel()
	const (
		full    = scopesARN
		partial = "arn:aws:secretsmanager:us-east-1:123456789012:secret:maskresolver/scopes"
	)
	yes := []string{full, partial, partial + "-Zz9Yy8"}
	no := []string{
		"", "arn:aws:secretsmanager:us-east-1:123456789012:secret:maskresolver/scope",
		partial + "2", partial + "-x", partial + "-Sc0p3", partial + "-Sc0p3s1", partial + "-Sc0p3!", partial + "/x",
		partial + "-Sc0p3s-Sc0p3s",
		"arn:aws:secretsmanager:us-east-2:123456789012:secret:maskresolver/scopes-Sc0p3s",
		"arn:aws:secretsmanager:us-east-1:123456789013:secret:maskresolver/scopes-Sc0p3s",
		"arn:aws-cn:secretsmanager:us-east-1:123456789012:secret:maskresolver/scopes-Sc0p3s",
		tenantSecret,
	}
	for _, configured := range []string{full, partial} {
		f := start(t)
		f.putDoc(t, "{}")
		r := f.registry(t, scopes.WithScopesSecret(configured, f.secrets(nil)))
		for _, arn := range yes {
			if !r.IsScopesSecret(arn) {
				t.Errorf("SCOPES_SECRET_ARN %s: IsScopesSecret(%q) = false", configured, arn)
			}
		}
		for _, arn := range no {
			if r.IsScopesSecret(arn) {
				t.Errorf("SCOPES_SECRET_ARN %s: IsScopesSecret(%q) = true", configured, arn)
			}
		}
	}
	f := start(t)
	inline := f.registry(t, scopes.WithScopes(parse(t, map[string]scope{"a": {role: roleB}})))
	if inline.IsScopesSecret(full) {
		t.Error("without SCOPES_SECRET_ARN, IsScopesSecret is true")
	}
}

// IsScopesSecret runs for every mask of every request: it allocates
// nothing. (Not parallel: AllocsPerRun may not run beside other tests.)
func TestIsScopesSecretAllocatesNothing(t *testing.T) {
	f := start(t)
	f.putDoc(t, "{}")
	r := f.registry(t, scopes.WithScopesSecret(scopesARN, f.secrets(nil)))
	for _, arn := range []string{scopesARN, tenantSecret, scopesARN[:len(scopesARN)-7]} {
		if n := testing.AllocsPerRun(100, func() { r.IsScopesSecret(arn) }); n != 0 {
			t.Errorf("IsScopesSecret(%s) allocates %v times", arn, n)
		}
	}
}
