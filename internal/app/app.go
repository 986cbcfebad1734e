package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/maskresolver/maskresolver/internal/api"
	"github.com/maskresolver/maskresolver/internal/config"
	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/scopes"
	"github.com/maskresolver/maskresolver/internal/secrets"
	"github.com/maskresolver/maskresolver/internal/telemetry"
)

// PrefetchBudget bounds the reads of PREFETCH_SECRETS during init, well
// inside Lambda's 10 s init limit: a slow Secrets Manager delays the
// start by at most this, and the secrets not read by then are read by the
// first requests instead.
const PrefetchBudget = 5 * time.Second

// AttemptTimeout bounds one HTTP attempt of a Secrets Manager call; a
// BatchGetSecretValue of 20 secrets normally replies in well under a second.
const AttemptTimeout = 3 * time.Second

type options struct {
	logOutput io.Writer
}

// Option configures New.
type Option func(*options)

// WithLogOutput sets where the JSON log lines go (os.Stdout by default,
// which is what Lambda captures).
func WithLogOutput(w io.Writer) Option { return func(o *options) { o.logOutput = w } }

// New builds the handler of one execution environment from its
// environment variables, read through lookup. It makes no network call
// but two: the reads of PREFETCH_SECRETS, and of SCOPES_SECRET_ARN, whose
// failure fails the cold start. Credentials and region clients are
// resolved on first use.
func New(ctx context.Context, lookup func(string) (string, bool), opts ...Option) (*api.Handler, error) {
	o := options{logOutput: os.Stdout}
	for _, fn := range opts {
		fn(&o)
	}
	cfg, err := config.Load(lookup, defaults())
	if err != nil {
		return nil, err
	}
	level := cfg.LogLevel
	if v, ok := lookup("AWS_LAMBDA_LOG_LEVEL"); ok && v != "" {
		if level, err = config.ParseLogLevel(v); err != nil {
			return nil, fmt.Errorf("AWS_LAMBDA_LOG_LEVEL=%q: %w", v, err)
		}
	}
	format, _ := lookup("AWS_LAMBDA_LOG_FORMAT")
	logger := slog.New(telemetry.NewLogHandler(o.logOutput, level, format))

	// Each attempt is bounded on its own, so a hung connection costs one
	// attempt and the retryer can still try again inside the request's
	// deadline.
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx,
		awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(AttemptTimeout)))
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	// Wrapped once the configuration has set the client up (a custom CA
	// bundle, for one, is applied through the buildable client).
	awsCfg.HTTPClient = bodyCopy{awsCfg.HTTPClient}
	if err := telemetry.Setup(&awsCfg, os.Stderr); err != nil {
		return nil, err
	}

	store, err := secrets.New(awsCfg,
		secrets.WithTTL(cfg.CacheTTL),
		secrets.WithMaxEntries(cfg.CacheMaxEntries),
		secrets.WithStaleIfError(cfg.CacheStaleIfError),
		secrets.WithNotFoundTTL(cfg.CacheNotFoundTTL),
		secrets.WithRefreshMinInterval(cfg.RefreshMinInterval),
		secrets.WithLogger(logger),
	)
	if err != nil {
		return nil, err
	}
	reg, err := newScopes(ctx, awsCfg, &cfg, lookup, logger)
	if err != nil {
		return nil, err
	}
	for _, a := range cfg.PrefetchSecrets {
		if reg.IsScopesSecret(a) {
			return nil, fmt.Errorf("invalid configuration: PREFETCH_SECRETS: %s is the scopes secret (SCOPES_SECRET_ARN), which is never resolved", a)
		}
	}
	if len(cfg.PrefetchSecrets) > 0 {
		prefetch(ctx, store, cfg.PrefetchSecrets, logger)
	}
	r := resolve.New(store,
		resolve.WithMaxMasks(cfg.MaxMasks),
		resolve.WithMaxDepth(cfg.MaxDepth),
		resolve.WithMaxStringBytes(cfg.MaxStringBytes),
		resolve.WithMaxSecrets(cfg.MaxSecrets),
		resolve.WithMaxResponseBytes(cfg.MaxResponseBytes),
		resolve.WithScopes(reg, func(key string, creds aws.CredentialsProvider) resolve.Store {
			return store.Partition(key, creds)
		}),
	)
	hopts := []api.Option{
		api.WithMaxBodyBytes(cfg.MaxBodyBytes),
		api.WithMaxResponseBytes(cfg.MaxResponseBytes),
		api.WithLogger(logger),
		api.WithMetricsNamespace(cfg.MetricsNamespace),
	}
	if cfg.Allowlist != nil {
		hopts = append(hopts, api.WithAllowlist(cfg.Allowlist.Match))
	}
	if cfg.CallerRules != nil {
		hopts = append(hopts, api.WithCallerRules(cfg.CallerAllowed))
	}
	return api.New(r, hopts...), nil
}

// newScopes builds the scopes of SCOPES or SCOPES_SECRET_ARN, nil when
// there are none. The STS client, like the Secrets Manager client that
// reads SCOPES_SECRET_ARN, is built from the function's aws.Config: it
// signs with the function's role, is traced like every SDK client, and
// retries as the store's reads do. An unreadable or invalid
// SCOPES_SECRET_ARN is an error, which names neither the document nor an
// external id.
func newScopes(ctx context.Context, awsCfg aws.Config, cfg *config.Config, lookup func(string) (string, bool), logger *slog.Logger) (*scopes.Registry, error) {
	if cfg.Scopes.Len() == 0 && cfg.ScopesSecretARN == "" {
		return nil, nil
	}
	client := sts.NewFromConfig(awsCfg, func(o *sts.Options) {
		if awsCfg.Retryer == nil {
			o.Retryer = secrets.NewRetryer(o.RetryMode)
		}
	})
	name, _ := lookup("AWS_LAMBDA_FUNCTION_NAME")
	opts := []scopes.Option{
		scopes.WithFunctionName(name),
		scopes.WithTTL(cfg.CacheTTL),
		scopes.WithRefusedTTL(cfg.CacheNotFoundTTL),
		scopes.WithLogger(logger),
	}
	if cfg.ScopesSecretARN != "" {
		sm := secretsmanager.NewFromConfig(awsCfg, func(o *secretsmanager.Options) {
			if awsCfg.Retryer == nil {
				o.Retryer = secrets.NewRetryer(o.RetryMode)
			}
		})
		opts = append(opts, scopes.WithScopesSecret(cfg.ScopesSecretARN, sm))
	} else {
		opts = append(opts, scopes.WithScopes(cfg.Scopes))
	}
	reg, err := scopes.New(ctx, client, opts...)
	if err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	return reg, nil
}

// defaults gathers the default of each setting from the package that uses
// it, so that each lives once and config knows none of them.
func defaults() config.Defaults {
	return config.Defaults{
		CacheTTL:           secrets.DefaultTTL,
		CacheMaxEntries:    secrets.DefaultMaxEntries,
		CacheStaleIfError:  secrets.DefaultStaleIfError,
		CacheNotFoundTTL:   secrets.DefaultNotFoundTTL,
		RefreshMinInterval: secrets.DefaultRefreshMinInterval,
		MaxBodyBytes:       api.DefaultMaxBodyBytes,
		MaxMasks:           resolve.DefaultMaxMasks,
		MaxDepth:           resolve.DefaultMaxDepth,
		MaxStringBytes:     resolve.DefaultMaxStringBytes,
		MaxSecrets:         resolve.DefaultMaxSecrets,
		MaxResponseBytes:   resolve.DefaultMaxResponseBytes,
		MetricsNamespace:   telemetry.DefaultNamespace,
	}
}

// prefetch warms the cache with PREFETCH_SECRETS. A secret that cannot be
// read does not fail the start (the store logs each failure at warn, by
// ARN and code): its first request reads it again and answers as usual.
func prefetch(ctx context.Context, store *secrets.Store, arns []string, logger *slog.Logger) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, PrefetchBudget)
	defer cancel()
	read, failed := store.Prefetch(ctx, arns)
	logger.LogAttrs(ctx, slog.LevelInfo, "prefetch",
		slog.Int("secrets", len(arns)), slog.Int("read", read), slog.Int("failed", len(failed)),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000))
}
