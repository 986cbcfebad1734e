package config_test

import (
	"fmt"
	"time"

	"github.com/maskresolver/maskresolver/internal/config"
)

// Load takes a lookup function (os.LookupEnv in the function, a map here)
// and the defaults of what the environment leaves unset, which app gathers
// from the packages that use them.
func ExampleLoad() {
	defaults := config.Defaults{
		CacheTTL: 5 * time.Minute, CacheMaxEntries: 1000, MaxMasks: 1000, MaxDepth: 64,
	}
	vars := map[string]string{
		"SECRET_ARN_ALLOWLIST": "arn:aws:secretsmanager:us-east-1:137149879143:secret:*",
		"CALLER_RULES":         `[{"callers": ["*"], "secrets": ["arn:aws:secretsmanager:*:secret:shared/*"]}]`,
		"CACHE_TTL":            "2m",
		"LOG_LEVEL":            "debug",
	}
	cfg, err := config.Load(func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}, defaults)
	if err != nil {
		panic(err)
	}
	fmt.Println(cfg.CacheTTL, cfg.CacheMaxEntries, cfg.MaxDepth, cfg.LogLevel)
	// A direct invocation has no caller: only the "*" rule can let it in.
	fmt.Println(cfg.Allowed("", "arn:aws:secretsmanager:us-east-1:137149879143:secret:shared/token-AbC123"))
	fmt.Println(cfg.Allowed("", "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod/db-AbC123"))

	_, err = config.Load(func(name string) (string, bool) {
		v, ok := map[string]string{"CACHE_TTL": "banana", "MAX_MASKS": "0"}[name]
		return v, ok
	}, defaults)
	fmt.Println(err)
	// Output:
	// 2m0s 1000 64 DEBUG
	// true
	// false
	// invalid configuration: CACHE_TTL="banana": not a Go duration such as 5m or 30s
	// MAX_MASKS="0": must be between 1 and 100000
}

// ParseScopes reads the document of SCOPES (at cold start, through Load) or
// of the secret SCOPES_SECRET_ARN names (on each re-read). A scope prints
// and logs without its external id.
func ExampleParseScopes() {
	doc := `{"tenant-a": {
		"role_arn": "arn:aws:iam::210987654321:role/maskresolver-reader",
		"external_id": "7d1c9f0e-tenant-a",
		"callers": ["arn:aws:iam::137149879143:role/app-*"],
		"secrets": ["arn:aws:secretsmanager:*:210987654321:secret:tenant-a/*"]
	}}`
	scopes, err := config.ParseScopes([]byte(doc), "SCOPES")
	if err != nil {
		panic(err)
	}
	s, ok := scopes.Get("tenant-a")
	fmt.Println(ok, s)
	fmt.Println(s.AllowsCaller("arn:aws:iam::137149879143:role/app-billing", false), s.AllowsCaller("", true))
	fmt.Println(s.AllowsSecret("arn:aws:secretsmanager:eu-west-1:210987654321:secret:tenant-a/db-AbCdEf"))
	fmt.Println(config.RoleSessionName("maskresolver-prod", s.Name))

	_, err = config.ParseScopes([]byte(`{"tenant-a": {"role_arn": "arn:aws:iam::210987654321:role/r",
		"external-id": "7d1c9f0e-tenant-a", "callers": ["*"], "secrets": ["*"]}}`), "SCOPES")
	fmt.Println(err)
	// Output:
	// true scope tenant-a: role arn:aws:iam::210987654321:role/maskresolver-reader, external id [redacted], callers [arn:aws:iam::137149879143:role/app-*], secrets [arn:aws:secretsmanager:*:210987654321:secret:tenant-a/*]
	// true false
	// true
	// maskresolver-prod@tenant-a
	// SCOPES: scope "tenant-a": member 2 is not one of role_arn, external_id, callers, secrets
}
