package scopes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/maskresolver/maskresolver/internal/config"
	"github.com/maskresolver/maskresolver/internal/mask"
	"github.com/maskresolver/maskresolver/internal/secrets"
)

// AssumeRoleAPI is the part of the STS client a Registry calls (the
// interface of stscreds.AssumeRoleAPIClient). Build the client once from
// the function's aws.Config, so that it signs with the function's role,
// retries as its Secrets Manager clients do and is traced as STS.
type AssumeRoleAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

// SecretsAPI is the part of the Secrets Manager client that reads
// SCOPES_SECRET_ARN: the function's own client, whatever its region (each
// call is sent to the secret's region).
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var (
	_ AssumeRoleAPI = (*sts.Client)(nil)
	_ SecretsAPI    = (*secretsmanager.Client)(nil)
)

const (
	// DefaultMaxScopes bounds the scopes whose credentials are kept. A
	// SecretString holds at most 64 KiB, a scope takes 80 bytes at least,
	// so every scope of any document fits; the bound stops the entries
	// of past roles and external ids, left behind as the document
	// changes, from adding up for the life of the environment.
	DefaultMaxScopes = 1024
	// DefaultExpiryWindow is how long before they expire a scope's
	// credentials are renewed: longer than a request lasts, so that a
	// read never signs with credentials that expire on the way.
	DefaultExpiryWindow = time.Minute
	// documentReadTimeout bounds one read of SCOPES_SECRET_ARN, at init
	// and after: well inside Lambda's 10 s init.
	documentReadTimeout = 5 * time.Second
	// retryAfterFailure is how soon a failed re-read of SCOPES_SECRET_ARN
	// is tried again (at most CACHE_TTL): soon enough that a document
	// that revokes a scope is not held up long by one failure.
	retryAfterFailure = 10 * time.Second
)

type options struct {
	scopes       config.Scopes
	hasScopes    bool
	secretARN    string
	secrets      SecretsAPI
	functionName string
	ttl          time.Duration
	refusedTTL   time.Duration
	maxScopes    int
	expiryWindow time.Duration
	logger       *slog.Logger
	now          func() time.Time
}

// Option configures a Registry.
type Option func(*options)

// WithScopes sets the scopes: the document of SCOPES, parsed by config.
func WithScopes(ss config.Scopes) Option {
	return func(o *options) { o.scopes, o.hasScopes = ss, true }
}

// WithScopesSecret takes the scopes from the SecretString of the secret
// arn (SCOPES_SECRET_ARN), read with client: once by New, and again by the
// first request to Open a scope once WithTTL has passed.
func WithScopesSecret(arn string, client SecretsAPI) Option {
	return func(o *options) { o.secretARN, o.secrets = arn, client }
}

// WithFunctionName sets the function's name (AWS_LAMBDA_FUNCTION_NAME),
// part of each RoleSessionName (see config.RoleSessionName).
func WithFunctionName(name string) Option { return func(o *options) { o.functionName = name } }

// WithTTL sets how long a document read from SCOPES_SECRET_ARN stays in
// force before a request reads it again (CACHE_TTL).
func WithTTL(d time.Duration) Option { return func(o *options) { o.ttl = d } }

// WithRefusedTTL sets how long a refused or failed AssumeRole is
// remembered, and answered without a call (CACHE_NOT_FOUND_TTL); 0 asks
// STS every time.
func WithRefusedTTL(d time.Duration) Option { return func(o *options) { o.refusedTTL = d } }

// WithMaxScopes bounds the scopes whose credentials are kept; the least
// recently opened leave first.
func WithMaxScopes(n int) Option { return func(o *options) { o.maxScopes = n } }

// WithLogger sets where refusals of AssumeRole and failed re-reads of the
// document are reported, by scope, role ARN, secret ARN and error code.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// withClock lets tests move the time that drives the document's TTL and
// the memory of refusals (credentials expire by the SDK's own clock).
func withClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// A Registry holds the scopes of one execution environment and their
// credentials. Build one per environment, outside the invocation path. It
// is safe for concurrent use; its methods are safe on a nil *Registry,
// which has no scopes (Open reports false, IsScopesSecret false).
type Registry struct {
	opts    options
	sts     AssumeRoleAPI
	doc     atomic.Pointer[document]
	calls   atomic.Int64 // AssumeRole calls made
	entries *lru.Cache[string, *entry]
	// entryMu makes finding or adding a scope's entry one step, so that
	// concurrent cold requests share one credentials cache.
	entryMu sync.Mutex
	// secretPrefix is SCOPES_SECRET_ARN up to its name without the random
	// suffix; "" without SCOPES_SECRET_ARN.
	secretPrefix string
	// secretRegion is SCOPES_SECRET_ARN's region, where it is read.
	secretRegion string

	readMu  sync.Mutex
	reading chan struct{} // closed when the re-read under way ends; nil when none
}

// document is the scopes in force and when to read them again.
type document struct {
	scopes config.Scopes
	next   time.Time // zero: never (SCOPES)
}

// New builds a Registry from WithScopes or WithScopesSecret (neither: no
// scopes). With WithScopesSecret it reads the document before returning;
// a failed read or an invalid document is an error that names
// SCOPES_SECRET_ARN, and the scope and reason when the document is
// invalid, but never quotes the document or an external id.
func New(ctx context.Context, client AssumeRoleAPI, opts ...Option) (*Registry, error) {
	o := options{
		ttl:          secrets.DefaultTTL,
		refusedTTL:   secrets.DefaultNotFoundTTL,
		maxScopes:    DefaultMaxScopes,
		expiryWindow: DefaultExpiryWindow,
		logger:       slog.New(slog.DiscardHandler),
		now:          time.Now,
	}
	for _, fn := range opts {
		fn(&o)
	}
	if o.hasScopes && o.secretARN != "" {
		return nil, errors.New("scopes: both SCOPES and SCOPES_SECRET_ARN given")
	}
	if client == nil {
		return nil, errors.New("scopes: no STS client")
	}
	entries, err := lru.New[string, *entry](o.maxScopes)
	if err != nil {
		return nil, fmt.Errorf("scopes: credentials cache of %d scopes: %w", o.maxScopes, err)
	}
	r := &Registry{opts: o, sts: client, entries: entries}
	if o.secretARN == "" {
		r.doc.Store(&document{scopes: o.scopes})
		return r, nil
	}
	a, err := mask.ParseARN(o.secretARN)
	if err != nil {
		return nil, fmt.Errorf("SCOPES_SECRET_ARN: not a secret ARN: %w", err)
	}
	if o.secrets == nil {
		return nil, errors.New("SCOPES_SECRET_ARN: no Secrets Manager client")
	}
	if a.HasSuffix() {
		a.Name = a.Name[:len(a.Name)-len("-XXXXXX")]
	}
	r.secretPrefix, r.secretRegion = a.String(), a.Region
	ss, err := r.readDocument(ctx)
	if err != nil {
		return nil, err
	}
	r.doc.Store(&document{scopes: ss, next: o.now().Add(o.ttl)})
	return r, nil
}

// Len is the number of scopes in force.
func (r *Registry) Len() int {
	if r == nil {
		return 0
	}
	return r.doc.Load().scopes.Len()
}

// AssumeRoleCalls is the number of AssumeRole calls made so far (a call's
// retries not counted).
func (r *Registry) AssumeRoleCalls() int64 {
	if r == nil {
		return 0
	}
	return r.calls.Load()
}

// IsScopesSecret reports whether arn names the secret SCOPES_SECRET_ARN
// names, in any spelling: its full ARN, its partial ARN (without "-" and
// the 6-character suffix), and the full ARN Secrets Manager answers for a
// partial SCOPES_SECRET_ARN. A secret of the same name with another
// suffix counts too: it is that secret, deleted and made again. Such a
// secret must not be resolved by any mask, scoped or not, and this costs
// no call, no allocation, and nothing at all without SCOPES_SECRET_ARN.
func (r *Registry) IsScopesSecret(arn string) bool {
	if r == nil || r.secretPrefix == "" || len(arn) < len(r.secretPrefix) || arn[:len(r.secretPrefix)] != r.secretPrefix {
		return false
	}
	rest := arn[len(r.secretPrefix):]
	return rest == "" || mask.IsSuffix(rest)
}

// Open returns the scope named name for a caller: principalARN is the IAM
// principal of an API Gateway request, direct is true for a direct
// invocation (admitted only by a "*" among the scope's callers). It
// reports false alike for a scope that does not exist and for one the
// caller may not use, so the two cannot be told apart.
//
// Open takes the request's context for the lazy re-read of
// SCOPES_SECRET_ARN: when CACHE_TTL has passed, the first request to Open
// reads the document again and waits for it, but no longer than its
// deadline; meanwhile concurrent requests do not wait and use the
// document in force. A failed or invalid re-read leaves the document in
// force and is logged; it is tried again after 10 s (or CACHE_TTL, if
// shorter).
func (r *Registry) Open(ctx context.Context, name, principalARN string, direct bool) (*Handle, bool) {
	if r == nil {
		return nil, false
	}
	r.refresh(ctx)
	s, ok := r.doc.Load().scopes.Get(name)
	if !ok || !s.AllowsCaller(principalARN, direct) {
		return nil, false
	}
	return &Handle{scope: s, e: r.entry(s)}, true
}

// entry returns the credentials of the scope s, made on first use.
func (r *Registry) entry(s *config.Scope) *entry {
	key := s.PartitionKey()
	r.entryMu.Lock()
	defer r.entryMu.Unlock()
	if e, ok := r.entries.Get(key); ok {
		return e
	}
	e := r.newEntry(s)
	r.entries.Add(key, e)
	return e
}

// refresh re-reads SCOPES_SECRET_ARN when its TTL has passed, as Open
// says.
func (r *Registry) refresh(ctx context.Context) {
	if r.secretPrefix == "" || r.opts.now().Before(r.doc.Load().next) {
		return
	}
	r.readMu.Lock()
	if r.reading != nil || r.opts.now().Before(r.doc.Load().next) {
		r.readMu.Unlock()
		return
	}
	done := make(chan struct{})
	r.reading = done
	r.readMu.Unlock()
	// The read goes on past this request's deadline (up to its own
	// timeout), for the requests after it; the trace context stays.
	go r.reread(context.WithoutCancel(ctx), done)
	select {
	case <-done:
	case <-ctx.Done():
	}
}

func (r *Registry) reread(ctx context.Context, done chan struct{}) {
	ss, err := r.readDocument(ctx)
	now := r.opts.now()
	r.readMu.Lock()
	defer r.readMu.Unlock()
	if err != nil {
		// Keep the document in force, and its scopes' credentials.
		old := *r.doc.Load()
		old.next = now.Add(min(r.opts.ttl, retryAfterFailure))
		r.doc.Store(&old)
		r.opts.logger.WarnContext(ctx, "scopes document re-read failed; the last good one stays in force",
			"secret_arn", r.opts.secretARN, "code", docErrorCode(err), "error", err.Error())
	} else {
		r.doc.Store(&document{scopes: ss, next: now.Add(r.opts.ttl)})
	}
	r.reading = nil
	close(done)
}

// docError is a failed read of SCOPES_SECRET_ARN. Its text holds the ARN
// and Secrets Manager's error code, or config's reason for an invalid
// document (which never quotes it), and nothing of the answer itself.
type docError struct {
	arn string
	// code is Secrets Manager's error code, or one of "Timeout",
	// "NoValidAnswer", "NoSecretString" and "InvalidScopes".
	code string
	err  error // the parse error of an invalid document, or nil
}

func (e *docError) Error() string {
	if e.err != nil {
		return "SCOPES_SECRET_ARN " + e.arn + ": invalid document: " + e.err.Error()
	}
	return "SCOPES_SECRET_ARN " + e.arn + ": read failed: " + e.code
}

func (e *docError) Unwrap() error { return e.err }

func docErrorCode(err error) string {
	var d *docError
	if errors.As(err, &d) {
		return d.code
	}
	return "Unknown"
}

// readDocument reads and parses SCOPES_SECRET_ARN.
func (r *Registry) readDocument(ctx context.Context) (config.Scopes, error) {
	ctx, cancel := context.WithTimeout(ctx, documentReadTimeout)
	defer cancel()
	arn := r.opts.secretARN
	out, err := r.opts.secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)},
		func(o *secretsmanager.Options) { o.Region = r.secretRegion })
	if err != nil {
		code := apiCode(err)
		switch {
		case ctx.Err() != nil:
			code = "Timeout"
		case code == "":
			code = "NoValidAnswer"
		}
		return config.Scopes{}, &docError{arn: arn, code: code}
	}
	if out.SecretString == nil {
		return config.Scopes{}, &docError{arn: arn, code: "NoSecretString"}
	}
	ss, err := config.ParseScopes([]byte(*out.SecretString), "SCOPES_SECRET_ARN")
	if err != nil {
		return config.Scopes{}, &docError{arn: arn, code: "InvalidScopes", err: err}
	}
	return ss, nil
}

// String describes the registry by its number of scopes. It holds
// external ids, which %s would print without it.
func (r *Registry) String() string {
	return "scopes.Registry{" + strconv.Itoa(r.Len()) + " scopes}"
}

// GoString is String: %#v would otherwise walk the registry's clients
// while they are in use.
func (r *Registry) GoString() string { return r.String() }
