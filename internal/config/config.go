package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maskresolver/maskresolver/internal/mask"
)

// Variables lists every environment variable Load reads, for tests and
// tools that must set or scrub the function's whole configuration.
var Variables = []string{
	"SECRET_ARN_ALLOWLIST", "CALLER_RULES",
	"CACHE_TTL", "CACHE_MAX_ENTRIES", "CACHE_STALE_IF_ERROR", "CACHE_NOT_FOUND_TTL",
	"REFRESH_MIN_INTERVAL", "PREFETCH_SECRETS",
	"MAX_BODY_BYTES", "MAX_MASKS", "MAX_DEPTH", "MAX_STRING_BYTES", "MAX_SECRETS", "MAX_RESPONSE_BYTES",
	"LOG_LEVEL", "METRICS_NAMESPACE",
	"SCOPES", "SCOPES_SECRET_ARN",
}

// Defaults are the values of the settings the environment leaves unset.
// Each lives once, as a constant beside the option of the package that
// uses it (secrets, resolve, api); app gathers them, so that config knows
// nothing of the packages that serve a request.
type Defaults struct {
	CacheTTL           time.Duration
	CacheMaxEntries    int
	CacheStaleIfError  time.Duration
	CacheNotFoundTTL   time.Duration
	RefreshMinInterval time.Duration

	MaxBodyBytes     int
	MaxMasks         int
	MaxDepth         int
	MaxStringBytes   int
	MaxSecrets       int
	MaxResponseBytes int

	MetricsNamespace string
}

// Config is the validated configuration of one execution environment.
type Config struct {
	// Allowlist limits the secrets any caller may resolve; nil allows any ARN.
	Allowlist Patterns
	// CallerRules, when non-nil, limits which secrets each caller may resolve.
	CallerRules []CallerRule

	CacheTTL          time.Duration
	CacheMaxEntries   int
	CacheStaleIfError time.Duration
	// CacheNotFoundTTL is how long a SecretNotFound answer is remembered.
	CacheNotFoundTTL time.Duration
	// RefreshMinInterval is how recent a value must be to count as fresh
	// whatever a request's max_age asks (at most CacheTTL).
	RefreshMinInterval time.Duration
	// PrefetchSecrets are read during init, so the first requests are warm.
	PrefetchSecrets []string

	MaxBodyBytes   int
	MaxMasks       int
	MaxDepth       int
	MaxStringBytes int
	MaxSecrets     int
	// MaxResponseBytes bounds the answer, API Gateway envelope included.
	MaxResponseBytes int

	LogLevel slog.Level
	// MetricsNamespace is the CloudWatch namespace of the summary line's
	// Embedded Metric Format metrics.
	MetricsNamespace string

	// Scopes are the scopes of SCOPES. They are empty when SCOPES is unset,
	// and so when SCOPES_SECRET_ARN names the document instead: that one
	// is read, and parsed with ParseScopes, by the holder of a Secrets
	// Manager client.
	Scopes Scopes
	// ScopesSecretARN is the secret whose SecretString is the scopes
	// document (SCOPES_SECRET_ARN), or "".
	ScopesSecretARN string
}

// CallerRule lets the callers it names resolve the secrets it names.
type CallerRule struct {
	Callers Patterns `json:"callers"`
	Secrets Patterns `json:"secrets"`
}

// Allowed reports whether a secret ARN may be resolved by a caller. caller is
// the IAM principal ARN of an API Gateway request, or "" for a direct
// invocation, which matches only a rule whose callers hold "*".
func (c *Config) Allowed(caller, secretARN string) bool {
	if c.Allowlist != nil && !c.Allowlist.Match(secretARN) {
		return false
	}
	return c.CallerAllowed(caller, secretARN)
}

// CallerAllowed is Allowed without SECRET_ARN_ALLOWLIST: whether
// CALLER_RULES let caller resolve a secret ARN (true without rules). A
// request naming a scope is held to the allowlist but not to these rules.
func (c *Config) CallerAllowed(caller, secretARN string) bool {
	if c.CallerRules == nil {
		return true
	}
	for _, r := range c.CallerRules {
		if r.matchesCaller(caller) && r.Secrets.Match(secretARN) {
			return true
		}
	}
	return false
}

func (r CallerRule) matchesCaller(caller string) bool {
	if caller == "" {
		for _, p := range r.Callers {
			if p == "*" {
				return true
			}
		}
		return false
	}
	return r.Callers.Match(caller)
}

// Load reads the configuration through lookup (os.LookupEnv in production);
// a setting the environment leaves unset takes its value from d.
// All problems are reported together, each naming its variable.
func Load(lookup func(string) (string, bool), d Defaults) (Config, error) {
	c := Config{
		CacheTTL:           d.CacheTTL,
		CacheMaxEntries:    d.CacheMaxEntries,
		CacheStaleIfError:  d.CacheStaleIfError,
		CacheNotFoundTTL:   d.CacheNotFoundTTL,
		RefreshMinInterval: d.RefreshMinInterval,
		MaxBodyBytes:       d.MaxBodyBytes,
		MaxMasks:           d.MaxMasks,
		MaxDepth:           d.MaxDepth,
		MaxStringBytes:     d.MaxStringBytes,
		MaxSecrets:         d.MaxSecrets,
		MaxResponseBytes:   d.MaxResponseBytes,
		LogLevel:           slog.LevelInfo,
		MetricsNamespace:   d.MetricsNamespace,
	}
	var errs []error
	get := func(name string) (string, bool) {
		v, ok := lookup(name)
		v = strings.TrimSpace(v)
		return v, ok && v != ""
	}
	fail := func(name, v string, err error) {
		errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
	}

	if v, ok := get("SECRET_ARN_ALLOWLIST"); ok {
		ps, err := parsePatterns(strings.Split(v, ","))
		switch {
		case err != nil:
			fail("SECRET_ARN_ALLOWLIST", v, err)
		case len(ps) == 0:
			fail("SECRET_ARN_ALLOWLIST", v, errors.New("no patterns (unset the variable to allow any ARN)"))
		default:
			c.Allowlist = ps
		}
	}
	if v, ok := get("CALLER_RULES"); ok {
		rules, err := parseCallerRules(v)
		if err != nil {
			fail("CALLER_RULES", v, err)
		}
		c.CallerRules = rules
	}
	duration := func(name string, dst *time.Duration, allowZero bool) {
		v, ok := get(name)
		if !ok {
			return
		}
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			fail(name, v, errors.New("not a Go duration such as 5m or 30s"))
		case d < 0 || (d == 0 && !allowZero):
			fail(name, v, errors.New("must be positive"))
		default:
			*dst = d
		}
	}
	integer := func(name string, dst *int, lo, hi int) {
		v, ok := get(name)
		if !ok {
			return
		}
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			fail(name, v, errors.New("not an integer"))
		case n < lo || n > hi:
			fail(name, v, fmt.Errorf("must be between %d and %d", lo, hi))
		default:
			*dst = n
		}
	}
	// A zero TTL disables caching within a request's lifetime only; a zero
	// stale window disables serving stale values.
	duration("CACHE_TTL", &c.CacheTTL, true)
	duration("CACHE_STALE_IF_ERROR", &c.CacheStaleIfError, true)
	duration("CACHE_NOT_FOUND_TTL", &c.CacheNotFoundTTL, true)
	duration("REFRESH_MIN_INTERVAL", &c.RefreshMinInterval, true)
	if v, ok := get("REFRESH_MIN_INTERVAL"); ok && c.RefreshMinInterval > c.CacheTTL {
		// A floor above the TTL would never apply: every value is read
		// again at its TTL first.
		fail("REFRESH_MIN_INTERVAL", v, fmt.Errorf("must be at most CACHE_TTL (%s)", c.CacheTTL))
	}
	integer("CACHE_MAX_ENTRIES", &c.CacheMaxEntries, 1, 1_000_000)
	// API Gateway caps payloads at 10 MB; Lambda's synchronous invoke at 6 MB.
	integer("MAX_BODY_BYTES", &c.MaxBodyBytes, 2, 10<<20)
	integer("MAX_MASKS", &c.MaxMasks, 1, 100_000)
	integer("MAX_DEPTH", &c.MaxDepth, 1, 10_000)
	integer("MAX_STRING_BYTES", &c.MaxStringBytes, 1, 10<<20)
	integer("MAX_SECRETS", &c.MaxSecrets, 1, 10_000)
	// Lambda refuses a synchronous answer over 6 MB (6,291,456 bytes).
	integer("MAX_RESPONSE_BYTES", &c.MaxResponseBytes, 1024, 6<<20)

	if v, ok := get("PREFETCH_SECRETS"); ok {
		for a := range strings.SplitSeq(v, ",") {
			a = strings.TrimSpace(a)
			if a == "" {
				continue
			}
			if _, err := mask.ParseARN(a); err != nil {
				fail("PREFETCH_SECRETS", a, fmt.Errorf("not a secret ARN: %w", err))
				continue
			}
			// Caller rules do not apply at init (there is no caller);
			// the allowlist does.
			if c.Allowlist != nil && !c.Allowlist.Match(a) {
				fail("PREFETCH_SECRETS", a, errors.New("outside SECRET_ARN_ALLOWLIST"))
				continue
			}
			if !slices.Contains(c.PrefetchSecrets, a) {
				c.PrefetchSecrets = append(c.PrefetchSecrets, a)
			}
		}
	}
	if v, ok := get("LOG_LEVEL"); ok {
		l, err := ParseLogLevel(v)
		if err != nil {
			fail("LOG_LEVEL", v, err)
		}
		c.LogLevel = l
	}
	if v, ok := get("METRICS_NAMESPACE"); ok {
		// CloudWatch: 1 to 255 characters of [0-9A-Za-z.-_/#:].
		valid := len(v) <= 255
		for _, r := range v {
			valid = valid && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune(".-_/#:", r))
		}
		if !valid {
			fail("METRICS_NAMESPACE", v, errors.New("must be 1-255 characters: letters, digits, and any of . - _ / # and colon"))
		}
		c.MetricsNamespace = v
	}
	// The scopes document holds external ids: its errors name the variable
	// and the scope but never quote it, so it does not go through fail.
	doc, hasDoc := get("SCOPES")
	if hasDoc {
		ss, err := ParseScopes([]byte(doc), "SCOPES")
		if err != nil {
			errs = append(errs, err)
		}
		c.Scopes = ss
	}
	if v, ok := get("SCOPES_SECRET_ARN"); ok {
		if _, err := mask.ParseARN(v); err != nil {
			fail("SCOPES_SECRET_ARN", v, fmt.Errorf("not a secret ARN: %w", err))
		}
		c.ScopesSecretARN = v
		if hasDoc {
			errs = append(errs, errors.New("SCOPES and SCOPES_SECRET_ARN are both set: set one (no scopes when neither is)"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("invalid configuration: %w", err)
	}
	return c, nil
}

func parseCallerRules(v string) ([]CallerRule, error) {
	var raw []struct {
		Callers []string `json:"callers"`
		Secrets []string `json:"secrets"`
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf(`not a JSON list of {"callers": [...], "secrets": [...]}: %w`, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the JSON list")
	}
	if len(raw) == 0 {
		// An empty list would refuse every secret: unset the variable to
		// use only SECRET_ARN_ALLOWLIST.
		return nil, errors.New("no rules (unset the variable to apply only SECRET_ARN_ALLOWLIST)")
	}
	rules := make([]CallerRule, 0, len(raw))
	for i, r := range raw {
		callers, err := parsePatterns(r.Callers)
		if err != nil {
			return nil, fmt.Errorf("rule %d callers: %w", i, err)
		}
		secrets, err := parsePatterns(r.Secrets)
		if err != nil {
			return nil, fmt.Errorf("rule %d secrets: %w", i, err)
		}
		if len(callers) == 0 || len(secrets) == 0 {
			return nil, fmt.Errorf("rule %d: needs at least one caller and one secret pattern", i)
		}
		rules = append(rules, CallerRule{Callers: callers, Secrets: secrets})
	}
	return rules, nil
}

// ParseLogLevel reads a log level: debug, info, warn or error in any case,
// plus Lambda's TRACE (as debug) and FATAL (as error), the values of
// AWS_LAMBDA_LOG_LEVEL.
func ParseLogLevel(v string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "trace", "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error", "fatal":
		return slog.LevelError, nil
	}
	return 0, errors.New("must be debug, info, warn or error")
}
