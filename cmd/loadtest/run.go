package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// config is the load test's settings; main fills them from flags.
type config struct {
	duration       time.Duration
	concurrency    int
	maxRequests    int64 // 0: unbounded in count
	requestTimeout time.Duration
	url, statsURL  string // a running devserver; "" starts one
	payload        string // a fixed request body file, or "" for the mix

	seed              string // the devserver's seed file, extended with extraSecrets
	extraSecrets      int
	devserver         string
	rie               string
	bootstrap         string
	environments      int
	smLatency         time.Duration
	smThrottlePercent float64
	cacheTTL          time.Duration
	keepLogs          bool

	out io.Writer // the report
}

// Defaults of `make load`.
const (
	defaultDuration       = 20 * time.Second
	defaultConcurrency    = 32
	defaultRequestTimeout = 30 * time.Second // API Gateway's integration limit
	defaultEnvironments   = 4
	defaultSMLatency      = 20 * time.Millisecond
	defaultThrottle       = 3 // percent
	defaultCacheTTL       = 5 * time.Second
	defaultExtraSecrets   = 20
)

func defaultConfig() config {
	return config{
		duration:          defaultDuration,
		concurrency:       defaultConcurrency,
		requestTimeout:    defaultRequestTimeout,
		seed:              "events/secrets.json",
		extraSecrets:      defaultExtraSecrets,
		devserver:         "build/devserver",
		rie:               "build/aws-lambda-rie",
		bootstrap:         "build/local/bootstrap",
		environments:      defaultEnvironments,
		smLatency:         defaultSMLatency,
		smThrottlePercent: defaultThrottle,
		cacheTTL:          defaultCacheTTL,
		out:               io.Discard,
	}
}

// maxDuration keeps a typo (-duration 20m) from holding the machine.
const maxDuration = 10 * time.Minute

func (c *config) validate() error {
	switch {
	case c.duration <= 0 || c.duration > maxDuration:
		return fmt.Errorf("-duration %s: want more than 0 and at most %s", c.duration, maxDuration)
	case c.concurrency < 1 || c.concurrency > 1024:
		return fmt.Errorf("-concurrency %d: want 1 to 1024", c.concurrency)
	case c.maxRequests < 0:
		return fmt.Errorf("-max-requests %d: want 0 or more", c.maxRequests)
	case c.requestTimeout <= 0:
		return fmt.Errorf("-request-timeout %s: want more than 0", c.requestTimeout)
	case c.environments < 1 || c.environments > 64:
		return fmt.Errorf("-environments %d: want 1 to 64", c.environments)
	case c.smThrottlePercent < 0 || c.smThrottlePercent > 100:
		return fmt.Errorf("-sm-throttle-percent %g: want 0 to 100", c.smThrottlePercent)
	case c.cacheTTL <= 0:
		return fmt.Errorf("-cache-ttl %s: want more than 0", c.cacheTTL)
	case c.extraSecrets < 0 || c.extraSecrets > 1000:
		return fmt.Errorf("-extra-secrets %d: want 0 to 1000", c.extraSecrets)
	case c.statsURL != "" && c.url == "":
		return errors.New("-stats-url goes with -url")
	}
	for _, u := range []string{c.url, c.statsURL} {
		if u == "" {
			continue
		}
		if err := checkLoopbackURL(u); err != nil {
			return err
		}
	}
	return nil
}

// checkLoopbackURL refuses a URL whose host is not a loopback address: the
// load test must never be pointed at a deployed API or another machine.
// The client's dialer checks again each address it connects to.
func checkLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("url %q: %w", raw, err)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("url %q: want http:// on a loopback address", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("url %q: the host is not a loopback address; the load test runs against the local devserver only", raw)
	}
	return nil
}

// run is the whole load test: start the devserver (unless c.url names a
// running one), load it, stop it and report. It returns an error only when
// the test could not run; what the run found is in the result.
func run(ctx context.Context, c config) (*result, error) {
	res := &result{cfg: c}
	var mix *mix
	var ds *devserverProc
	target, statsURL := c.url, c.statsURL
	var dir string
	if c.url == "" {
		var err error
		if dir, err = os.MkdirTemp("", "loadtest-"); err != nil {
			return nil, err
		}
		seedPath := filepath.Join(dir, "secrets.json")
		if mix, err = newMix(c.seed, c.extraSecrets, seedPath); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if ds, err = startDevserver(ctx, c, seedPath, dir); err != nil {
			fmt.Fprintf(c.out, "loadtest: the devserver's log is in %s\n", dir)
			return nil, err
		}
		target, statsURL = ds.frontURL+resolvePath, ds.statsURL
		res.started = ds.started
	} else {
		res.started = time.Now()
	}
	if c.payload != "" {
		var err error
		if mix, err = fixedMix(c.payload); err != nil {
			if ds != nil {
				ds.stop()
			}
			return nil, err
		}
	}
	res.target = target
	res.mix = mix

	client := newClient(c)
	st := &statsClient{client: client, url: statsURL}
	sampler := newSampler(st, ds)
	res.load = runLoad(ctx, c, client, target, mix, sampler)
	sampler.wait()
	res.memory = sampler.samples()

	if statsURL != "" {
		// Even after a Ctrl-C: the counts so far still belong in the report.
		s, err := st.get(context.WithoutCancel(ctx))
		if err != nil {
			res.fail("read the devserver's stats: %v", err)
		} else {
			res.stats = s
		}
	}
	res.elapsed = time.Since(res.started)
	client.CloseIdleConnections()

	if ds != nil {
		res.devserverErr = ds.stop()
		res.devserverLog = ds.reportLines()
	}
	res.check()
	res.print(c.out)
	if dir != "" {
		if c.keepLogs || !res.passed() {
			fmt.Fprintf(c.out, "the devserver's log and the seed file are in %s\n", dir)
		} else {
			os.RemoveAll(dir)
		}
	}
	return res, nil
}
