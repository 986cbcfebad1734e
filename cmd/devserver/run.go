package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/maskresolver/maskresolver/internal/loadreport"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// options are the devserver's settings; main fills them from flags.
type options struct {
	addr           string // the front's listen address
	secrets        string // seed file of the double
	bootstrap      string // the built function
	rie            string // a prebuilt emulator binary; "" runs `go tool aws-lambda-rie`
	secretsManager string // smFake or smAWS
	caller         string // principal ARN the IAM authorizer reports
	envVars        string // a SAM --env-vars file, or ""
	function       string // the function's logical id in that file
	invoke         string // a glob of event files: invoke each and exit

	// environments is how many execution environments (emulators, each
	// with its own function process and cache) serve the front; 0 means 1.
	environments int
	// smLatency delays every answer of the double.
	smLatency time.Duration
	// smThrottlePercent is the share of the double's requests answered
	// with ThrottlingException.
	smThrottlePercent float64
	// smQuotaScale, when above 0, makes the double enforce AWS's account
	// quotas times this: 1 is the real service, 0.04 lets 40 environments
	// stand for 1,000 drawing on one account.
	smQuotaScale float64
	// smQuotaBurst is how many seconds of its rate a full quota bucket
	// holds; 0 means smfake's default of one second.
	smQuotaBurst time.Duration
	// statsAddr, when set, is where GET /stats reports the double's call
	// counts and the environments' invocations and process ids.
	statsAddr string

	stdout io.Writer // the URL, the curl lines, invoke results
	logs   io.Writer // the emulator's and the function's output
	// ready, when set, is told the front's and the first emulator's URLs
	// once both accept requests.
	ready func(frontURL, emulatorURL string)
}

const shutdownTimeout = 5 * time.Second

// run starts the double (unless the real service is asked for), the
// function under one emulator per environment and, unless o.invoke is set,
// the front. It returns when ctx ends or a part fails, after stopping every
// part.
func run(ctx context.Context, o options) (err error) {
	if err := o.check(); err != nil {
		return err
	}
	n := max(o.environments, 1)
	st := &statsSource{quotas: o.smQuotaScale > 0}
	env := os.Environ()
	configured := "" // the Secrets Manager endpoint the shared config names
	switch o.secretsManager {
	case smFake, "":
		sm, throttle, err := newDouble(o)
		if err != nil {
			return err
		}
		if st.seeded, err = seedARNs(o.secrets); err != nil {
			return err
		}
		st.sm, st.throttle = sm, throttle
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("listen for the Secrets Manager double: %w", err)
		}
		srv := &http.Server{Handler: sm, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(l) }()
		defer srv.Close()
		smURL := "http://" + l.Addr().String()
		fmt.Fprintf(o.logs, "devserver: Secrets Manager double on %s, seeded from %s%s\n", smURL, o.secrets, faultNote(o))
		env = doubleEnv(env, smURL)
	case smAWS:
		if env, configured, err = awsEnv(ctx, env); err != nil {
			return err
		}
	}
	if env, err = withEnvVars(env, o.envVars, o.function); err != nil {
		return err
	}
	var real *secretsManager // nil when the double serves
	if o.secretsManager == smAWS {
		sm := realSecretsManager(env, configured)
		real = &sm
		fmt.Fprintf(o.logs, "devserver: the function calls %s\n", sm)
	}

	if o.invoke != "" {
		// Event files go one after another: one environment serves them.
		n = 1
	}
	emus, err := startEmulators(ctx, n, o.rie, o.bootstrap, env, o.logs)
	if err != nil {
		return err
	}
	defer stopEmulators(emus)
	st.emus = emus
	st.bootstrap, _ = filepath.Abs(o.bootstrap)

	if o.invoke != "" {
		if o.ready != nil {
			o.ready("", emus[0].url)
		}
		return invokeFiles(ctx, emus[0].url, o.invoke, []string{o.secrets, o.envVars}, o.stdout)
	}

	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	urls := make([]string, len(emus))
	for i, e := range emus {
		urls[i] = e.url
	}
	fr := newFront(urls, o.caller)
	st.front = fr
	srv := &http.Server{
		Handler:           fr,
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	frontURL := "http://" + l.Addr().String()

	statsURL := ""
	if o.statsAddr != "" {
		sl, err := net.Listen("tcp", o.statsAddr)
		if err != nil {
			srv.Close()
			return fmt.Errorf("listen on %s: %w", o.statsAddr, err)
		}
		ssrv := &http.Server{Handler: st, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = ssrv.Serve(sl) }()
		defer ssrv.Close()
		statsURL = "http://" + sl.Addr().String() + loadreport.StatsPath
	}
	printUsage(o.stdout, frontURL, statsURL, real)
	if o.ready != nil {
		o.ready(frontURL, emus[0].url)
	}

	died := make(chan *emulator, len(emus))
	for _, e := range emus {
		go func() {
			<-e.done
			died <- e
		}()
	}
	select {
	case <-ctx.Done():
	case err = <-served:
		err = fmt.Errorf("serve: %w", err)
	case e := <-died:
		err = fmt.Errorf("%w: %s: %v", errEmulatorExited, e.url, e.err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		srv.Close()
	}
	// An invocation whose client has gone may still be running: it ends
	// when its emulator stops.
	stopEmulators(emus)
	fr.wait()
	st.report(o.logs)
	return err
}

// check reports the first setting run cannot work with, before anything
// is started.
func (o options) check() error {
	switch {
	case o.environments < 0:
		return fmt.Errorf("environments %d: want at least 1", o.environments)
	case !(o.smThrottlePercent >= 0 && o.smThrottlePercent <= 100):
		return fmt.Errorf("sm-throttle-percent %g: want 0 to 100", o.smThrottlePercent)
	case o.smLatency < 0:
		return fmt.Errorf("sm-latency %s: want 0 or more", o.smLatency)
	case !(o.smQuotaScale >= 0) || math.IsInf(o.smQuotaScale, 1):
		return fmt.Errorf("sm-quota-scale %g: want 0 (no quotas) or more", o.smQuotaScale)
	case o.smQuotaBurst < 0:
		return fmt.Errorf("sm-quota-burst %s: want 0 or more", o.smQuotaBurst)
	}
	switch o.secretsManager {
	case smFake, "":
	case smAWS:
		if o.smLatency > 0 || o.smThrottlePercent > 0 || o.smQuotaScale > 0 {
			return errors.New("sm-latency, sm-throttle-percent and sm-quota-scale act on the double: not with the real Secrets Manager")
		}
	default:
		return fmt.Errorf("secrets manager %q: want %q or %q", o.secretsManager, smFake, smAWS)
	}
	return nil
}

// quotas are the rates the double enforces when o.smQuotaScale is above 0.
func (o options) quotas() smfake.Quotas {
	q := smfake.AccountQuotas(o.smQuotaScale)
	if o.smQuotaBurst > 0 {
		q.Burst = o.smQuotaBurst
	}
	return q
}

// newDouble builds the Secrets Manager double seeded from o.secrets, with
// the latency, throttling and quotas o asks for. It returns the fault that
// throttles -sm-throttle-percent of the calls, or nil, for /stats to
// count.
func newDouble(o options) (*smfake.Server, *smfake.Injected, error) {
	var opts []smfake.Option
	if o.smQuotaScale > 0 {
		opts = append(opts, smfake.WithQuotas(o.quotas()))
	}
	sm := smfake.New(opts...)
	if err := sm.LoadFile(o.secrets); err != nil {
		return nil, nil, err
	}
	var throttle *smfake.Injected
	if o.smThrottlePercent > 0 {
		// Injected before the latency, so that a throttled call is
		// answered at once, as Secrets Manager answers past its rate; a
		// call it passes over goes on to the latency fault.
		throttle = sm.Inject(smfake.Fault{Code: "ThrottlingException", Percent: o.smThrottlePercent})
	}
	if o.smLatency > 0 {
		sm.Inject(smfake.Fault{Latency: o.smLatency})
	}
	return sm, throttle, nil
}

// startEmulators starts n emulators one after another (each picks its own
// free ports), and stops those already started if one fails.
func startEmulators(ctx context.Context, n int, rie, bootstrap string, env []string, logs io.Writer) ([]*emulator, error) {
	emus := make([]*emulator, 0, n)
	for range n {
		e, err := startEmulator(ctx, rie, bootstrap, env, logs)
		if err != nil {
			stopEmulators(emus)
			return nil, err
		}
		emus = append(emus, e)
	}
	return emus, nil
}

// stopEmulators stops every emulator at once, so that shutting down several
// takes the time of the slowest rather than the sum.
func stopEmulators(emus []*emulator) {
	var wg sync.WaitGroup
	for _, e := range emus {
		wg.Go(e.stop)
	}
	wg.Wait()
}

func faultNote(o options) string {
	var parts []string
	if o.smLatency > 0 {
		parts = append(parts, fmt.Sprintf("%s latency on every call", o.smLatency))
	}
	if o.smThrottlePercent > 0 {
		parts = append(parts, fmt.Sprintf("%g%% of calls throttled", o.smThrottlePercent))
	}
	if o.smQuotaScale > 0 {
		q := o.quotas()
		parts = append(parts, fmt.Sprintf("%g× AWS's quotas: BatchGetSecretValue %g/s, GetSecretValue+DescribeSecret %g/s, %s burst",
			o.smQuotaScale, q.Batch, q.Read, q.Burst))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// seedMask is the first secret of events/secrets.json.
const seedMask = "{{workato:sm:prod.jira.secret.key:arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-jira-credentials-FsmeTs}}"

// anyMask is the mask grammar with its two parts to fill in, for a
// Secrets Manager whose secrets the devserver does not know.
const anyMask = "{{workato:sm:<key>:<secret ARN>}}"

// printUsage tells how to call the front at url. Against the double it
// resolves the seed example; against another Secrets Manager (real, nil
// for the double) the seed's secret does not exist, so it shows the mask
// to fill in and how to list the ARNs of the secrets there.
func printUsage(w io.Writer, url, statsURL string, real *secretsManager) {
	mask := seedMask
	fmt.Fprintf(w, "maskresolver is listening on %s/v1/resolve\n\n", url)
	if real == nil {
		fmt.Fprintln(w, "Resolve the seed example:")
	} else {
		mask = anyMask
		fmt.Fprintln(w, "Resolve a key of one of your secrets (fill in the key, a member of its JSON SecretString, and its ARN):")
	}
	body := `{"connection":{"client_secret":"` + mask + `"}}`
	dry := `{"connection":{"client_secret":"` + mask + `"},"dry_run":true}`
	fmt.Fprintf(w, "  curl -s -X POST %s/v1/resolve -H 'content-type: application/json' -d '%s'\n\n", url, body)
	fmt.Fprintf(w, "Verify it without returning the value (dry run):\n  curl -s -X POST %s/v1/resolve -H 'content-type: application/json' -d '%s'\n\n", url, dry)
	if real != nil {
		endpoint := ""
		if real.endpoint != "" {
			endpoint = " --endpoint-url " + real.endpoint
		}
		fmt.Fprintf(w, "The ARNs of your secrets there:\n  aws secretsmanager list-secrets%s --region %s --query 'SecretList[].ARN'\n\n", endpoint, real.region)
	}
	if statsURL != "" {
		fmt.Fprintf(w, "Secrets Manager calls and invocations per environment:\n  curl -s %s\n\n", statsURL)
	}
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
}
