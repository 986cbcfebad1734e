package secrets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// API is the part of the Secrets Manager client the store calls.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
}

var _ API = (*secretsmanager.Client)(nil)

// Defaults of the store, used when no option says otherwise.
const (
	DefaultTTL          = 5 * time.Minute
	DefaultMaxEntries   = 1000
	DefaultStaleIfError = 15 * time.Minute
	// ttlJitter is the largest share of the TTL taken off an entry's life, so
	// that secrets read together do not all expire, and refresh, together.
	ttlJitter = 0.1
)

type options struct {
	ttl, staleIfError time.Duration
	maxEntries        int
	newClient         func(region string) API
	now               func() time.Time
	logger            *slog.Logger
}

// Option configures a Store.
type Option func(*options)

// WithTTL sets how long a read secret is served from memory.
func WithTTL(d time.Duration) Option { return func(o *options) { o.ttl = d } }

// WithMaxEntries bounds the cache; the least recently used secrets leave first.
func WithMaxEntries(n int) Option { return func(o *options) { o.maxEntries = n } }

// WithStaleIfError sets how long past expiry a cached value may still be
// served while a refresh fails transiently (throttling, 5xx, timeout).
func WithStaleIfError(d time.Duration) Option { return func(o *options) { o.staleIfError = d } }

// WithClients replaces the per-region client factory (tests use it to count
// or fake calls; production uses the SDK client built from aws.Config).
func WithClients(f func(region string) API) Option { return func(o *options) { o.newClient = f } }

// WithLogger sets where the store reports stale serves; never values.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// withClock lets tests move time.
func withClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Store reads secrets and caches them for the life of the execution
// environment. It is safe for concurrent use.
type Store struct {
	opts    options
	clients sync.Map // region -> API, created on first use
	cache   *lru.Cache[string, *entry]
	group   singleflight.Group
}

type entry struct {
	secret  *Secret
	expires time.Time
}

// New builds a Store. It makes no network call: clients are created per
// region on first use.
func New(cfg aws.Config, opts ...Option) (*Store, error) {
	o := options{
		ttl:          DefaultTTL,
		maxEntries:   DefaultMaxEntries,
		staleIfError: DefaultStaleIfError,
		now:          time.Now,
		logger:       slog.New(slog.DiscardHandler),
	}
	o.newClient = func(region string) API {
		return secretsmanager.NewFromConfig(cfg, func(so *secretsmanager.Options) { so.Region = region })
	}
	for _, fn := range opts {
		fn(&o)
	}
	cache, err := lru.New[string, *entry](o.maxEntries)
	if err != nil {
		return nil, fmt.Errorf("secret cache of %d entries: %w", o.maxEntries, err)
	}
	return &Store{opts: o, cache: cache}, nil
}

// Result is the outcome for one requested ARN: a Secret or an Error.
type Result struct {
	Secret *Secret
	Err    *Error
}

// Stats counts what one Get did, for the request's summary.
type Stats struct {
	Hits, Misses, Stale int
	// Calls is the number of Secrets Manager API calls this Get started;
	// a read shared with a concurrent request counts for the one that led it.
	Calls int
}

// Get returns a Result for each ARN, in order. arns must be unique: the
// caller dedupes, so each secret costs at most one read. Reads run
// concurrently and stop at ctx's deadline; a read still pending then is a
// CodeTimeout error.
func (s *Store) Get(ctx context.Context, arns []string) ([]Result, Stats) {
	results := make([]Result, len(arns))
	var st Stats
	now := s.opts.now()
	var misses []int
	for i, arn := range arns {
		if e, ok := s.cache.Get(arn); ok && now.Before(e.expires) {
			results[i].Secret = e.secret
			st.Hits++
			continue
		}
		misses = append(misses, i)
	}
	st.Misses = len(misses)
	if len(misses) == 0 {
		return results, st
	}
	var calls atomic.Int64
	var wg sync.WaitGroup
	for _, i := range misses {
		wg.Go(func() {
			results[i] = s.read(ctx, arns[i], &calls)
		})
	}
	wg.Wait()
	st.Calls = int(calls.Load())
	for _, i := range misses {
		if results[i].Err == nil || !results[i].Err.Transient {
			continue
		}
		if sec, ok := s.stale(arns[i]); ok {
			s.opts.logger.WarnContext(ctx, "serving stale secret after failed refresh",
				"secret_arn", arns[i], "code", string(results[i].Err.Code), "error", results[i].Err.Err.Error())
			results[i] = Result{Secret: sec}
			st.Stale++
		}
	}
	return results, st
}

// stale returns an expired value still inside the stale-if-error window.
func (s *Store) stale(arn string) (*Secret, bool) {
	e, ok := s.cache.Peek(arn)
	if !ok || !s.opts.now().Before(e.expires.Add(s.opts.staleIfError)) {
		return nil, false
	}
	return e.secret, true
}

// read fetches one secret, sharing the read with concurrent callers. The
// shared read runs under the leader's deadline but not its cancellation, and
// each caller stops waiting at its own deadline; a caller whose deadline is
// later than the leader's is not failed by it but reads again.
func (s *Store) read(ctx context.Context, arn string, calls *atomic.Int64) Result {
	r := s.wait(ctx, arn, s.flight(ctx, arn, calls))
	if r.Err != nil && r.Err.Code == CodeTimeout && errors.Is(r.Err.Err, context.DeadlineExceeded) && !expired(ctx) {
		// Another caller's deadline ended the read we joined, and ours has
		// not passed: read again on our own time, once.
		r = s.wait(ctx, arn, s.flight(ctx, arn, calls))
	}
	return r
}

// expired reports whether ctx is done or its deadline has passed.
func expired(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ctx.Err() != nil || (ok && !time.Now().Before(dl))
}

func (s *Store) flight(ctx context.Context, arn string, calls *atomic.Int64) <-chan singleflight.Result {
	return s.group.DoChan(arn, func() (any, error) {
		// A read that finished between the caller's cache miss and this
		// flight has already filled the cache: do not read again.
		if e, ok := s.cache.Peek(arn); ok && s.opts.now().Before(e.expires) {
			return e.secret, nil
		}
		readCtx := context.WithoutCancel(ctx)
		if dl, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			readCtx, cancel = context.WithDeadline(readCtx, dl)
			defer cancel()
		}
		return s.fetch(readCtx, arn, calls)
	})
}

func (s *Store) wait(ctx context.Context, arn string, ch <-chan singleflight.Result) Result {
	select {
	case r := <-ch:
		if r.Err != nil {
			var e *Error
			if !errors.As(r.Err, &e) {
				e = classify(arn, r.Err)
			}
			return Result{Err: e}
		}
		return Result{Secret: r.Val.(*Secret)}
	case <-ctx.Done():
		return Result{Err: &Error{Code: CodeTimeout, ARN: arn, Err: ctx.Err(), Transient: true}}
	}
}

// fetch reads the AWSCURRENT version of one secret and caches it.
func (s *Store) fetch(ctx context.Context, arn string, calls *atomic.Int64) (*Secret, error) {
	client := s.client(regionOf(arn))
	calls.Add(1)
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId:     aws.String(arn),
		VersionStage: aws.String("AWSCURRENT"),
	})
	if err != nil {
		e := classify(arn, err)
		var invalid *types.InvalidRequestException
		if errors.As(err, &invalid) {
			// Secrets Manager refuses to read a secret scheduled for
			// deletion with InvalidRequestException; DescribeSecret's
			// DeletedDate says whether that is why.
			calls.Add(1)
			if d, derr := client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)}); derr == nil && d.DeletedDate != nil {
				e.Code = CodeNotFound
			}
		}
		if !e.Transient {
			// Secrets Manager has answered that the secret is gone, denied
			// or unreadable: its old value may no longer stand in for it.
			s.cache.Remove(arn)
		}
		return nil, e
	}
	var sec *Secret
	switch {
	case out.SecretString != nil:
		sec = NewSecret(aws.ToString(out.ARN), *out.SecretString)
	default:
		sec = &Secret{ARN: aws.ToString(out.ARN), Kind: Binary}
	}
	s.cache.Add(arn, &entry{secret: sec, expires: s.opts.now().Add(s.jitteredTTL())})
	return sec, nil
}

func (s *Store) jitteredTTL() time.Duration {
	ttl := s.opts.ttl
	return ttl - time.Duration(rand.Float64()*ttlJitter*float64(ttl))
}

func (s *Store) client(region string) API {
	if c, ok := s.clients.Load(region); ok {
		return c.(API)
	}
	c, _ := s.clients.LoadOrStore(region, s.opts.newClient(region))
	return c.(API)
}

// regionOf takes the region field of arn:partition:service:region:...
func regionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}
