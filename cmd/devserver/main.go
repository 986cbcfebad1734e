// Command devserver runs the maskresolver function locally behind an
// API-Gateway-like HTTP front, with no AWS account: the built bootstrap runs
// under the Lambda Runtime Interface Emulator (what `sam local` runs in its
// container) and reads secrets from the Secrets Manager double seeded from
// events/secrets.json. `make run` starts it.
//
// With -environments N the front spreads requests over N emulators, as
// Lambda scales out to several execution environments, each with its own
// cache. -sm-latency and -sm-throttle-percent make the double slow and
// throttling, and -stats-addr serves its call counts: `make load` uses them.
// -sm-quota-scale makes the double meter calls as AWS meters an account,
// scaled to the environments at hand: with -environments 40,
// -sm-quota-scale 0.04 gives each its share of a fleet of 1,000.
//
// With -invoke it instead posts each matching event file straight to the
// function, as `sam local invoke -e` does, prints the results and exits.
//
// SECRETS_MANAGER=aws (or -secrets-manager=aws) skips the double: the
// function then reads secrets with the developer's credentials from AWS
// Secrets Manager, or from the endpoint AWS_ENDPOINT_URL_SECRETS_MANAGER
// names (a local emulator such as moto), as the SDK chooses; the
// devserver says which at start.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() { os.Exit(devserver()) }

func devserver() int {
	o := options{stdout: os.Stdout, logs: os.Stderr}
	sm := os.Getenv("SECRETS_MANAGER")
	if sm == "" {
		sm = smFake
	}
	flag.StringVar(&o.addr, "addr", "127.0.0.1:3000", "listen address of the HTTP front")
	flag.StringVar(&o.secrets, "secrets", "events/secrets.json", "seed file of the Secrets Manager double")
	flag.StringVar(&o.bootstrap, "bootstrap", "build/local/bootstrap", "the function built for this host (make build-local)")
	flag.StringVar(&o.rie, "rie", "", "a prebuilt aws-lambda-rie binary (default: go tool aws-lambda-rie)")
	flag.StringVar(&o.secretsManager, "secrets-manager", sm, `"fake" (the double) or "aws" (AWS's service, or the endpoint AWS_ENDPOINT_URL_SECRETS_MANAGER names; default from SECRETS_MANAGER)`)
	flag.StringVar(&o.caller, "caller", "arn:aws:iam::137149879143:role/local-developer", "IAM principal ARN the front reports as the SigV4 caller")
	flag.StringVar(&o.envVars, "env-vars", "", "a SAM --env-vars JSON file for the function (e.g. events/env.json)")
	flag.StringVar(&o.function, "function", "ResolverFunction", "the function's logical id in the -env-vars file")
	flag.StringVar(&o.invoke, "invoke", "", "invoke each event file matching this glob (e.g. 'events/*.json') and exit")
	flag.IntVar(&o.environments, "environments", 1, "execution environments (emulators, each with its own function process and cache) behind the front")
	flag.DurationVar(&o.smLatency, "sm-latency", 0, "delay every answer of the Secrets Manager double by this much")
	flag.Float64Var(&o.smThrottlePercent, "sm-throttle-percent", 0, "answer this share (in percent) of the double's requests with ThrottlingException")
	flag.Float64Var(&o.smQuotaScale, "sm-quota-scale", 0, "enforce AWS's per-account Secrets Manager quotas times this on the double (1 is the real service; 0.04 lets 40 environments stand for 1,000; 0 meters nothing)")
	flag.DurationVar(&o.smQuotaBurst, "sm-quota-burst", time.Second, "how many seconds of its rate a full quota bucket holds (with -sm-quota-scale)")
	flag.StringVar(&o.statsAddr, "stats-addr", "", "serve GET /stats (the double's call counts, invocations and pids per environment) on this address, e.g. 127.0.0.1:0")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "devserver: unexpected arguments %q\n", flag.Args())
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		return 1
	}
	return 0
}
