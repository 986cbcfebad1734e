package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/maskresolver/maskresolver/internal/api"
	"github.com/maskresolver/maskresolver/internal/config"
	"github.com/maskresolver/maskresolver/internal/resolve"
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
// environment variables, read through lookup. It makes no network call:
// credentials and region clients are resolved on first use.
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
	if len(cfg.PrefetchSecrets) > 0 {
		prefetch(ctx, store, cfg.PrefetchSecrets, logger)
	}
	r := resolve.New(store,
		resolve.WithMaxMasks(cfg.MaxMasks),
		resolve.WithMaxDepth(cfg.MaxDepth),
		resolve.WithMaxStringBytes(cfg.MaxStringBytes),
		resolve.WithMaxSecrets(cfg.MaxSecrets),
		resolve.WithMaxResponseBytes(cfg.MaxResponseBytes),
	)
	return api.New(r,
		api.WithMaxBodyBytes(cfg.MaxBodyBytes),
		api.WithMaxResponseBytes(cfg.MaxResponseBytes),
		api.WithAccess(cfg.Allowed),
		api.WithLogger(logger),
		api.WithMetricsNamespace(cfg.MetricsNamespace),
	), nil
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
