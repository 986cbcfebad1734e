// Command loadtest puts the function's local HTTP front under a bounded
// load and checks what a warm fleet must do: every answer right, Secrets
// Manager calls bounded by the caches, memory flat. `make load` runs it.
//
// By default it starts the devserver itself (as `make run` would, with
// several execution environments and a slow, sometimes throttling Secrets
// Manager double seeded with events/secrets.json and generated secrets),
// sends a mix of resolves, ten-mask resolves, dry runs and requests that
// must fail with KeyNotFound from -concurrency clients for -duration, then
// stops the devserver and reports throughput, latency percentiles, status
// counts, the double's call counts against their bound, and the memory of
// the devserver and of each function process sampled at the start, middle
// and end of the run. It exits 1 on any unexplained error (a transport
// error, an unexpected status, a wrong value or a malformed answer) or a
// violated bound; a 503 Throttled after the SDK's retries is an explained
// error, counted apart.
//
// With -url it loads a devserver already running instead (loopback only),
// and with -stats-url also checks that devserver's counts.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(loadtest()) }

func loadtest() int {
	c := defaultConfig()
	c.out = os.Stdout
	flag.DurationVar(&c.duration, "duration", c.duration, "how long to send requests")
	flag.IntVar(&c.concurrency, "concurrency", c.concurrency, "concurrent clients, each with one request in flight")
	flag.Int64Var(&c.maxRequests, "max-requests", 0, "stop after this many requests (0: only -duration bounds the run)")
	flag.DurationVar(&c.requestTimeout, "request-timeout", c.requestTimeout, "give up on one request after this long (an unexplained error)")
	flag.StringVar(&c.url, "url", "", "load this resolve URL of a running devserver (loopback only) instead of starting one")
	flag.StringVar(&c.statsURL, "stats-url", "", "with -url: that devserver's -stats-addr URL (http://127.0.0.1:PORT/stats)")
	flag.StringVar(&c.payload, "payload", "", "send this request body every time instead of the generated mix (200 answers are checked for shape only)")
	flag.StringVar(&c.seed, "seed", c.seed, "seed file of the double; its key/value secrets join the mix")
	flag.IntVar(&c.extraSecrets, "extra-secrets", c.extraSecrets, "generated secrets added to the seed for the mix")
	flag.StringVar(&c.devserver, "devserver", c.devserver, "the built devserver (make devserver)")
	flag.StringVar(&c.rie, "rie", c.rie, "the built aws-lambda-rie (make rie)")
	flag.StringVar(&c.bootstrap, "bootstrap", c.bootstrap, "the function built for this host (make build-local)")
	flag.IntVar(&c.environments, "environments", c.environments, "execution environments the devserver starts")
	flag.DurationVar(&c.smLatency, "sm-latency", c.smLatency, "latency of every call to the Secrets Manager double")
	flag.Float64Var(&c.smThrottlePercent, "sm-throttle-percent", c.smThrottlePercent, "share of Secrets Manager calls answered with ThrottlingException")
	flag.DurationVar(&c.cacheTTL, "cache-ttl", c.cacheTTL, "the function's CACHE_TTL, short enough for refreshes within the run")
	flag.BoolVar(&c.keepLogs, "keep-logs", false, "keep the devserver's log and seed file even when the run passes")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "loadtest: unexpected arguments %q\n", flag.Args())
		return 2
	}
	if err := c.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		return 1
	}
	if !res.passed() {
		return 1
	}
	return 0
}
