package secrets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/telemetry"
)

// API is the part of the Secrets Manager client the store calls.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	BatchGetSecretValue(ctx context.Context, in *secretsmanager.BatchGetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.BatchGetSecretValueOutput, error)
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
}

var _ API = (*secretsmanager.Client)(nil)

// Store reads secrets and caches them for the life of the execution
// environment. It is safe for concurrent use.
//
// Its state is split into partitions (see Partition): Get reads in the
// function's own, with the credentials of the aws.Config it was built
// from. Every per-secret state below, and every client, is keyed by its
// partition's key (View.key); the bounds are the store's, shared by all
// partitions.
type Store struct {
	opts options
	// own is the function's own partition, whose keys are the bare ARNs
	// and regions.
	own View
	// views holds the scoped partitions by the caller's key (see
	// Partition).
	views *lru.Cache[string, *View]
	// clients holds a client per partition and region, created on first
	// use; bounded, since every region a request names would otherwise
	// cost one for good.
	clients *lru.Cache[string, API]
	cache   *lru.Cache[string, *entry]
	// notFound remembers when Secrets Manager said a secret does not
	// exist. It is apart from cache so that made-up ARNs, which cost a
	// caller nothing to invent, cannot push real secrets out.
	notFound *lru.Cache[string, time.Time]
	// failures remembers each secret's last failed read, for requests
	// with a max_age (see Freshness); apart from cache for the same
	// reason as notFound.
	failures *lru.Cache[string, failure]

	mu       sync.Mutex
	inflight map[string]*call // reads under way, shared by concurrent requests
}

type entry struct {
	secret  *Secret
	read    time.Time // when Secrets Manager answered with it
	expires time.Time
}

// failure is a read that failed, and when it ended.
type failure struct {
	err *Error
	at  time.Time
}

// Freshness is how recent a request wants its values. The zero value
// takes any value within CACHE_TTL.
type Freshness struct {
	// MaxAge, when Bounded, is the oldest a value served from memory may
	// be; older values are read again. The store's refresh interval
	// floors it, and CACHE_TTL still applies. Within that interval after
	// a secret's read failed, a Bounded request that would read it again
	// gets that failure instead, without a call: a flood of max_age 0
	// costs one read per secret per interval when Secrets Manager fails
	// too.
	MaxAge  time.Duration
	Bounded bool
}

// fresh reports whether a value read at read may answer a request with
// freshness f at now.
func (s *Store) fresh(f Freshness, read, now time.Time) bool {
	return !f.Bounded || now.Sub(read) <= max(f.MaxAge, s.opts.refreshMin)
}

// New builds a Store. It makes no network call: clients are created per
// region on first use.
func New(cfg aws.Config, opts ...Option) (*Store, error) {
	o := options{
		ttl:          DefaultTTL,
		maxEntries:   DefaultMaxEntries,
		staleIfError: DefaultStaleIfError,
		notFoundTTL:  DefaultNotFoundTTL,
		refreshMin:   DefaultRefreshMinInterval,
		now:          time.Now,
		logger:       slog.New(slog.DiscardHandler),
	}
	o.newClient = func(region string, creds aws.CredentialsProvider) API {
		return secretsmanager.NewFromConfig(cfg, func(so *secretsmanager.Options) {
			so.Region = region
			if creds != nil {
				so.Credentials = creds
			}
			if cfg.Retryer == nil {
				so.Retryer = NewRetryer(so.RetryMode)
			}
			so.Retryer = retryTruncated{so.Retryer}
		})
	}
	for _, fn := range opts {
		fn(&o)
	}
	cache, err := lru.New[string, *entry](o.maxEntries)
	if err != nil {
		return nil, fmt.Errorf("secret cache of %d entries: %w", o.maxEntries, err)
	}
	// Sized apart from the cache: a small CACHE_MAX_ENTRIES should not let
	// a caller cycling through made-up ARNs defeat it so easily.
	notFound, err := lru.New[string, time.Time](max(o.maxEntries, DefaultMaxEntries))
	if err != nil {
		return nil, fmt.Errorf("not-found cache: %w", err)
	}
	failures, err := lru.New[string, failure](max(o.maxEntries, DefaultMaxEntries))
	if err != nil {
		return nil, fmt.Errorf("failed-read cache: %w", err)
	}
	clients, err := lru.New[string, API](maxClients)
	if err != nil {
		return nil, fmt.Errorf("client cache of %d regions: %w", maxClients, err)
	}
	views, err := lru.New[string, *View](maxPartitions)
	if err != nil {
		return nil, fmt.Errorf("partitions: %w", err)
	}
	s := &Store{opts: o, cache: cache, notFound: notFound, failures: failures, clients: clients, views: views, inflight: map[string]*call{}}
	s.own.s = s
	return s, nil
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
	// Throttles counts throttled answers that the reads absorbed, by
	// retrying or by moving a throttled batch's secrets to GetSecretValue:
	// quota pressure the caller did not see as an error.
	Throttles int
	// Forced counts misses of values that were cached but older than the
	// request's max_age.
	Forced int
}

// Get returns a Result for each ARN, in order. arns must be unique: the
// caller dedupes, so each secret costs at most one read. The misses of one
// call are read together — BatchGetSecretValue for several secrets of a
// region, GetSecretValue for one — and a miss already being read for a
// concurrent request joins that read. Reads stop at ctx's deadline; a read
// still pending then is a answer.Timeout error.
//
// f bounds the age of values served from memory; a read forced by it that
// fails is never answered with the older value, and answers f's requests
// for the refresh interval (see Freshness).
//
// Get reads in the function's own partition, with the aws.Config's
// credentials; Partition gives the others.
func (s *Store) Get(ctx context.Context, arns []string, f Freshness) ([]Result, Stats) {
	return s.own.Get(ctx, arns, f)
}

// Get is Store.Get within v's partition: it is served only what v's
// partition read, remembered or is reading, and reads with v's
// credentials.
func (v *View) Get(ctx context.Context, arns []string, f Freshness) ([]Result, Stats) {
	s := v.s
	keys := v.keys(arns)
	results := make([]Result, len(arns))
	var st Stats
	_, endLookup := telemetry.Start(ctx, "cache lookup")
	now := s.opts.now()
	var misses []int
	for i, arn := range arns {
		e, cached := s.cache.Get(keys[i])
		cached = cached && now.Before(e.expires)
		if cached && s.fresh(f, e.read, now) {
			results[i].Secret = e.secret
			st.Hits++
			continue
		}
		if err, ok := s.remembered(keys[i], arn, f, now, true); ok {
			results[i].Err = err
			st.Hits++
			continue
		}
		if cached {
			st.Forced++
		}
		misses = append(misses, i)
	}
	st.Misses = len(misses)
	endLookup("cache_hits", st.Hits, "cache_misses", st.Misses)
	if len(misses) == 0 {
		s.standIn(ctx, arns, keys, results, f, &st)
		return results, st
	}
	fetchCtx, endFetch := telemetry.Start(ctx, "fetch")
	defer func() {
		endFetch("secrets", len(misses), "calls", st.Calls, "throttles_absorbed", st.Throttles, "stale_served", st.Stale)
	}()
	ctx = fetchCtx
	var n counters
	joined := v.await(ctx, arns, keys, misses, results, f, true, &n)

	// A read joined from another request ran under that request's
	// deadline. If it ran out but ours has not, read again on our time,
	// once, whatever failure that read left behind.
	var again []int
	for _, i := range joined {
		if e := results[i].Err; e != nil && e.Code == answer.Timeout && errors.Is(e.Err, context.DeadlineExceeded) && !expired(ctx) {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		v.await(ctx, arns, keys, again, results, f, false, &n)
	}
	st.Calls, st.Throttles = int(n.calls.Load()), int(n.throttles.Load())
	s.standIn(ctx, arns, keys, results, f, &st)
	return results, st
}

// standIn replaces each transient failure among results, read now or
// remembered, with the cached value under the same key that may stand in
// for it (see fallback).
func (s *Store) standIn(ctx context.Context, arns, keys []string, results []Result, f Freshness, st *Stats) {
	for i := range results {
		if results[i].Err == nil || !results[i].Err.Transient {
			continue
		}
		sec, expired, ok := s.fallback(keys[i], f)
		if !ok {
			continue
		}
		failed := results[i].Err
		results[i] = Result{Secret: sec}
		if !expired {
			// A concurrent read filled the cache after this one failed:
			// the value is current, not stale.
			continue
		}
		s.opts.logger.WarnContext(ctx, "serving stale secret after failed refresh",
			"secret_arn", arns[i], "code", string(failed.Code), "error", failed.Err.Error())
		st.Stale++
	}
}

// remembered answers from memory for the secret arn, kept under key, that
// is not cached fresh enough for f: one Secrets Manager said, less than
// notFoundTTL ago (and fresh enough for f), does not exist; or, when f is
// Bounded and replay says so, one whose last read failed less than
// refreshMin ago, with that read's failure.
func (s *Store) remembered(key, arn string, f Freshness, now time.Time, replay bool) (*Error, bool) {
	if read, ok := s.notFound.Get(key); ok && now.Before(read.Add(s.opts.notFoundTTL)) && s.fresh(f, read, now) {
		return &Error{Code: answer.SecretNotFound, ARN: arn, Err: errors.New("remembered: ResourceNotFound within CACHE_NOT_FOUND_TTL")}, true
	}
	if !replay || !f.Bounded {
		return nil, false
	}
	last, ok := s.failures.Get(key)
	if !ok || now.Sub(last.at) >= s.opts.refreshMin {
		return nil, false
	}
	e := *last.err
	e.ARN = arn
	e.Err = fmt.Errorf("remembered within REFRESH_MIN_INTERVAL: %w", last.err.Err)
	return &e, true
}

// fallback returns the value cached under key that may stand in for a
// read that failed transiently: one still inside the stale-if-error window, and
// never one older than the request's max_age accepts (a forced read that
// fails is not answered with the value it was meant to replace). expired
// says whether it is past its TTL (else a concurrent read has refreshed
// it meanwhile).
func (s *Store) fallback(key string, f Freshness) (sec *Secret, expired, ok bool) {
	e, ok := s.cache.Peek(key)
	now := s.opts.now()
	if !ok || !now.Before(e.expires.Add(s.opts.staleIfError)) || !s.fresh(f, e.read, now) {
		return nil, false, false
	}
	return e.secret, !now.Before(e.expires), true
}

// expired reports whether ctx is done or its deadline has passed.
func expired(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ctx.Err() != nil || (ok && !time.Now().Before(dl))
}

// call is one secret's read in flight; done closes when res is set.
type call struct {
	key  string // the secret's key in its partition (see View.key)
	done chan struct{}
	res  Result
}

// await starts a read for each of arns[idx] that no concurrent request of
// v's partition is reading (and the cache has not meanwhile filled, nor,
// when replay says so, a failure meanwhile been remembered: see
// remembered), joins the others, and waits for all of them or ctx. keys
// are the arns' keys in v. It returns the indexes whose reads it joined
// rather than led.
func (v *View) await(ctx context.Context, arns, keys []string, idx []int, results []Result, f Freshness, replay bool, n *counters) (joined []int) {
	s := v.s
	waits := make([]*call, len(idx))
	var lead []string
	var leadCalls []*call
	s.mu.Lock()
	now := s.opts.now()
	for k, i := range idx {
		arn, key := arns[i], keys[i]
		if c, ok := s.inflight[key]; ok {
			waits[k] = c
			joined = append(joined, i)
			continue
		}
		if e, ok := s.cache.Peek(key); ok && now.Before(e.expires) && s.fresh(f, e.read, now) {
			c := &call{done: make(chan struct{}), res: Result{Secret: e.secret}}
			close(c.done)
			waits[k] = c
			continue
		}
		if err, ok := s.remembered(key, arn, f, now, replay); ok {
			c := &call{done: make(chan struct{}), res: Result{Err: err}}
			close(c.done)
			waits[k] = c
			continue
		}
		c := &call{key: key, done: make(chan struct{})}
		s.inflight[key] = c
		waits[k] = c
		lead = append(lead, arn)
		leadCalls = append(leadCalls, c)
	}
	s.mu.Unlock()

	if len(lead) > 0 {
		// The reads serve every request that joins them, so they run
		// under this request's deadline but not its cancellation. They
		// end a little before it, so that a read that ran out of time
		// still reports how (throttled, or timed out) to its waiters.
		readCtx := context.WithoutCancel(ctx)
		cancel := context.CancelFunc(func() {})
		if dl, ok := ctx.Deadline(); ok {
			readCtx, cancel = context.WithDeadline(readCtx, dl.Add(-readMargin(time.Until(dl))))
		}
		go func() {
			defer cancel()
			v.readAll(readCtx, lead, leadCalls, n)
		}()
	}
	for k, i := range idx {
		select {
		case <-waits[k].done:
			results[i] = waits[k].res
		case <-ctx.Done():
			results[i] = Result{Err: &Error{Code: answer.Timeout, ARN: arns[i], Err: ctx.Err(), Transient: true}}
		}
	}
	return joined
}

// readMargin is how long before a request's deadline its reads stop: a
// tenth of the time left, at most maxReadMargin.
func readMargin(left time.Duration) time.Duration {
	const maxReadMargin = 50 * time.Millisecond
	return min(maxReadMargin, max(left, 0)/10)
}

// guard runs read, which finishes the calls cs of arns. Should it panic —
// a bug, since no input is known to cause one — the calls it had not
// finished fail instead of leaving their requests waiting until their
// deadline, and the process lives on. The panic is logged by type only.
func (s *Store) guard(ctx context.Context, arns []string, cs []*call, read func()) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		s.opts.logger.ErrorContext(ctx, "recovered panic while reading secrets", "panic", fmt.Sprintf("%T", p))
		for i, c := range cs {
			select {
			case <-c.done:
			default:
				s.finish(c, Result{Err: &Error{Code: answer.UpstreamError, ARN: arns[i], Transient: true,
					Err: errors.New("internal error while reading the secret")}})
			}
		}
	}()
	read()
}

// finish caches a read's outcome under the call's key, then releases the
// requests waiting on it. The cache is filled before the read leaves the
// in-flight table, so no request can miss both and read again.
func (s *Store) finish(c *call, r Result) {
	key := c.key
	switch {
	case r.Err == nil:
		now := s.opts.now()
		s.cache.Add(key, &entry{secret: r.Secret, read: now, expires: now.Add(s.jitteredTTL())})
		s.notFound.Remove(key)
		s.failures.Remove(key)
	default:
		s.failures.Add(key, failure{err: r.Err, at: s.opts.now()})
		if r.Err.Transient {
			break
		}
		// Secrets Manager has answered that the secret is gone, denied or
		// unreadable: its old value may no longer stand in for it.
		s.cache.Remove(key)
		if r.Err.Code == answer.SecretNotFound && s.opts.notFoundTTL > 0 {
			s.notFound.Add(key, s.opts.now())
		}
	}
	s.mu.Lock()
	delete(s.inflight, key)
	s.mu.Unlock()
	c.res = r
	close(c.done)
}

// fetch reads the AWSCURRENT version of one secret.
func (s *Store) fetch(ctx context.Context, client API, arn string, n *counters) Result {
	n.calls.Add(1)
	var rr *readRetryer
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId:     aws.String(arn),
		VersionStage: aws.String("AWSCURRENT"),
	}, withReadRetryer(ctx, n, &rr))
	if err != nil {
		return Result{Err: s.failed(ctx, client, arn, err, rr, n)}
	}
	return Result{Secret: newSecret(out.ARN, out.VersionId, out.SecretString)}
}

// failed classifies a read's error. Secrets Manager refuses to read a
// secret scheduled for deletion with InvalidRequestException;
// DescribeSecret's DeletedDate says whether that is why. rr, when the
// read had one, tells a read that ran out of time while throttled.
func (s *Store) failed(ctx context.Context, client API, arn string, err error, rr *readRetryer, n *counters) *Error {
	e := classify(arn, err)
	if e.Code == answer.Timeout && rr != nil && rr.throttled {
		e.Code = answer.Throttled
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidRequestException" {
		n.calls.Add(1)
		var rr *readRetryer
		if d, derr := client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)}, withReadRetryer(ctx, n, &rr)); derr == nil && d.DeletedDate != nil {
			e.Code = answer.SecretNotFound
		}
	}
	s.opts.logger.WarnContext(ctx, "secret read failed", "secret_arn", arn, "code", string(e.Code), "error", err.Error())
	return e
}

// newSecret parses a read's value: a SecretString, or a binary secret when
// there is none.
func newSecret(arn, versionID, secretString *string) *Secret {
	var sec *Secret
	if secretString == nil {
		sec = &Secret{ARN: aws.ToString(arn), Kind: Binary}
	} else {
		sec = NewSecret(aws.ToString(arn), *secretString)
	}
	sec.VersionID = aws.ToString(versionID)
	return sec
}

func (s *Store) jitteredTTL() time.Duration {
	ttl := s.opts.ttl
	return ttl - time.Duration(rand.Float64()*ttlJitter*float64(ttl))
}

// maxClients bounds the clients kept, one per partition and region: AWS
// has about 40 regions, and a function reads from a few, in a few
// partitions. Past it, the least recently used client is dropped (and
// made again if needed).
const maxClients = 64

// client gives v's client for region.
func (v *View) client(region string) API {
	s := v.s
	key := v.key(region)
	if c, ok := s.clients.Get(key); ok {
		return c
	}
	c := s.opts.newClient(region, v.creds)
	if prev, ok, _ := s.clients.PeekOrAdd(key, c); ok {
		return prev // made concurrently by another request
	}
	return c
}

// regionOf takes the region field of arn:partition:service:region:...
func regionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}

// Prefetch reads arns into the function's own partition before the first
// request (PREFETCH_SECRETS), batched like any request's misses, under ctx's
// deadline. It returns how many were read and the failed reads, each
// naming its ARN and class; the store has logged each failure.
func (s *Store) Prefetch(ctx context.Context, arns []string) (read int, failed []*Error) {
	arns = slices.Clone(arns)
	slices.Sort(arns)
	arns = slices.Compact(arns)
	res, _ := s.Get(ctx, arns, Freshness{})
	for _, r := range res {
		if r.Err != nil {
			failed = append(failed, r.Err)
			continue
		}
		read++
	}
	return read, failed
}
