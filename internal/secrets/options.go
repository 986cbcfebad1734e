package secrets

import (
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Defaults of the store, used when no option says otherwise.
const (
	DefaultTTL          = 5 * time.Minute
	DefaultMaxEntries   = 1000
	DefaultStaleIfError = 15 * time.Minute
	// DefaultNotFoundTTL is how long a SecretNotFound answer is served
	// from memory: long enough that a caller repeating made-up ARNs costs
	// no Secrets Manager calls (and no share of the account's quota),
	// short enough that a secret created just after is soon found.
	DefaultNotFoundTTL = 5 * time.Second
	// DefaultRefreshMinInterval floors a request's max_age: a value read
	// at most this long ago counts as fresh, and a read that failed less
	// than this long ago answers forced requests with its failure, so a
	// flood of max_age 0 costs at most one read per secret per interval,
	// whether the reads succeed or fail.
	DefaultRefreshMinInterval = time.Second
	// ttlJitter is the largest share of the TTL taken off an entry's life, so
	// that secrets read together do not all expire, and refresh, together.
	ttlJitter = 0.1
)

type options struct {
	ttl, staleIfError, notFoundTTL, refreshMin time.Duration
	maxEntries                                 int
	// newClient builds a partition's client for region, signing with
	// creds, or with the aws.Config's own credentials when creds is nil.
	newClient func(region string, creds aws.CredentialsProvider) API
	now       func() time.Time
	logger    *slog.Logger
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

// WithNotFoundTTL sets how long a SecretNotFound answer is remembered; 0
// reads again every time.
func WithNotFoundTTL(d time.Duration) Option { return func(o *options) { o.notFoundTTL = d } }

// WithRefreshMinInterval sets how recent a value must be to count as
// fresh whatever a request's max_age says (see Freshness).
func WithRefreshMinInterval(d time.Duration) Option { return func(o *options) { o.refreshMin = d } }

// WithClients replaces the client factory, called once per partition and
// region with the partition's credentials (nil for the function's own):
// tests use it to count or fake calls; production uses the SDK client
// built from aws.Config.
func WithClients(f func(region string, creds aws.CredentialsProvider) API) Option {
	return func(o *options) { o.newClient = f }
}

// WithLogger sets where the store reports failed reads, stale serves and
// a refused batch action, by ARN and code; never values.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// withClock lets tests move time.
func withClock(now func() time.Time) Option { return func(o *options) { o.now = now } }
