package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/maskresolver/maskresolver/internal/smfake"
)

// fleetRun is the state the scenarios share: one double, one pool of
// secrets, one set of quotas.
type fleetRun struct {
	cfg  config
	srv  *smfake.Server
	hs   *httptest.Server
	pool *pool
	q    smfake.Quotas
	// scopes are the -scopes scopes, and sts counts the AssumeRole
	// calls; both nil without.
	scopes []*fleetScope
	sts    *stsCounter
}

// run sets up the double and the process environment, runs the scenarios
// in order and writes the report to out.
func run(ctx context.Context, c config, out io.Writer) (*Report, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	// Both ends of every connection live in this process.
	limit, note := raiseOpenFiles(uint64(2*c.environments*c.secrets + 256))

	q := smfake.AccountQuotas(c.quotaScale)
	srv := smfake.New(smfake.WithQuotas(q))
	var acceptErrors atomic.Int64
	var handler http.Handler = srv
	var sts *stsCounter
	if c.scopes > 0 {
		sts = newSTSCounter(srv)
		handler = sts
	}
	hs := httptest.NewUnstartedServer(handler) // 127.0.0.1, an ephemeral port
	// An accept that fails for want of descriptors is logged by net/http
	// and retried: count it instead, as the machine's limit at work.
	hs.Config.ErrorLog = log.New(matchCounter{"too many open files", &acceptErrors}, "", 0)
	hs.Start()
	defer hs.Close()

	if err := setProcessEnv(hs.URL, c.retryMode); err != nil {
		return nil, err
	}
	p, err := seedPool(srv, poolFactor*c.secrets)
	if err != nil {
		return nil, err
	}
	f := &fleetRun{cfg: c, srv: srv, hs: hs, pool: p, q: q, sts: sts}
	if c.scopes > 0 {
		nonce := make([]byte, 6)
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("nonce: %w", err)
		}
		if f.scopes, err = setupScopes(srv, c.scopes, poolFactor*c.secrets, nonce); err != nil {
			return nil, err
		}
	}
	rep := &Report{
		Environments:      c.environments,
		QuotaScale:        c.quotaScale,
		StandsFor:         float64(c.environments) / c.quotaScale,
		Quotas:            quotaReport{BatchPerSecond: q.Batch, ReadPerSecond: q.Read, BurstSeconds: q.Burst.Seconds()},
		SecretsPerRequest: c.secrets,
		Scopes:            c.scopes,
		GOMAXPROCS:        runtime.GOMAXPROCS(0),
		RetryMode:         c.retryMode,
		OpenFilesLimit:    limit,
		OpenFilesNote:     note,
		Failures:          []string{},
	}
	for _, name := range c.scenarios {
		if err := ctx.Err(); err != nil {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s not run: the run's -timeout %s ran out", name, c.timeout))
			continue
		}
		var s *ScenarioReport
		switch name {
		case scenarioStorm:
			s, err = f.storm(ctx)
		case scenarioSteady:
			s, err = f.steady(ctx)
		case scenarioBaseline:
			s, err = f.baseline(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rep.Scenarios = append(rep.Scenarios, s)
		rep.Failures = append(rep.Failures, verdict(s)...)
		if s.Scopes != nil {
			rep.Failures = append(rep.Failures, scopeFailures(s.Name, s.Scopes)...)
		}
		if ctx.Err() != nil {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%s: the run's -timeout %s ran out during the scenario", name, c.timeout))
		}
		// The environments are dropped; so are their connections, which
		// would otherwise hold descriptors into the next scenario.
		hs.CloseClientConnections()
	}
	rep.AcceptErrors = int(acceptErrors.Load())

	if c.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return rep, enc.Encode(rep)
	}
	rep.printText(out)
	return rep, nil
}

// verdict lists what a scenario got wrong. The baseline is expected to
// fail requests; only wrong values count against it.
func verdict(s *ScenarioReport) []string {
	var fails []string
	if s.WrongValues > 0 {
		fails = append(fails, fmt.Sprintf("%s: %d of %d values checked were wrong", s.Name, s.WrongValues, s.ValuesChecked))
	}
	if s.Name == scenarioBaseline {
		return fails
	}
	if n := s.Requests - s.Status["200"]; n > 0 {
		fails = append(fails, fmt.Sprintf("%s: %d of %d answers were not 200 (%s)", s.Name, n, s.Requests, statusLine(s.Status)))
	}
	if st := s.Steady; st != nil {
		if st.WarmupStatus["200"] != s.Environments {
			fails = append(fails, fmt.Sprintf("%s: the warm-up answered %s", s.Name, statusLine(st.WarmupStatus)))
		}
		if st.OldAfterBound > 0 {
			fails = append(fails, fmt.Sprintf("%s: %d answers carried a rotated secret's old value after rotation+TTL", s.Name, st.OldAfterBound))
		}
		if st.Rotated > 0 && st.AnswersAfterBound == 0 {
			fails = append(fails, fmt.Sprintf("%s: no request was sent after rotation+TTL+slack; lengthen -duration", s.Name))
		}
	}
	return fails
}

// fleetKey is the access key id of the environments' dummy credentials
// (with -scopes, each environment of the function has its own: envKey).
const fleetKey = "AKIDFLEET"

// awsEnv is the process environment every environment's SDK reads: the
// double's endpoint (for STS's AssumeRole too), dummy credentials, no
// instance metadata, and no shared config files, so that a developer's
// ~/.aws (a profile, a retry_mode, max_attempts) cannot change what is
// measured.
func awsEnv(endpoint, retryMode string) map[string]string {
	return map[string]string{
		"AWS_REGION":                       region,
		"AWS_ACCESS_KEY_ID":                fleetKey,
		"AWS_SECRET_ACCESS_KEY":            "fleet",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
		"AWS_ENDPOINT_URL_STS":             endpoint,
		"AWS_EC2_METADATA_DISABLED":        "true",
		"AWS_XRAY_CONTEXT_MISSING":         "IGNORE_ERROR",
		"AWS_RETRY_MODE":                   retryMode,
		"AWS_CONFIG_FILE":                  os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE":      os.DevNull,
	}
}

// unsetAWS are variables that could send the SDK after other credentials,
// another endpoint or another retry policy.
var unsetAWS = []string{
	"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_DEFAULT_REGION",
	"AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_MAX_ATTEMPTS",
}

// setProcessEnv sets the process environment once, before any environment
// is built: awsconfig.LoadDefaultConfig reads it, not the lookup app.New is
// given.
func setProcessEnv(endpoint, retryMode string) error {
	for _, k := range unsetAWS {
		if err := os.Unsetenv(k); err != nil {
			return err
		}
	}
	for k, v := range awsEnv(endpoint, retryMode) {
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	return nil
}

// appVars are the function's environment variables in a scenario: only
// what the scenario needs differs from the template's defaults. With
// -scopes every environment has the scopes.
func (f *fleetRun) appVars(ttl time.Duration) (map[string]string, error) {
	v := map[string]string{
		"LOG_LEVEL":         "info",
		"METRICS_NAMESPACE": "fleet",
		"MAX_SECRETS":       strconv.Itoa(max(f.cfg.secrets, 100)),
	}
	if ttl > 0 {
		v["CACHE_TTL"] = ttl.String()
	}
	if len(f.scopes) > 0 {
		doc, err := scopesVar(f.scopes)
		if err != nil {
			return nil, err
		}
		v["SCOPES"] = doc
	}
	return v, nil
}

// reset gives a scenario a fresh account: full quota buckets and zeroed
// counters.
func (f *fleetRun) reset() {
	f.srv.SetQuotas(f.q)
	f.srv.ResetCalls()
}

// resetSTS zeroes the AssumeRole counts, if the fleet has scopes.
func (f *fleetRun) resetSTS() {
	if f.sts != nil {
		f.sts.reset()
	}
}

// measure fills what the double and the machine saw since reset.
func (f *fleetRun) measure(s *ScenarioReport, wall time.Duration, cpu0 time.Duration) {
	s.Calls, s.Throttled = map[string]int{}, map[string]int{}
	for _, op := range operations {
		s.Calls[op] = f.srv.Calls(op)
		s.Throttled[op] = f.srv.Throttled(op)
	}
	for _, arn := range f.pool.arns {
		s.SecretReads += f.srv.SecretReads(arn)
	}
	for _, sc := range f.scopes {
		for _, arn := range sc.pool.arns {
			s.SecretReads += f.srv.SecretReads(arn)
		}
	}
	s.WallSeconds = wall.Seconds()
	if wall > 0 {
		s.CPUCores = (cpuTime() - cpu0).Seconds() / wall.Seconds()
	}
	s.setIdeal(f.q)
}

// matchCounter counts the writes that contain match.
type matchCounter struct {
	match string
	n     *atomic.Int64
}

func (m matchCounter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(m.match)) {
		m.n.Add(1)
	}
	return len(p), nil
}
