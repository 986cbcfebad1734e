package resolve_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/config"
	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/scopes"
	"github.com/maskresolver/maskresolver/internal/secrets"
)

// "scope" is a string, once; anything else refuses the request as a whole.
func TestScopeMember(t *testing.T) {
	t.Parallel()
	f := newScopeFixture(t)
	for _, tc := range []struct {
		name, body string
		code       answer.Code
		message    string // a part of the message, "" for any
	}{
		{"null", `{"scope":null,"connection":{}}`, answer.InvalidRequest, `"scope" must be a string`},
		{"number", `{"scope":1,"connection":{}}`, answer.InvalidRequest, `"scope" must be a string`},
		{"boolean", `{"connection":{},"scope":true}`, answer.InvalidRequest, `"scope" must be a string`},
		{"object", `{"connection":{},"scope":{"name":"tenant-a"}}`, answer.InvalidRequest, `"scope" must be a string`},
		{"array", `{"connection":{},"scope":["tenant-a"]}`, answer.InvalidRequest, `"scope" must be a string`},
		{"duplicate", `{"scope":"tenant-a","connection":{},"scope":"tenant-a"}`, answer.InvalidRequest, `duplicate member "scope"`},
		{"bad string", `{"scope":"tenant-a` + "\x01" + `","connection":{}}`, answer.InvalidRequest, ""},
		{"unknown member names scope", `{"connection":{},"scopes":"tenant-a"}`, answer.InvalidRequest, `"max_age" and "scope"`},
		{"escaped name", `{"scope":"tenant\u002da","connection":{}}`, "", ""},
		{"empty connection, open scope", `{"scope":"tenant-a","connection":{}}`, "", ""},
	} {
		_, err := f.r.Resolve(context.Background(), []byte(tc.body), resolve.Params{Caller: ciCaller})
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		re, ok := err.(*resolve.RequestError)
		if !ok || re.Code != tc.code || !strings.Contains(re.Message, tc.message) {
			t.Errorf("%s: err = %v, want %s with %q", tc.name, err, tc.code, tc.message)
		}
	}
	if n := f.sts.count(); n != 0 {
		t.Errorf("%d AssumeRole calls for requests that read nothing", n)
	}
}

// A scope the caller may not use and a scope that does not exist get the
// very same answer, decided before the limits on masks and before any
// call; the scope "*" admits direct invocations and only those.
func TestScopeNotAllowed(t *testing.T) {
	t.Parallel()
	tooMany := `["` + m("token", tenantARN) + `","` + m("token", tenantARN) + `","` + m("token", tenantARN) + `"]`
	secretsLimit := `["` + m("token", tenantARN) + `","` + m("token", tenantARN+"x") + `","` + m("token", tenantARN+"y") + `"]`
	one := `"` + m("token", tenantARN) + `"`
	for _, tc := range []struct {
		name string
		body []byte
		p    resolve.Params
		code answer.Code
	}{
		{"unknown scope", scoped("tenant-z", one), resolve.Params{Caller: ciCaller}, answer.ScopeNotAllowed},
		{"closed scope", scoped("tenant-a", one), resolve.Params{Caller: otherCaller}, answer.ScopeNotAllowed},
		{"direct, scope without *", scoped("tenant-a", one), resolve.Params{Direct: true}, answer.ScopeNotAllowed},
		{"no caller over API Gateway", scoped("tenant-a", one), resolve.Params{}, answer.ScopeNotAllowed},
		{"closed scope, too many masks", scoped("tenant-a", tooMany), resolve.Params{Caller: otherCaller}, answer.ScopeNotAllowed},
		{"closed scope after too many masks", []byte(`{"connection":` + tooMany + `,"scope":"tenant-a"}`), resolve.Params{Caller: otherCaller}, answer.ScopeNotAllowed},
		{"closed scope, too many secrets", scoped("tenant-a", secretsLimit), resolve.Params{Caller: otherCaller}, answer.ScopeNotAllowed},
		{"open scope, too many masks", scoped("tenant-a", tooMany), resolve.Params{Caller: ciCaller}, answer.TooManyMasks},
		{"open scope after too many masks", []byte(`{"connection":` + tooMany + `,"scope":"tenant-a"}`), resolve.Params{Caller: ciCaller}, answer.TooManyMasks},
		{"closed scope after too many masks, then bad JSON", []byte(`{"connection":` + tooMany + `,"scope":"tenant-a",}`), resolve.Params{Caller: otherCaller}, answer.TooManyMasks},
		{"open scope, too many secrets", scoped("tenant-a", secretsLimit), resolve.Params{Caller: ciCaller}, answer.TooManyMasks},
		{"direct, scope with *", scoped("direct", one), resolve.Params{Direct: true}, ""},
		{"caller, scope with * only", scoped("direct", one), resolve.Params{Caller: ciCaller}, ""},
	} {
		f := newScopeFixture(t, resolve.WithMaxMasks(2), resolve.WithMaxSecrets(2))
		_, err := f.r.Resolve(context.Background(), tc.body, tc.p)
		var code answer.Code
		if re, ok := err.(*resolve.RequestError); ok {
			code = re.Code
		} else if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if code != tc.code {
			t.Errorf("%s: code %q, want %q (%v)", tc.name, code, tc.code, err)
		}
		if tc.code != "" && (f.sts.count() != 0 || len(f.parts.asked()) != 0 || len(f.own.asked) != 0) {
			t.Errorf("%s: refused after %d AssumeRole calls and reads %q %q", tc.name, f.sts.count(), f.parts.asked(), f.own.asked)
		}
	}

	// Unknown and closed: the same code and message, the asked name echoed.
	ss, err := config.ParseScopes([]byte(`{"tenant-b": {"role_arn": "`+roleA+`", "callers": ["*"], "secrets": ["*"]}}`), "SCOPES")
	if err != nil {
		t.Fatal(err)
	}
	without, err := scopes.New(context.Background(), &fakeSTS{}, scopes.WithScopes(ss))
	if err != nil {
		t.Fatal(err)
	}
	parts := &partitions{parts: map[string]*memStore{}, creds: map[string]aws.CredentialsProvider{}}
	_, unknown := resolve.New(newMemStore(), resolve.WithScopes(without, parts.get)).Resolve(context.Background(), scoped("tenant-a", one), resolve.Params{Caller: ciCaller})
	_, closed := newScopeFixture(t).r.Resolve(context.Background(), scoped("tenant-a", one), resolve.Params{Caller: otherCaller})
	u, c := unknown.(*resolve.RequestError), closed.(*resolve.RequestError)
	if *u != *c || u.Code != answer.ScopeNotAllowed || u.Message != `the scope "tenant-a" is not open to this caller` || u.Scope != "tenant-a" {
		t.Errorf("answers differ or are not as meant:\n%+v\n%+v", u, c)
	}

	// Without scopes, every scope is refused.
	for _, r := range []*resolve.Resolver{resolve.New(newMemStore()), resolve.New(newMemStore(), resolve.WithScopes(nil, nil))} {
		_, err := r.Resolve(context.Background(), scoped("tenant-a", one), resolve.Params{Caller: ciCaller})
		if re, ok := err.(*resolve.RequestError); !ok || re.Code != answer.ScopeNotAllowed {
			t.Errorf("no scopes: %v", err)
		}
	}
}

// Each mask of a scoped request must be in its scope's secrets and in
// SECRET_ARN_ALLOWLIST, as written and as answered; CALLER_RULES do not
// apply. The scopes secret is never read, scoped or not, in any spelling.
func TestScopeAllowsSecrets(t *testing.T) {
	t.Parallel()
	const (
		outside = "arn:aws:secretsmanager:us-east-1:210987654321:secret:tenant-b/api-AbCdEf"
		// tricky is inside tenant-a's patterns as written, but answered
		// as a secret outside them.
		tricky = "arn:aws:secretsmanager:us-east-1:210987654321:secret:tenant-a/x"
		// alias is answered as the scopes secret.
		alias = "arn:aws:secretsmanager:us-east-1:123456789012:secret:other-name"
	)
	refuseAll := func(string) bool { return false }
	allowAll := func(string) bool { return true }
	noTenantA := func(arn string) bool { return !strings.Contains(arn, "tenant-a/") }
	for _, tc := range []struct {
		name       string
		scope      string // "" for none
		arn        string
		allowlist  resolve.Allow
		rules      resolve.Allow
		want       answer.Code // "" for resolved
		noRead     bool        // the ARN is not read at all
		wantValues string      // a part of the answer when resolved
	}{
		{"in scope", "tenant-a", tenantARN, nil, nil, "", false, "tenant-a-value"},
		{"in scope and allowlist", "tenant-a", tenantARN, allowAll, nil, "", false, "tenant-a-value"},
		{"caller rules ignored in scope", "tenant-a", tenantARN, nil, refuseAll, "", false, "tenant-a-value"},
		{"outside the scope's secrets", "tenant-a", outside, nil, allowAll, answer.SecretNotAllowed, true, ""},
		{"in scope, outside the allowlist", "tenant-a", tenantARN, noTenantA, allowAll, answer.SecretNotAllowed, true, ""},
		{"answered outside the scope", "tenant-a", tricky, nil, nil, answer.SecretNotAllowed, false, ""},
		{"unscoped, caller rules apply", "", jiraARN, nil, refuseAll, answer.SecretNotAllowed, true, ""},
		{"unscoped, allowlist applies", "", jiraARN, refuseAll, allowAll, answer.SecretNotAllowed, true, ""},
		{"scopes secret, unscoped", "", scopesARN, nil, nil, answer.SecretNotAllowed, true, ""},
		{"scopes secret partial, unscoped", "", scopesPartial, nil, nil, answer.SecretNotAllowed, true, ""},
		{"scopes secret other suffix, unscoped", "", scopesPartial + "-Zz9Yy8", nil, nil, answer.SecretNotAllowed, true, ""},
		{"scopes secret answered, unscoped", "", alias, nil, nil, answer.SecretNotAllowed, false, ""},
		{"scopes secret, wide scope", "wide", scopesARN, allowAll, nil, answer.SecretNotAllowed, true, ""},
		{"scopes secret partial, wide scope", "wide", scopesPartial, nil, nil, answer.SecretNotAllowed, true, ""},
		{"scopes secret answered, wide scope", "wide", alias, nil, nil, answer.SecretNotAllowed, false, ""},
	} {
		f := newScopeFixture(t)
		// Every partition, the function's own too, answers for tricky,
		// alias and the scopes secret, as Secrets Manager would.
		f.parts.extra = map[string]*secrets.Secret{
			tricky:        secrets.NewSecret(outside, `{"token":"tenant-b-value"}`),
			alias:         secrets.NewSecret(scopesARN, `{"token":"scopes-doc"}`),
			scopesARN:     secrets.NewSecret(scopesARN, `{"token":"scopes-doc"}`),
			scopesPartial: secrets.NewSecret(scopesARN, `{"token":"scopes-doc"}`),
		}
		maps.Copy(f.own.secrets, f.parts.extra)
		f.own.secrets[jiraARN] = secrets.NewSecret(jiraARN, `{"token":"jira-value"}`)
		body := []byte(`{"connection":"` + m("token", tc.arn) + `"}`)
		if tc.scope != "" {
			body = scoped(tc.scope, `"`+m("token", tc.arn)+`"`)
		}
		res, err := f.r.Resolve(context.Background(), body, resolve.Params{Caller: ciCaller, Allowlist: tc.allowlist, CallerRules: tc.rules})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		out := string(res.AppendJSON(nil))
		switch {
		case tc.want == "" && (res.Failed != 0 || !strings.Contains(out, tc.wantValues)):
			t.Errorf("%s: not resolved: %s", tc.name, out)
		case tc.want != "" && (res.Failed != 1 || res.Masks[0].Code != tc.want):
			t.Errorf("%s: %s, want %s", tc.name, out, tc.want)
		}
		if strings.Contains(out, "scopes-doc") || strings.Contains(out, "tenant-b-value") {
			t.Errorf("%s: a refused secret's value reached the answer: %s", tc.name, out)
		}
		asked := append(f.parts.asked(), slices.Concat(f.own.asked...)...)
		if tc.noRead && slices.Contains(asked, tc.arn) {
			t.Errorf("%s: %s was read", tc.name, tc.arn)
		}
		if tc.noRead && tc.scope != "" && f.sts.count() != 0 {
			t.Errorf("%s: AssumeRole called with nothing to read", tc.name)
		}
	}
}

// A scoped request reads with its scope's credentials in its scope's
// partition, after one AssumeRole (counted for the request that made
// it); an unscoped request reads in the function's own. Nothing is
// assumed for a request that has nothing to read.
func TestScopeReadsInItsPartition(t *testing.T) {
	t.Parallel()
	f := newScopeFixture(t)
	ctx := context.Background()
	body := scoped("tenant-a", `"`+m("token", tenantARN)+`"`)
	for i, wantCalls := range []int{1, 0} {
		res, err := f.r.Resolve(ctx, body, resolve.Params{Caller: ciCaller})
		if err != nil {
			t.Fatal(err)
		}
		if out := string(res.AppendJSON(nil)); res.Failed != 0 || !strings.Contains(out, "tenant-a-value") {
			t.Fatalf("request %d: %s", i, out)
		}
		if res.Scope != "tenant-a" || res.AssumeRoleCalls != wantCalls {
			t.Errorf("request %d: scope %q, %d AssumeRole calls, want %d", i, res.Scope, res.AssumeRoleCalls, wantCalls)
		}
	}
	if len(f.parts.parts) != 1 || len(f.own.asked) != 0 {
		t.Fatalf("partitions %d, unscoped reads %q", len(f.parts.parts), f.own.asked)
	}
	h, _ := f.reg.Open(ctx, "tenant-a", ciCaller, false)
	if f.parts.parts[h.Partition()] == nil || f.parts.creds[h.Partition()] != h.Credentials() {
		t.Errorf("read outside the scope's partition or credentials: %v", f.parts.creds)
	}
	if in := f.sts.calls[0]; *in.RoleArn != roleA || *in.ExternalId != extCanary || !strings.Contains(*in.RoleSessionName, "tenant-a") {
		t.Errorf("AssumeRole input %+v", in)
	}

	// The same ARN unscoped goes to the function's own store, which does
	// not have it.
	res, err := f.r.Resolve(ctx, []byte(`{"connection":"`+m("token", tenantARN)+`"}`), resolve.Params{Caller: ciCaller})
	if err == nil && res.Failed == 0 {
		t.Fatalf("unscoped request got tenant-a's value: %s", res.AppendJSON(nil))
	}
	if err != nil || len(f.own.asked) != 1 || res.Scope != "" || res.AssumeRoleCalls != 0 {
		t.Errorf("unscoped: err %v, own reads %q, result %+v", err, f.own.asked, res)
	}

	// Nothing to read: no AssumeRole, even for a scope that would fail.
	g := newScopeFixture(t)
	for _, conn := range []string{`{}`, `"` + m("token", "arn:aws:secretsmanager:us-east-1:1:secret:x") + `"`} {
		if _, err := g.r.Resolve(ctx, scoped("denied", conn), resolve.Params{Caller: ciCaller}); err != nil {
			t.Errorf("%s: %v", conn, err)
		}
	}
	if n := g.sts.count(); n != 0 {
		t.Errorf("%d AssumeRole calls with nothing to read", n)
	}
}

// A scope whose credentials cannot be had refuses the request as a whole,
// before any read, with a message that names the role and STS's code and
// never the external id.
func TestScopeUnavailable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		scope   string
		timeout time.Duration
		code    answer.Code
		message string
	}{
		{"denied", time.Second, answer.ScopeUnavailable, "sts:AssumeRole of " + roleDenied + " failed: STS answered AccessDenied"},
		{"throttled", time.Second, answer.Throttled, "STS throttled sts:AssumeRole of " + roleThrottl},
		{"slow", 50 * time.Millisecond, answer.Timeout, "the deadline passed while assuming " + roleSlow},
	} {
		f := newScopeFixture(t)
		ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
		_, err := f.r.Resolve(ctx, scoped(tc.scope, `"`+m("token", tenantARN)+`"`), resolve.Params{Caller: ciCaller})
		cancel()
		re, ok := err.(*resolve.RequestError)
		if !ok || re.Code != tc.code || !strings.Contains(re.Message, tc.message) || re.Scope != tc.scope || re.AssumeRoleCalls != 1 {
			t.Errorf("%s: %#v, want %s with %q", tc.scope, err, tc.code, tc.message)
			continue
		}
		noCanary(t, tc.scope, re.Error())
		if len(f.parts.asked()) != 0 || len(f.own.asked) != 0 {
			t.Errorf("%s: read despite the scope: %q %q", tc.scope, f.parts.asked(), f.own.asked)
		}
	}
}
