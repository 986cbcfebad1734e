package secrets

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"go.uber.org/goleak"

	"github.com/maskresolver/maskresolver/internal/smfake"
)

// Every test closes its httptest server, which ends the SDK's keep-alive
// connections, and waits out the reads it started, so nothing may be left.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	dbARN   = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123"
	apiARN  = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api-XyZ789"
	euARN   = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-EuW001"
	binARN  = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cert-BiN001"
	dbValue = `{"password":"hunter2","user":"admin"}`
)

// fixture is a Store whose real SDK clients talk to a Secrets Manager double
// over HTTP, with a clock the test moves.
type fixture struct {
	store *Store
	sm    *smfake.Server
	clock *clock
	url   string
	// regions records the region of each request's SigV4 credential
	// scope: the region the client signed for.
	mu      sync.Mutex
	regions []string
	hook    func(*http.Request)
}

// setHook makes the server call h with each request before answering it.
func (f *fixture) setHook(h func(*http.Request)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = h
}

func (f *fixture) signedRegions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.regions...)
}

func newFixture(t testing.TB, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{sm: smfake.New(), clock: &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, scope, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
		f.mu.Lock()
		if parts := strings.Split(scope, "/"); len(parts) > 2 {
			f.regions = append(f.regions, parts[2])
		}
		hook := f.hook
		f.mu.Unlock()
		if hook != nil {
			// Read the body first: only then does the server notice a
			// client that hangs up, and cancel r's context.
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			hook(r)
		}
		f.sm.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	opts = append([]Option{withClock(f.clock.Now)}, opts...)
	s, err := New(testConfig(srv.URL), opts...)
	if err != nil {
		t.Fatal(err)
	}
	f.store = s
	return f
}

func testConfig(url string) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
		BaseEndpoint:     aws.String(url),
		HTTPClient:       smfake.HTTPClient(),
	}
}

func (f *fixture) put(t testing.TB, arn string, value *string) string {
	t.Helper()
	full, err := f.sm.Put(smfake.Secret{ARN: arn, String: value})
	if err != nil {
		t.Fatal(err)
	}
	return full
}

// get reads one secret and fails the test on an error.
func (f *fixture) get(t *testing.T, arn string) (*Secret, Stats) {
	t.Helper()
	res, st := f.store.Get(t.Context(), []string{arn}, Freshness{})
	if res[0].Err != nil {
		t.Fatalf("Get(%s): %v", arn, res[0].Err)
	}
	return res[0].Secret, st
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

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

// shortContext is a context whose deadline passes long before an injected
// latency ends.
func shortContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}
