package scopes

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/config"
	"github.com/maskresolver/maskresolver/internal/telemetry"
)

// A Handle is a scope opened for one request: the scope as the document in
// force defines it, and its credentials, shared by every request of the
// scope (of the same role and external id).
type Handle struct {
	scope *config.Scope
	e     *entry
}

// Name is the scope's name.
func (h Handle) Name() string { return h.scope.Name }

// RoleARN is the role the scope's reads are made with.
func (h Handle) RoleARN() string { return h.scope.RoleARN }

// Partition names the scope's partition of whatever is cached on its
// behalf (config.Scope.PartitionKey): never "", and new when the scope's
// role or external id changes.
func (h Handle) Partition() string { return h.scope.PartitionKey() }

// Allows reports whether the scope's secrets patterns admit arn. Check the
// ARN as written and as Secrets Manager answers it; SECRET_ARN_ALLOWLIST
// applies as well, and IsScopesSecret before both.
func (h Handle) Allows(arn string) bool { return h.scope.AllowsSecret(arn) }

// Credentials are the scope's credentials, for the clients that read its
// secrets: sts:AssumeRole of its role, cached (an aws.CredentialsCache)
// and renewed a minute before they expire. A refusal is remembered as
// Ready says; its error is an *Error.
func (h Handle) Credentials() aws.CredentialsProvider { return h.e.creds }

// Ready gets the scope's credentials, from the cache or from one call of
// sts:AssumeRole that concurrent callers share, and waits no longer than
// ctx's deadline. Call it once a request has something to read, before
// its reads. Errors are *Error:
//   - answer.ScopeUnavailable when STS refuses or fails. The refusal is
//     remembered for CACHE_NOT_FOUND_TTL: until then the same error
//     (Remembered set) answers at once, with no call.
//   - answer.Throttled when STS throttles past the STS client's retries, or
//     until ctx ends.
//   - answer.Timeout when ctx ends first otherwise. The call goes on, for
//     the requests after, and its credentials are cached if it succeeds.
//
// The AssumeRole calls a request leads, in Ready or when a read renews
// credentials, are counted in the CallCount that CountCalls put in its
// context (a call shared by concurrent requests counts for the one whose
// context started it), and in Registry.AssumeRoleCalls.
func (h Handle) Ready(ctx context.Context) error {
	_, err := h.e.creds.Retrieve(ctx)
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	// The cache's own error: ctx ended while the call went on.
	e = classify(h.scope.Name, h.scope.RoleARN, err)
	if code := h.e.a.throttledBy.Load(); code != nil && e.Code == answer.Timeout {
		e.Code, e.STSCode = answer.Throttled, *code
	}
	return e
}

// String names the scope and its role. A Handle holds the external id,
// which fmt would print for a verb such as %s of a Handle value without
// it: its methods have value receivers for that reason.
func (h Handle) String() string {
	return "scope " + strconv.Quote(h.scope.Name) + " (role " + h.scope.RoleARN + ")"
}

// LogValue is the handle in a log line: the scope's name and role.
func (h Handle) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", h.scope.Name), slog.String("role_arn", h.scope.RoleARN))
}

// CallCount counts the AssumeRole calls made on behalf of one request.
type CallCount struct{ n atomic.Int64 }

// Load is the number of calls counted.
func (c *CallCount) Load() int { return int(c.n.Load()) }

type callCountKey struct{}

// CountCalls returns ctx carrying c, which then counts the AssumeRole
// calls led with that context (see Handle.Ready).
func CountCalls(ctx context.Context, c *CallCount) context.Context {
	return context.WithValue(ctx, callCountKey{}, c)
}

// entry is the credentials of one scope, for one role and external id.
type entry struct {
	creds *aws.CredentialsCache
	a     *assumer
}

func (r *Registry) newEntry(s *config.Scope) *entry {
	a := &assumer{r: r, scope: s.Name, roleARN: s.RoleARN}
	a.inner = stscreds.NewAssumeRoleProvider(assumeClient{a}, s.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = config.RoleSessionName(r.opts.functionName, s.Name)
		if id := s.ExternalID(); id != "" {
			o.ExternalID = aws.String(id)
		}
		// Set rather than defaulted by Retrieve, which would write it
		// on every call.
		o.Duration = stscreds.DefaultDuration
	})
	return &entry{a: a, creds: aws.NewCredentialsCache(a, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = r.opts.expiryWindow
	})}
}

// assumer is a scope's credentials provider: stscreds' AssumeRole
// provider behind the memory of its last refusal. The cache above it
// calls it once at a time.
type assumer struct {
	r              *Registry
	scope, roleARN string
	inner          *stscreds.AssumeRoleProvider

	// throttledBy is STS's code when the last failed attempt of the call
	// under way was throttled, else nil: a request whose deadline comes
	// while STS throttles is Throttled, not a Timeout.
	throttledBy atomic.Pointer[string]

	mu      sync.Mutex
	refused *Error    // the last refusal, or nil
	until   time.Time // when it is forgotten
}

func (a *assumer) Retrieve(ctx context.Context) (aws.Credentials, error) {
	if e := a.remembered(); e != nil {
		return aws.Credentials{}, e
	}
	c, err := a.inner.Retrieve(ctx)
	if err == nil {
		return c, nil
	}
	e := classify(a.scope, a.roleARN, err)
	if e.Code == answer.ScopeUnavailable && a.r.opts.refusedTTL > 0 {
		a.mu.Lock()
		a.refused, a.until = e, a.r.opts.now().Add(a.r.opts.refusedTTL)
		a.mu.Unlock()
	}
	a.r.opts.logger.WarnContext(ctx, "sts:AssumeRole failed",
		"scope", a.scope, "role_arn", a.roleARN, "code", string(e.Code), "sts_code", e.STSCode)
	return aws.Credentials{}, e
}

// remembered is the refusal to answer with, if one is recent enough.
func (a *assumer) remembered() *Error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.refused == nil || !a.r.opts.now().Before(a.until) {
		return nil
	}
	e := *a.refused
	e.Remembered = true
	return &e
}

// assumeClient is the STS client of one scope's provider: the registry's,
// counted and traced.
type assumeClient struct{ a *assumer }

func (c assumeClient) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	c.a.r.calls.Add(1)
	if n, ok := ctx.Value(callCountKey{}).(*CallCount); ok {
		n.n.Add(1)
	}
	c.a.throttledBy.Store(nil)
	optFns = append(optFns, func(o *sts.Options) {
		if v2, ok := o.Retryer.(aws.RetryerV2); ok {
			o.Retryer = noteThrottles{v2, &c.a.throttledBy}
		}
	})
	ctx, end := telemetry.Start(ctx, "assume role")
	out, err := c.a.r.sts.AssumeRole(ctx, in, optFns...)
	end("scope", c.a.scope, "error_code", apiCode(err))
	return out, err
}

// noteThrottles wraps the STS client's retryer for one call, to note
// whether its last failed attempt was throttled.
type noteThrottles struct {
	aws.RetryerV2
	code *atomic.Pointer[string]
}

func (r noteThrottles) IsErrorRetryable(err error) bool {
	if throttles.IsErrorThrottle(err).Bool() {
		code := apiCode(err)
		r.code.Store(&code)
	} else {
		r.code.Store(nil)
	}
	return r.RetryerV2.IsErrorRetryable(err)
}
