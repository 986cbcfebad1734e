package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Defaults of the flags. The default run is 40 environments standing for
// 1,000 and takes seconds.
const (
	defaultEnvironments = 40
	defaultSecrets      = 25
	defaultTTL          = 2 * time.Second
	defaultRate         = 5
	defaultRotate       = 0.25
	// defaultSlack covers a read the double answered with the old value
	// just before the rotation and whose answer reached the cache just
	// after: its entry expires a TTL after it landed, not after the Put.
	defaultSlack = 250 * time.Millisecond
	// defaultInvokeTimeout is the template's function timeout.
	defaultInvokeTimeout = 15 * time.Second
	defaultTimeout       = 3 * time.Minute
	// maxSecretsPerRequest keeps the masks of one request within the
	// function's default MAX_MASKS.
	maxSecretsPerRequest = 1000
	// referenceFleet is the fleet a run stands for: the 1,000
	// environments Lambda may add in ten seconds, all cold after a deploy.
	referenceFleet = 1000
)

// Scenario names, in their default order.
const (
	scenarioStorm    = "storm"
	scenarioSteady   = "steady"
	scenarioBaseline = "baseline"
)

var allScenarios = []string{scenarioStorm, scenarioSteady, scenarioBaseline}

type config struct {
	environments  int
	quotaScale    float64 // 0 until complete: environments/referenceFleet
	secrets       int
	scenarios     []string
	ttl           time.Duration
	rate          float64
	duration      time.Duration // 0 until complete: 3×ttl+1s
	rotate        float64
	slack         time.Duration
	retryMode     string
	invokeTimeout time.Duration
	timeout       time.Duration
	json          bool
}

func defaultConfig() config {
	return config{
		environments:  defaultEnvironments,
		secrets:       defaultSecrets,
		scenarios:     slices.Clone(allScenarios),
		ttl:           defaultTTL,
		rate:          defaultRate,
		rotate:        defaultRotate,
		slack:         defaultSlack,
		retryMode:     "standard",
		invokeTimeout: defaultInvokeTimeout,
		timeout:       defaultTimeout,
	}
}

// complete fills the defaults that depend on other settings and reports
// every bad setting at once.
func (c *config) complete() error {
	if c.quotaScale == 0 {
		c.quotaScale = float64(c.environments) / referenceFleet
	}
	if c.duration == 0 {
		c.duration = 3*c.ttl + time.Second
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.environments < 1 {
		bad("-environments %d: need at least 1", c.environments)
	}
	if !(c.quotaScale > 0) {
		bad("-quota-scale %g: must be positive", c.quotaScale)
	}
	if c.secrets < 1 || c.secrets > maxSecretsPerRequest {
		bad("-secrets %d: must be between 1 and %d", c.secrets, maxSecretsPerRequest)
	}
	seen := map[string]bool{}
	for i, s := range c.scenarios {
		s = strings.TrimSpace(s)
		c.scenarios[i] = s
		switch {
		case !slices.Contains(allScenarios, s):
			bad("-scenarios: unknown scenario %q (know %s)", s, strings.Join(allScenarios, ", "))
		case seen[s]:
			bad("-scenarios: %q named twice", s)
		}
		seen[s] = true
	}
	if c.ttl <= 0 {
		bad("-ttl %s: must be positive", c.ttl)
	}
	if !(c.rate > 0) {
		bad("-rate %g: must be positive", c.rate)
	}
	if c.duration <= c.ttl {
		// The rotation happens one TTL in; the check needs time after it.
		bad("-duration %s: must be longer than -ttl %s", c.duration, c.ttl)
	}
	if !(c.rotate >= 0 && c.rotate <= 1) {
		bad("-rotate %g: must be between 0 and 1", c.rotate)
	}
	if c.slack < 0 {
		bad("-slack %s: must not be negative", c.slack)
	}
	if c.retryMode != "standard" && c.retryMode != "adaptive" {
		bad("-retry-mode %q: must be standard or adaptive", c.retryMode)
	}
	if c.invokeTimeout <= 0 || c.timeout <= 0 {
		bad("-invoke-timeout and -timeout must be positive")
	}
	return errors.Join(errs...)
}
