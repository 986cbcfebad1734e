package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() { os.Exit(fleet()) }

func fleet() int {
	c := defaultConfig()
	var scenarios string
	flag.IntVar(&c.environments, "environments", c.environments, "simulated execution environments")
	flag.Float64Var(&c.quotaScale, "quota-scale", 0, "multiplier of AWS's Secrets Manager quotas (0: environments/1000, so that the fleet stands for 1,000 environments)")
	flag.IntVar(&c.secrets, "secrets", c.secrets, "secrets (one mask each) named by each environment's request")
	flag.IntVar(&c.scopes, "scopes", 0, "storm: spread the requests across this many scopes, each its own role and secrets (0: unscoped)")
	flag.StringVar(&scenarios, "scenarios", strings.Join(c.scenarios, ","), "comma-separated scenarios to run, in order: storm, steady, baseline")
	flag.DurationVar(&c.ttl, "ttl", c.ttl, "steady: the environments' CACHE_TTL")
	flag.Float64Var(&c.rate, "rate", c.rate, "steady: requests per second each environment sends")
	flag.DurationVar(&c.duration, "duration", 0, "steady: how long the traffic lasts (0: 3×ttl+1s)")
	flag.Float64Var(&c.rotate, "rotate", c.rotate, "steady: share of the secrets rotated one TTL into the traffic")
	flag.DurationVar(&c.slack, "slack", c.slack, "steady: time past rotation+TTL allowed for reads in flight across the rotation")
	flag.StringVar(&c.retryMode, "retry-mode", c.retryMode, "AWS_RETRY_MODE of every environment: standard or adaptive")
	flag.DurationVar(&c.invokeTimeout, "invoke-timeout", c.invokeTimeout, "the function's timeout: each invocation's deadline")
	flag.DurationVar(&c.timeout, "timeout", c.timeout, "stop the whole run after this long")
	flag.BoolVar(&c.json, "json", false, "print the report as one JSON object")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "fleet: unexpected arguments %q\n", flag.Args())
		return 2
	}
	c.scenarios = strings.Split(scenarios, ",")
	if err := c.complete(); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, c, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		return 1
	}
	if len(rep.Failures) > 0 {
		return 1
	}
	return 0
}
