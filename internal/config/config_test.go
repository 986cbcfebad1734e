package config_test

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/maskresolver/maskresolver/internal/config"
)

// env is a lookup over a fixed set of variables.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// testDefaults are the values app passes today (see internal/app's
// TestDefaults), so the messages below read as an operator sees them.
var testDefaults = config.Defaults{
	CacheTTL:           5 * time.Minute,
	CacheMaxEntries:    1000,
	CacheStaleIfError:  15 * time.Minute,
	CacheNotFoundTTL:   5 * time.Second,
	RefreshMinInterval: time.Second,
	MaxBodyBytes:       1048576,
	MaxMasks:           1000,
	MaxDepth:           64,
	MaxStringBytes:     256 << 10,
	MaxSecrets:         100,
	MaxResponseBytes:   6<<20 - 4<<10,
	MetricsNamespace:   "maskresolver",
}

// defaults is the Config of an empty environment: every setting from
// testDefaults, and log level info.
func defaults() config.Config {
	d := testDefaults
	return config.Config{
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
		MetricsNamespace:   d.MetricsNamespace,
		LogLevel:           slog.LevelInfo,
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	const acct = "arn:aws:secretsmanager:us-east-1:137149879143:secret:*"
	tests := []struct {
		name string
		vars map[string]string
		want func(*config.Config)
	}{
		{name: "nothing set", vars: nil, want: func(*config.Config) {}},
		{name: "blank values are unset", vars: map[string]string{
			"SECRET_ARN_ALLOWLIST": "", "CALLER_RULES": " ", "CACHE_TTL": "", "LOG_LEVEL": "\t",
		}, want: func(*config.Config) {}},
		{name: "allowlist", vars: map[string]string{"SECRET_ARN_ALLOWLIST": acct}, want: func(c *config.Config) {
			c.Allowlist = config.Patterns{acct}
		}},
		{name: "allowlist of several, with blanks and spaces", vars: map[string]string{
			"SECRET_ARN_ALLOWLIST": " arn:aws:secretsmanager:*:1:secret:a-* ,, arn:aws:secretsmanager:eu-west-1:2:secret:b ,",
		}, want: func(c *config.Config) {
			c.Allowlist = config.Patterns{"arn:aws:secretsmanager:*:1:secret:a-*", "arn:aws:secretsmanager:eu-west-1:2:secret:b"}
		}},
		{name: "allowlist star", vars: map[string]string{"SECRET_ARN_ALLOWLIST": "*"}, want: func(c *config.Config) {
			c.Allowlist = config.Patterns{"*"}
		}},
		{name: "caller rules", vars: map[string]string{"CALLER_RULES": `[
			{"callers": ["arn:aws:iam::1:role/app-*", "*"], "secrets": ["` + acct + `"]},
			{"callers": ["arn:aws:sts::1:assumed-role/ops/*"], "secrets": ["arn:*:secretsmanager:*"]}
		]`}, want: func(c *config.Config) {
			c.CallerRules = []config.CallerRule{
				{Callers: config.Patterns{"arn:aws:iam::1:role/app-*", "*"}, Secrets: config.Patterns{acct}},
				{Callers: config.Patterns{"arn:aws:sts::1:assumed-role/ops/*"}, Secrets: config.Patterns{"arn:*:secretsmanager:*"}},
			}
		}},
		{name: "cache", vars: map[string]string{
			"CACHE_TTL": "90s", "CACHE_MAX_ENTRIES": "25", "CACHE_STALE_IF_ERROR": "1h30m",
		}, want: func(c *config.Config) {
			c.CacheTTL, c.CacheMaxEntries, c.CacheStaleIfError = 90*time.Second, 25, 90*time.Minute
		}},
		{name: "zero TTL and stale window", vars: map[string]string{"CACHE_TTL": "0", "CACHE_STALE_IF_ERROR": "0s", "CACHE_NOT_FOUND_TTL": "0"}, want: func(c *config.Config) {
			c.CacheTTL, c.CacheStaleIfError, c.CacheNotFoundTTL = 0, 0, 0
		}},
		{name: "not-found TTL", vars: map[string]string{"CACHE_NOT_FOUND_TTL": "30s"}, want: func(c *config.Config) { c.CacheNotFoundTTL = 30 * time.Second }},
		{name: "refresh interval", vars: map[string]string{"REFRESH_MIN_INTERVAL": "250ms", "CACHE_TTL": "1s"}, want: func(c *config.Config) {
			c.RefreshMinInterval, c.CacheTTL = 250*time.Millisecond, time.Second
		}},
		{name: "prefetch", vars: map[string]string{
			"PREFETCH_SECRETS":     " arn:aws:secretsmanager:us-east-1:137149879143:secret:a-AbCdEf,,arn:aws:secretsmanager:eu-west-1:137149879143:secret:b , arn:aws:secretsmanager:us-east-1:137149879143:secret:a-AbCdEf",
			"SECRET_ARN_ALLOWLIST": "arn:aws:secretsmanager:*:137149879143:secret:*",
		}, want: func(c *config.Config) {
			c.Allowlist = config.Patterns{"arn:aws:secretsmanager:*:137149879143:secret:*"}
			c.PrefetchSecrets = []string{"arn:aws:secretsmanager:us-east-1:137149879143:secret:a-AbCdEf", "arn:aws:secretsmanager:eu-west-1:137149879143:secret:b"}
		}},
		{name: "limits", vars: map[string]string{"MAX_BODY_BYTES": "6291456", "MAX_MASKS": "1", "MAX_DEPTH": " 3 ", "MAX_RESPONSE_BYTES": "4096"}, want: func(c *config.Config) {
			c.MaxBodyBytes, c.MaxMasks, c.MaxDepth, c.MaxResponseBytes = 6<<20, 1, 3, 4096
		}},
		{name: "log level debug", vars: map[string]string{"LOG_LEVEL": "debug"}, want: func(c *config.Config) { c.LogLevel = slog.LevelDebug }},
		{name: "log level WARN", vars: map[string]string{"LOG_LEVEL": "WARN"}, want: func(c *config.Config) { c.LogLevel = slog.LevelWarn }},
		{name: "log level error", vars: map[string]string{"LOG_LEVEL": "error"}, want: func(c *config.Config) { c.LogLevel = slog.LevelError }},
		{name: "log level info", vars: map[string]string{"LOG_LEVEL": "info"}, want: func(*config.Config) {}},
		{name: "unrelated variables", vars: map[string]string{"AWS_REGION": "eu-west-1", "cache_ttl": "banana"}, want: func(*config.Config) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := config.Load(env(tt.vars), testDefaults)
			if err != nil {
				t.Fatal(err)
			}
			want := defaults()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vars map[string]string
		// wantIn are texts the error must hold: the variable, and what is
		// wrong where that is worth pinning.
		wantIn []string
	}{
		{name: "TTL not a duration", vars: map[string]string{"CACHE_TTL": "banana"}, wantIn: []string{"CACHE_TTL", "banana", "duration"}},
		{name: "TTL without unit", vars: map[string]string{"CACHE_TTL": "300"}, wantIn: []string{"CACHE_TTL"}},
		{name: "negative TTL", vars: map[string]string{"CACHE_TTL": "-1s"}, wantIn: []string{"CACHE_TTL", "positive"}},
		{name: "negative stale window", vars: map[string]string{"CACHE_STALE_IF_ERROR": "-5m"}, wantIn: []string{"CACHE_STALE_IF_ERROR"}},
		{name: "no cache entries", vars: map[string]string{"CACHE_MAX_ENTRIES": "0"}, wantIn: []string{"CACHE_MAX_ENTRIES", "between"}},
		{name: "cache entries not a number", vars: map[string]string{"CACHE_MAX_ENTRIES": "1e3"}, wantIn: []string{"CACHE_MAX_ENTRIES", "integer"}},
		{name: "body size not a number", vars: map[string]string{"MAX_BODY_BYTES": "abc"}, wantIn: []string{"MAX_BODY_BYTES", "integer"}},
		{name: "body size too large", vars: map[string]string{"MAX_BODY_BYTES": "99999999999999999999"}, wantIn: []string{"MAX_BODY_BYTES"}},
		{name: "no masks", vars: map[string]string{"MAX_MASKS": "0"}, wantIn: []string{"MAX_MASKS"}},
		{name: "negative depth", vars: map[string]string{"MAX_DEPTH": "-1"}, wantIn: []string{"MAX_DEPTH"}},
		{name: "refresh interval above the TTL", vars: map[string]string{"REFRESH_MIN_INTERVAL": "10m"}, wantIn: []string{"REFRESH_MIN_INTERVAL", "at most CACHE_TTL"}},
		{name: "prefetch of a name", vars: map[string]string{"PREFETCH_SECRETS": "prod/db"}, wantIn: []string{"PREFETCH_SECRETS", "prod/db", "not a secret ARN"}},
		{name: "prefetch outside the allowlist", vars: map[string]string{
			"PREFETCH_SECRETS":     "arn:aws:secretsmanager:us-east-1:999999999999:secret:other",
			"SECRET_ARN_ALLOWLIST": "arn:aws:secretsmanager:*:137149879143:secret:*",
		}, wantIn: []string{"PREFETCH_SECRETS", "999999999999", "outside SECRET_ARN_ALLOWLIST"}},
		{name: "response limit above Lambda's", vars: map[string]string{"MAX_RESPONSE_BYTES": "6291457"}, wantIn: []string{"MAX_RESPONSE_BYTES", "between 1024 and 6291456"}},
		{name: "unknown log level", vars: map[string]string{"LOG_LEVEL": "loud"}, wantIn: []string{"LOG_LEVEL", "loud", "debug, info, warn or error"}},
		{name: "allowlist of a name", vars: map[string]string{"SECRET_ARN_ALLOWLIST": "prod-secret"}, wantIn: []string{"SECRET_ARN_ALLOWLIST", "prod-secret", "arn:"}},
		{name: "allowlist with one name among ARNs", vars: map[string]string{"SECRET_ARN_ALLOWLIST": "arn:aws:secretsmanager:*,prod-secret"}, wantIn: []string{"SECRET_ARN_ALLOWLIST", "prod-secret"}},
		{name: "allowlist of nothing", vars: map[string]string{"SECRET_ARN_ALLOWLIST": ","}, wantIn: []string{"SECRET_ARN_ALLOWLIST", "no patterns"}},
		{name: "caller rules not JSON", vars: map[string]string{"CALLER_RULES": "[{"}, wantIn: []string{"CALLER_RULES"}},
		{name: "caller rules not a list", vars: map[string]string{"CALLER_RULES": `{"callers":["*"],"secrets":["*"]}`}, wantIn: []string{"CALLER_RULES"}},
		{name: "rule without callers", vars: map[string]string{"CALLER_RULES": `[{"callers":[],"secrets":["arn:*"]}]`}, wantIn: []string{"CALLER_RULES", "rule 0"}},
		{name: "rule without secrets", vars: map[string]string{"CALLER_RULES": `[{"callers":["*"]}]`}, wantIn: []string{"CALLER_RULES", "rule 0"}},
		{name: "second rule of blanks", vars: map[string]string{"CALLER_RULES": `[{"callers":["*"],"secrets":["*"]},{"callers":[" "],"secrets":["*"]}]`}, wantIn: []string{"CALLER_RULES", "rule 1"}},
		{name: "unknown field in a rule", vars: map[string]string{"CALLER_RULES": `[{"callers":["*"],"secrets":["arn:*"],"secret":["arn:*"]}]`}, wantIn: []string{"CALLER_RULES", "secret"}},
		{name: "rule secret not an ARN", vars: map[string]string{"CALLER_RULES": `[{"callers":["*"],"secrets":["prod-secret"]}]`}, wantIn: []string{"CALLER_RULES", "rule 0 secrets", "prod-secret"}},
		{name: "rule caller not an ARN", vars: map[string]string{"CALLER_RULES": `[{"callers":["my-role"],"secrets":["*"]}]`}, wantIn: []string{"CALLER_RULES", "rule 0 callers", "my-role"}},

		// fixed bugs
		// The decoder read the first JSON value and ignored what followed,
		// so a rule list pasted twice or cut short loaded half the intent.
		{name: "caller rules with trailing data", vars: map[string]string{"CALLER_RULES": `[{"callers":["*"],"secrets":["*"]}] [{"callers":["*"],"secrets":["*"]}]`}, wantIn: []string{"CALLER_RULES"}},
		{name: "caller rules with trailing garbage", vars: map[string]string{"CALLER_RULES": `[{"callers":["*"],"secrets":["*"]}]x`}, wantIn: []string{"CALLER_RULES"}},

		{name: "several at once", vars: map[string]string{
			"CACHE_TTL": "banana", "CACHE_MAX_ENTRIES": "0", "MAX_BODY_BYTES": "abc", "MAX_MASKS": "0",
			"MAX_DEPTH": "-1", "LOG_LEVEL": "loud", "SECRET_ARN_ALLOWLIST": "prod-secret", "CALLER_RULES": "[{",
			"CACHE_STALE_IF_ERROR": "-1s",
		}, wantIn: []string{
			"CACHE_TTL", "CACHE_MAX_ENTRIES", "MAX_BODY_BYTES", "MAX_MASKS", "MAX_DEPTH", "LOG_LEVEL",
			"SECRET_ARN_ALLOWLIST", "CALLER_RULES", "CACHE_STALE_IF_ERROR",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := config.Load(env(tt.vars), testDefaults)
			if err == nil {
				t.Fatalf("no error; Config = %+v", got)
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if !reflect.DeepEqual(got, config.Config{}) {
				t.Errorf("a failed Load returned %+v, want the zero Config", got)
			}
		})
	}
}

// Each problem is reported on its own line of the joined error, so an
// operator sees all of them in the cold start's log.
func TestLoadErrorsOnePerVariable(t *testing.T) {
	t.Parallel()
	_, err := config.Load(env(map[string]string{"CACHE_TTL": "banana", "MAX_MASKS": "0", "LOG_LEVEL": "loud"}), testDefaults)
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 {
		t.Fatalf("error has %d lines, want 3:\n%v", len(lines), err)
	}
	for i, name := range []string{"CACHE_TTL", "MAX_MASKS", "LOG_LEVEL"} {
		if !strings.Contains(lines[i], name) {
			t.Errorf("line %d = %q, want it to name %s", i, lines[i], name)
		}
	}
}

func TestStrictLevelsAndRules(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"info+2", "WARN-4", "loud"} {
		if _, err := config.ParseLogLevel(v); err == nil {
			t.Errorf("ParseLogLevel(%q) accepted", v)
		}
	}
	for v, want := range map[string]slog.Level{"DEBUG": slog.LevelDebug, "TRACE": slog.LevelDebug, "Info": slog.LevelInfo, "warn": slog.LevelWarn, "FATAL": slog.LevelError} {
		if got, err := config.ParseLogLevel(v); err != nil || got != want {
			t.Errorf("ParseLogLevel(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"[]", "null"} {
		_, err := config.Load(func(k string) (string, bool) { return v, k == "CALLER_RULES" }, testDefaults)
		if err == nil || !strings.Contains(err.Error(), "CALLER_RULES") {
			t.Errorf("CALLER_RULES=%s: err = %v, want an error naming the variable", v, err)
		}
	}
}

func TestMetricsNamespace(t *testing.T) {
	t.Parallel()
	for v, ok := range map[string]bool{"acme/maskresolver": true, "a.b-c_d#e:f": true, "has space": false, "naïve": false} {
		c, err := config.Load(func(k string) (string, bool) { return v, k == "METRICS_NAMESPACE" }, testDefaults)
		if (err == nil) != ok || (ok && c.MetricsNamespace != v) {
			t.Errorf("METRICS_NAMESPACE=%q: %+v, %v", v, c.MetricsNamespace, err)
		}
		if err != nil && !strings.Contains(err.Error(), "METRICS_NAMESPACE") {
			t.Errorf("error does not name the variable: %v", err)
		}
	}
}

// Variables names exactly what Load reads: each, set to a bad value,
// is reported by name.
func TestVariablesListed(t *testing.T) {
	t.Parallel()
	for _, name := range config.Variables {
		bad := "\x00not valid for any setting\x00"
		_, err := config.Load(env(map[string]string{name: bad}), testDefaults)
		if err == nil || !strings.Contains(err.Error(), name) {
			// METRICS_NAMESPACE and LOG_LEVEL reject it too; a variable
			// Load ignored would not be named.
			t.Errorf("%s=%q: %v; want an error naming it", name, bad, err)
		}
	}
}
