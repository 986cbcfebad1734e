package resolve

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/scopes"
)

// PartitionFunc gives the store of one scope's partition: the secrets read
// with creds under key, apart from every other partition and from the
// function's own (secrets.Store.Partition).
type PartitionFunc func(key string, creds aws.CredentialsProvider) Store

// WithScopes lets requests name the scopes of reg; a scope's reads go to
// the store partition gives for it. Without it, or with a nil reg, a
// request that names a scope is refused (ScopeNotAllowed). Either way a
// mask naming the scopes secret (SCOPES_SECRET_ARN) is SecretNotAllowed.
func WithScopes(reg *scopes.Registry, partition PartitionFunc) Option {
	return func(r *Resolver) { r.scopes, r.partition = reg, partition }
}

// open is the request's scope, or nil when it does not exist or the
// caller may not use it: one answer for both, so names cannot be probed.
func (r *Resolver) open(ctx context.Context, name string, p Params) *scopes.Handle {
	if r.partition == nil {
		return nil
	}
	h, ok := r.scopes.Open(ctx, name, p.Caller, p.Direct)
	if !ok {
		return nil
	}
	return h
}

// allowed reports whether a request may read the secret arn (as written,
// or as Secrets Manager answered): never the scopes secret, in any
// spelling; SECRET_ARN_ALLOWLIST always; then the scope's secrets for a
// scoped request, CALLER_RULES for the others.
func (r *Resolver) allowed(scope *scopes.Handle, p *Params, arn string) bool {
	if r.scopes.IsScopesSecret(arn) {
		return false
	}
	if p.Allowlist != nil && !p.Allowlist(arn) {
		return false
	}
	if scope != nil {
		return scope.Allows(arn)
	}
	return p.CallerRules == nil || p.CallerRules(arn)
}

// notAllowed is the message of a mask whose secret the request may not
// read, as written.
func notAllowed(scope *scopes.Handle) string {
	if scope != nil {
		return "the secret is outside the secrets this scope may resolve (its secrets, SECRET_ARN_ALLOWLIST)"
	}
	return "the secret is outside the secrets this caller may resolve (SECRET_ARN_ALLOWLIST, CALLER_RULES)"
}

// scopeError is the request-level refusal of a scope whose credentials
// are not ready: ScopeUnavailable, Throttled or Timeout, with the text of
// the *scopes.Error, which names the scope, its role and STS's error code,
// never the external id.
func scopeError(err error, scope string, calls int) *RequestError {
	var e *scopes.Error
	if !errors.As(err, &e) {
		// Ready returns no other error; keep its text out all the same.
		return &RequestError{Code: answer.ScopeUnavailable, Scope: scope, AssumeRoleCalls: calls,
			Message: "the scope's credentials are not available"}
	}
	return &RequestError{Code: e.Code, Message: e.Error(), Scope: scope, AssumeRoleCalls: calls}
}
