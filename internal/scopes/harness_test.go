package scopes_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/maskresolver/maskresolver/internal/config"
	"github.com/maskresolver/maskresolver/internal/scopes"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

const (
	roleA = "arn:aws:iam::210987654321:role/tenant-a"
	roleB = "arn:aws:iam::210987654321:role/scopes/tenant-b"
	// extID is a canary: it may reach STS and nothing else.
	extID = "ext-CANARY-7hQz2w"
	// canaryFrag is a part of it that a partial quote would show.
	canaryFrag = "7hQz2w"

	function = "maskresolver-prod"
	caller   = "arn:aws:iam::123456789012:role/ci"
	// scopesARN is SCOPES_SECRET_ARN in the tests that read it.
	scopesARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:maskresolver/scopes-Sc0p3s"
	// tenantSecret is readable only by roleA.
	tenantSecret = "arn:aws:secretsmanager:us-east-1:210987654321:secret:tenant-a/api-Tn4nt1"
)

// scope is one scope of a test document.
type scope struct {
	role, ext string
	callers   []string
}

// doc writes a scopes document; each scope may read tenant-a's secrets.
func doc(ss map[string]scope) string {
	var b strings.Builder
	b.WriteString("{")
	first := true
	for name, s := range ss {
		if !first {
			b.WriteString(",")
		}
		first = false
		callers := s.callers
		if callers == nil {
			callers = []string{caller}
		}
		fmt.Fprintf(&b, `%q: {"role_arn": %q, "callers": ["%s"], "secrets": ["arn:aws:secretsmanager:*:210987654321:secret:tenant-a/*"]`,
			name, s.role, strings.Join(callers, `", "`))
		if s.ext != "" {
			fmt.Fprintf(&b, `, "external_id": %q`, s.ext)
		}
		b.WriteString("}")
	}
	b.WriteString("}")
	return b.String()
}

func parse(t *testing.T, ss map[string]scope) config.Scopes {
	t.Helper()
	parsed, err := config.ParseScopes([]byte(doc(ss)), "SCOPES")
	if err != nil {
		t.Fatal(err)
	}
	return parsed
}

// clock is a time tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logs collects log lines, safe for concurrent writers.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// fixture is the double serving STS and Secrets Manager, with the real
// SDK clients pointed at it.
type fixture struct {
	sm    *smfake.Server
	cfg   aws.Config
	sts   *sts.Client
	clock *clock
	logs  *logs
}

// start serves the double with roleA (requiring extID) and roleB (no
// external id), and tenantSecret readable only by roleA.
func start(t *testing.T, roleOpts ...smfake.RoleOption) *fixture {
	t.Helper()
	f := &fixture{sm: smfake.New(), clock: newClock(), logs: &logs{}}
	_, f.cfg = smfake.Serve(t, f.sm)
	f.cfg.RetryMaxAttempts = 1
	if err := f.sm.AddRole(roleA, append([]smfake.RoleOption{smfake.RequireExternalID(extID)}, roleOpts...)...); err != nil {
		t.Fatal(err)
	}
	if err := f.sm.AddRole(roleB, roleOpts...); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sm.Put(smfake.Secret{ARN: tenantSecret, String: aws.String("tenant-a-key"), Readers: []string{roleA}}); err != nil {
		t.Fatal(err)
	}
	f.sts = sts.NewFromConfig(f.cfg)
	return f
}

// stsRetrying is an STS client that makes attempts attempts, without
// waiting between them.
func (f *fixture) stsRetrying(attempts int) *sts.Client {
	return sts.NewFromConfig(f.cfg, func(o *sts.Options) {
		o.RetryMaxAttempts = 0 // else the fixture's 1 caps the retryer
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = attempts
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	})
}

// secrets is a Secrets Manager client signing with creds (the function's
// own when nil).
func (f *fixture) secrets(creds aws.CredentialsProvider) *secretsmanager.Client {
	cfg := f.cfg
	if creds != nil {
		cfg.Credentials = creds
	}
	return secretsmanager.NewFromConfig(cfg)
}

// registry builds a Registry with the fixture's STS client, clock and
// logs; opts come after, so they may replace those.
func (f *fixture) registry(t *testing.T, opts ...scopes.Option) *scopes.Registry {
	t.Helper()
	r, err := f.newRegistry(t.Context(), f.sts, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) newRegistry(ctx context.Context, client scopes.AssumeRoleAPI, opts ...scopes.Option) (*scopes.Registry, error) {
	base := []scopes.Option{
		scopes.WithFunctionName(function),
		scopes.WithLogger(slog.New(slog.NewJSONHandler(f.logs, nil))),
		scopes.WithClock(f.clock.Now),
	}
	return scopes.New(ctx, client, append(base, opts...)...)
}

// putDoc stores the scopes document under scopesARN.
func (f *fixture) putDoc(t *testing.T, text string) {
	t.Helper()
	if _, err := f.sm.Put(smfake.Secret{ARN: scopesARN, String: aws.String(text)}); err != nil {
		t.Fatal(err)
	}
}

// open opens a scope as caller, failing the test if it cannot.
func open(t *testing.T, r *scopes.Registry, name string) *scopes.Handle {
	t.Helper()
	h, ok := r.Open(t.Context(), name, caller, false)
	if !ok {
		t.Fatalf("Open(%q) = false", name)
	}
	return h
}

// assumeCalls is the number of AssumeRole calls the double answered.
func (f *fixture) assumeCalls() int { return len(f.sm.AssumeRoleCalls()) }

// noCanary fails the test if text shows the external id.
func noCanary(t *testing.T, what, text string) {
	t.Helper()
	if strings.Contains(text, extID) || strings.Contains(text, canaryFrag) {
		t.Errorf("%s shows the external id: %s", what, text)
	}
}
