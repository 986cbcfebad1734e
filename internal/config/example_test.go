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
