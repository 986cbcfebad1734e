package resolve

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/jsonlex"
	"github.com/maskresolver/maskresolver/internal/mask"
	"github.com/maskresolver/maskresolver/internal/scopes"
	"github.com/maskresolver/maskresolver/internal/secrets"
	"github.com/maskresolver/maskresolver/internal/telemetry"
)

// RequestError rejects a whole request before any secret is read.
type RequestError struct {
	Code    answer.Code
	Message string
	// Scope is the scope the request named, as it named it, "" for none.
	Scope string
	// AssumeRoleCalls counts the sts:AssumeRole calls the request led.
	AssumeRoleCalls int
}

func (e *RequestError) Error() string { return string(e.Code) + ": " + e.Message }

// Store is what the resolver needs of internal/secrets.
type Store interface {
	Get(ctx context.Context, arns []string, f secrets.Freshness) ([]secrets.Result, secrets.Stats)
}

var _ Store = (*secrets.Store)(nil)

// Defaults of the request limits, used when no option says otherwise.
const (
	DefaultMaxMasks       = 1000
	DefaultMaxDepth       = 64
	DefaultMaxStringBytes = 256 << 10
	DefaultMaxSecrets     = 100
	// lookupCheckEvery is how many masks are looked up between two looks
	// at the deadline.
	lookupCheckEvery = 64
)

// Resolver resolves the masks of requests. Build one per execution
// environment; it is safe for concurrent use.
type Resolver struct {
	store Store
	// scopes are the scopes requests may name (nil: none), and partition
	// gives each one's part of the store.
	scopes         *scopes.Registry
	partition      PartitionFunc
	maxMasks       int
	maxDepth       int
	maxStringBytes int
	maxSecrets     int
	// maxResponseBytes bounds the answer's body.
	maxResponseBytes int
}

// Option configures a Resolver.
type Option func(*Resolver)

// WithMaxMasks limits masks per request (TooManyMasks above it).
func WithMaxMasks(n int) Option { return func(r *Resolver) { r.maxMasks = n } }

// WithMaxDepth limits the nesting depth of connection (InvalidRequest above it).
func WithMaxDepth(n int) Option { return func(r *Resolver) { r.maxDepth = n } }

// WithMaxStringBytes limits any one string token of the payload, member
// names included, as sent (InvalidRequest above it).
func WithMaxStringBytes(n int) Option { return func(r *Resolver) { r.maxStringBytes = n } }

// WithMaxSecrets limits the distinct secrets one request may name
// (TooManyMasks above it), so one request cannot fan out into many reads.
func WithMaxSecrets(n int) Option { return func(r *Resolver) { r.maxSecrets = n } }

// WithMaxResponseBytes limits the answer (ResponseTooLarge above it):
// decided before any read when the entries of masks alone would exceed
// it, and before the answer is built when the values would.
func WithMaxResponseBytes(n int) Option { return func(r *Resolver) { r.maxResponseBytes = n } }

// New returns a Resolver reading secrets from store.
func New(store Store, opts ...Option) *Resolver {
	r := &Resolver{store: store, maxMasks: DefaultMaxMasks, maxDepth: DefaultMaxDepth,
		maxStringBytes: DefaultMaxStringBytes, maxSecrets: DefaultMaxSecrets, maxResponseBytes: DefaultMaxResponseBytes}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Allow decides whether a secret ARN (as written in the mask, and again
// as Secrets Manager answers it) may be read for this request. nil allows
// every ARN.
type Allow func(secretARN string) bool

// Params is what a request brings besides its body.
type Params struct {
	// Allowlist decides which secrets any request may resolve, scoped or
	// not (SECRET_ARN_ALLOWLIST); nil allows all.
	Allowlist Allow
	// CallerRules decides which secrets the caller of a request that
	// names no scope may resolve (CALLER_RULES); nil allows all. A scoped
	// request ignores it: its scope's secrets stand in for it.
	CallerRules Allow
	// Caller is the IAM principal of an API Gateway request, "" when it
	// has none; Direct is true for a direct invocation. A scope admits
	// callers by them.
	Caller string
	Direct bool
	// MaxAge, when MaxAgeSet, is the max-age of the request's
	// Cache-Control header (no-cache is 0); the smaller of it and the
	// body's max_age applies (docs/api.md, "Freshness").
	MaxAge    time.Duration
	MaxAgeSet bool
}

// MaskResult is the outcome for one mask, in payload order: the entry the
// answer lists for it.
type MaskResult = answer.Mask

// Result is the outcome of a request that was understood.
type Result struct {
	DryRun bool
	// MaxAge is the freshness the request asked for (body and header).
	MaxAge secrets.Freshness
	Masks  []MaskResult
	// Failed counts masks with a Code; when non-zero no value is returned.
	Failed int
	// Unique counts the distinct secrets named by valid masks.
	Unique int
	Stats  secrets.Stats
	// Scope is the name of the request's scope, "" for none.
	Scope string
	// AssumeRoleCalls counts the sts:AssumeRole calls the request led.
	AssumeRoleCalls int

	connection []byte // the payload to return: rewritten, or as sent
}

// Resolve parses body, the request object {"connection": …, "dry_run": …,
// "max_age": …, "scope": …}, reads the secrets its masks name and returns
// the outcome. A request the contract rejects as a whole is a
// *RequestError.
//
// A request naming a scope is refused (ScopeNotAllowed) right after it is
// parsed, before the limits on masks, unless the scope exists and admits
// the caller; its masks are allowed by SECRET_ARN_ALLOWLIST and the
// scope's secrets, and read with the scope's credentials in the scope's
// partition of the store, once they are ready (docs/scopes.md).
func (r *Resolver) Resolve(ctx context.Context, body []byte, p Params) (*Result, error) {
	sc := scanner{buf: body, maxDepth: r.maxDepth, maxMasks: r.maxMasks, maxString: r.maxStringBytes}
	_, endParse := telemetry.Start(ctx, "parse")
	connStart, connEnd, dryRun, err := sc.request()
	endParse("masks", len(sc.matches), "bytes", len(body))
	// request returns a *tooManyMasks as is; a type assertion, unlike
	// errors.As, costs the request no allocation.
	tm, _ := err.(*tooManyMasks)
	if err != nil && tm == nil {
		return nil, &RequestError{Code: answer.InvalidRequest, Message: err.Error()}
	}
	var scope *scopes.Handle
	if sc.scopeSet {
		if scope = r.open(ctx, sc.scope, p); scope == nil {
			return nil, &RequestError{Code: answer.ScopeNotAllowed, Scope: sc.scope,
				Message: "the scope " + truncQuote([]byte(sc.scope)) + " is not open to this caller"}
		}
	}
	if tm != nil {
		return nil, &RequestError{Code: answer.TooManyMasks, Message: tm.Error(), Scope: sc.scope}
	}
	res := &Result{DryRun: dryRun, Masks: make([]MaskResult, len(sc.matches)), Scope: sc.scope}
	if sc.maxAgeSet {
		res.MaxAge = secrets.Freshness{MaxAge: sc.maxAge, Bounded: true}
	}
	if p.MaxAgeSet && (!res.MaxAge.Bounded || p.MaxAge < res.MaxAge.MaxAge) {
		res.MaxAge = secrets.Freshness{MaxAge: p.MaxAge, Bounded: true}
	}

	// Name each mask's secret once; look up each secret once.
	index := make(map[string]int)
	var arns []string
	slot := make([]int, len(sc.matches)) // mask -> index into arns, or -1
	for _, h := range sc.holders {
		for i := h.first; i < h.first+h.n; i++ {
			m := sc.matches[i]
			mr := &res.Masks[i]
			mr.Path = h.path
			slot[i] = -1
			if m.Err != nil {
				mr.Code, mr.Message = answer.InvalidMask, m.Err.Error()
				continue
			}
			mr.Key = m.Mask.Key
			// The ARN as written: what follows "<prefix><key>:" up to "}}",
			// taken as a substring so no mask costs an allocation here.
			mr.ARN = h.value[m.Start+len(mask.Prefix)+len(m.Mask.Key)+1 : m.End-2]
			if !r.allowed(scope, &p, mr.ARN) {
				mr.Code, mr.Message = answer.SecretNotAllowed, notAllowed(scope)
				continue
			}
			j, ok := index[mr.ARN]
			if !ok {
				j = len(arns)
				index[mr.ARN] = j
				arns = append(arns, mr.ARN)
			}
			slot[i] = j
		}
	}
	res.Unique = len(arns)
	if len(arns) > r.maxSecrets {
		return nil, &RequestError{Code: answer.TooManyMasks, Scope: res.Scope, Message: fmt.Sprintf(
			"the masks name %d distinct secrets, more than %d (MAX_SECRETS)", len(arns), r.maxSecrets)}
	}

	if n := answer.EntriesLen(res.Masks); n > r.maxResponseBytes {
		e := r.tooLarge(n, "listing the masks")
		e.Scope = res.Scope
		return nil, e
	}

	var got []secrets.Result
	if len(arns) > 0 {
		store := r.store
		var calls *scopes.CallCount
		if scope != nil {
			// Ready before any read; then the reads, which count too the
			// AssumeRole call of credentials renewed on the way.
			calls = new(scopes.CallCount)
			ctx = scopes.CountCalls(ctx, calls)
			if err := scope.Ready(ctx); err != nil {
				return nil, scopeError(err, res.Scope, calls.Load())
			}
			store = r.partition(scope.Partition(), scope.Credentials())
		}
		got, res.Stats = store.Get(ctx, arns, res.MaxAge)
		if calls != nil {
			res.AssumeRoleCalls = calls.Load()
		}
	}
	// The ARN as written was allowed; the secret Secrets Manager replied
	// with must be too. A partial ARN whose name happens to end in "-" and
	// six characters can name a different secret than the pattern meant.
	refused := make([]bool, len(got))
	for j, g := range got {
		refused[j] = g.Secret != nil && !r.allowed(scope, &p, g.Secret.ARN)
	}
	values := make([]string, len(sc.matches))
	for i := range res.Masks {
		mr := &res.Masks[i]
		if i%lookupCheckEvery == 0 && ctx.Err() != nil && mr.Code == "" {
			// Lookups are linear in the secrets' size, but a request of
			// many masks must still not run past its deadline.
			mr.Code, mr.Message = answer.Timeout, "the request's deadline passed before this mask was looked up"
		}
		switch {
		case mr.Code != "":
		case slot[i] < 0:
		case refused[slot[i]]:
			mr.Code, mr.Message = answer.SecretNotAllowed, "Secrets Manager answered with a secret outside the secrets this caller may resolve"
		default:
			values[i], mr.Code, mr.Message = lookup(got[slot[i]], mr.Key)
			if mr.Code == "" {
				mr.VersionID = got[slot[i]].Secret.VersionID
			}
		}
		if mr.Code != "" {
			res.Failed++
		}
	}
	if n := answerLenBound(res, body[connStart:connEnd], sc.holders, sc.matches, values); n > r.maxResponseBytes {
		what := "the masks' values"
		if res.Failed > 0 {
			what = "listing the failed masks"
		}
		return nil, r.tooLarge(n, what)
	}
	switch {
	case res.Failed > 0:
	case dryRun || len(sc.holders) == 0:
		res.connection = body[connStart:connEnd]
	default:
		_, endSub := telemetry.Start(ctx, "substitute")
		res.connection = rewrite(body[connStart:connEnd], connStart, sc.holders, sc.matches, values)
		endSub("strings", len(sc.holders))
	}
	return res, nil
}

func lookup(r secrets.Result, key string) (value string, code answer.Code, msg string) {
	if r.Err != nil {
		return "", r.Err.Code, r.Err.Message()
	}
	switch r.Secret.Kind {
	case secrets.Binary:
		return "", answer.SecretNotKeyValue, "the secret is binary (SecretBinary), not a JSON object of key/value pairs"
	case secrets.NotObject:
		return "", answer.SecretNotKeyValue, "the secret's SecretString is not a JSON object of key/value pairs"
	}
	v, ok := r.Secret.Lookup(key)
	if !ok {
		return "", answer.KeyNotFound, fmt.Sprintf("the secret has no key %s", strconv.Quote(key))
	}
	return v, "", ""
}

// rewrite copies conn (which starts at offset base of the body) and, in
// each string that holds masks, replaces each mask with its value: the
// text around the masks is copied as sent, escapes included, and only the
// inserted values are encoded. Inserted values are never scanned again.
func rewrite(conn []byte, base int, holders []holder, matches []mask.Match, values []string) []byte {
	size := len(conn)
	for _, v := range values {
		size += len(v)
	}
	out := make([]byte, 0, size+size/16)
	at := 0
	for _, h := range holders {
		raw := conn[h.start-base+1 : h.end-base-1]
		out = append(out, conn[at:h.start-base+1]...)
		prev := 0
		for i := h.first; i < h.first+h.n; i++ {
			m := matches[i]
			out = append(out, raw[h.rawAt(prev):h.rawAt(m.Start)]...)
			out = jsonlex.AppendEscaped(out, values[i])
			prev = m.End
		}
		out = append(out, raw[h.rawAt(prev):]...)
		out = append(out, '"')
		at = h.end - base
	}
	return append(out, conn[at:]...)
}

// request scans the request object, as members says. A payload of more
// than MAX_MASKS masks is a *tooManyMasks, found once the whole request is
// read, so that its "scope" is known (a scope's refusal comes before the
// limits on masks); when the rest of such a request does not parse, it is
// refused for its masks all the same, with no scope.
func (s *scanner) request() (connStart, connEnd int, dryRun bool, err error) {
	connStart, connEnd, dryRun, err = s.members()
	if s.tooMany {
		if err != nil {
			s.scope, s.scopeSet = "", false
		}
		return 0, 0, false, &tooManyMasks{limit: s.maxMasks}
	}
	return connStart, connEnd, dryRun, err
}

// members scans the request object: exactly the members "connection"
// (required, any JSON value), "dry_run" (optional boolean), "max_age"
// (optional non-negative integer) and "scope" (optional string), once
// each.
func (s *scanner) members() (connStart, connEnd int, dryRun bool, err error) {
	s.skipSpace()
	if s.pos >= len(s.buf) || s.buf[s.pos] != '{' {
		if s.pos >= len(s.buf) {
			return 0, 0, false, s.errorf("the body is empty; expected a JSON object")
		}
		return 0, 0, false, s.errorf("the body is not a JSON object")
	}
	s.pos++
	seenConn, seenDry, seenMaxAge := false, false, false
	s.skipSpace()
	if s.pos < len(s.buf) && s.buf[s.pos] == '}' {
		s.pos++
	} else {
		for {
			s.skipSpace()
			if s.pos >= len(s.buf) || s.buf[s.pos] != '"' {
				return 0, 0, false, s.errorf("expected a member name")
			}
			start := s.pos
			esc, err := s.stringToken()
			if err != nil {
				return 0, 0, false, err
			}
			name := s.buf[start+1 : s.pos-1]
			if esc {
				name = jsonlex.AppendUnescaped(nil, name)
			}
			s.skipSpace()
			if s.pos >= len(s.buf) || s.buf[s.pos] != ':' {
				return 0, 0, false, s.errorf("expected ':' after a member name")
			}
			s.pos++
			s.skipSpace()
			switch {
			case string(name) == "connection" && !seenConn:
				seenConn = true
				connStart = s.pos
				if err := s.value(0); err != nil {
					return 0, 0, false, err
				}
				connEnd = s.pos
			case string(name) == "dry_run" && !seenDry:
				seenDry = true
				switch {
				case jsonlex.HasLiteral(s.buf, s.pos, "true"):
					dryRun = true
					s.pos += 4
				case jsonlex.HasLiteral(s.buf, s.pos, "false"):
					s.pos += 5
				default:
					return 0, 0, false, s.errorf(`"dry_run" must be true or false`)
				}
			case string(name) == "max_age" && !seenMaxAge:
				seenMaxAge = true
				if err := s.maxAgeMember(); err != nil {
					return 0, 0, false, err
				}
			case string(name) == "scope" && !s.scopeSet:
				if err := s.scopeMember(); err != nil {
					return 0, 0, false, err
				}
			case string(name) == "connection" || string(name) == "dry_run" || string(name) == "max_age" || string(name) == "scope":
				return 0, 0, false, s.errorf("duplicate member %q", name)
			default:
				return 0, 0, false, s.errorf("unknown member %s (expected \"connection\" and optional \"dry_run\", \"max_age\" and \"scope\")", truncQuote(name))
			}
			s.skipSpace()
			if s.pos >= len(s.buf) {
				return 0, 0, false, s.errorf("unexpected end of JSON in the request object")
			}
			if s.buf[s.pos] == ',' {
				s.pos++
				continue
			}
			if s.buf[s.pos] != '}' {
				return 0, 0, false, s.errorf("expected ',' or '}' in the request object")
			}
			s.pos++
			break
		}
	}
	s.skipSpace()
	if s.pos != len(s.buf) {
		return 0, 0, false, s.errorf("unexpected data after the request object")
	}
	if !seenConn {
		return 0, 0, false, &syntaxError{offset: 0, msg: `the request has no "connection" member`}
	}
	return connStart, connEnd, dryRun, nil
}

// scopeMember scans the value of "scope", which must be a string (null
// too is refused: a request either names a scope or has no "scope").
func (s *scanner) scopeMember() error {
	if s.pos >= len(s.buf) || s.buf[s.pos] != '"' {
		return s.errorf(`"scope" must be a string, the name of a scope`)
	}
	start := s.pos
	esc, err := s.stringToken()
	if err != nil {
		return err
	}
	raw := s.buf[start+1 : s.pos-1]
	if esc {
		raw = jsonlex.AppendUnescaped(nil, raw)
	}
	s.scope, s.scopeSet = string(raw), true
	return nil
}

// maxMaxAge caps max_age: any larger value asks for nothing more, since
// CACHE_TTL bounds every value's age anyway.
const maxMaxAge = 1 << 31

// maxAgeMember scans the value of "max_age":
//
//	MaxAge := [0-9]+   (a JSON integer: no sign, fraction or exponent)
func (s *scanner) maxAgeMember() error {
	bad := s.errorf(`"max_age" must be a non-negative integer number of seconds`)
	start := s.pos
	n := 0
	for s.pos < len(s.buf) && s.buf[s.pos] >= '0' && s.buf[s.pos] <= '9' {
		n = min(n*10+int(s.buf[s.pos]-'0'), maxMaxAge)
		s.pos++
	}
	digits := s.pos - start
	switch {
	case digits == 0, digits > 1 && s.buf[start] == '0':
		return bad
	case s.pos < len(s.buf) && (s.buf[s.pos] == '.' || s.buf[s.pos] == 'e' || s.buf[s.pos] == 'E'):
		return bad
	}
	s.maxAge, s.maxAgeSet = time.Duration(n)*time.Second, true
	return nil
}

// truncQuote quotes a member name for a message, cut to its first 64
// bytes at a character boundary (cutting inside a UTF-8 sequence would put
// a replacement character in the message).
func truncQuote(b []byte) string {
	const max = 64
	if len(b) > max {
		n := max
		for n > 0 && !utf8.RuneStart(b[n]) {
			n--
		}
		return strconv.Quote(string(b[:n])) + "..."
	}
	return strconv.Quote(string(b))
}

// Codes lists the distinct codes of the failed masks, in first-seen order.
func (r *Result) Codes() []answer.Code {
	var codes []answer.Code
	for i := range r.Masks {
		c := r.Masks[i].Code
		if c != "" && !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	return codes
}
