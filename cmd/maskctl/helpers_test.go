package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
)

// signingTime is the clock of the test CLIs.
var signingTime = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

const (
	testAKID   = "AKID"
	testSecret = "SECRETKEY"
	testToken  = "SESSIONTOKEN"
	// seedMask is the first secret of events/secrets.json.
	seedMask = "{{workato:sm:prod.jira.secret.key:arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-jira-credentials-FsmeTs}}"
)

var (
	staticCreds  = credentials.NewStaticCredentialsProvider(testAKID, testSecret, "")
	sessionCreds = credentials.NewStaticCredentialsProvider(testAKID, testSecret, testToken)
	// noCreds fails as configured credentials that do not work do.
	noCreds = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no EC2 IMDS role found")
	})
	// instanceRoleOnly is what the default chain holds when neither the
	// environment nor the shared files give credentials.
	instanceRoleOnly = aws.NewCredentialsCache(ec2rolecreds.New())
)

// testCLI is maskctl with the given credentials and configured region, an
// empty environment and a fixed clock. env, when not nil, is the
// environment.
func testCLI(creds aws.CredentialsProvider, region string, env map[string]string) cli {
	return cli{
		getenv: func(k string) string { return env[k] },
		loadConfig: func(_ context.Context, r, _ string) (aws.Config, error) {
			if r == "" {
				r = region
			}
			return aws.Config{Region: r, Credentials: creds}, nil
		},
		now: func() time.Time { return signingTime },
	}
}

// result is one run of maskctl.
type result struct {
	code           int
	stdout, stderr string
}

func (c cli) runTest(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := c.run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// received is a request as a test server saw it.
type received struct {
	req  *http.Request
	body []byte
}

// apiServer answers every request with status and body, and passes what it
// received on the returned channel.
func apiServer(t *testing.T, status int, body string) (*httptest.Server, <-chan received) {
	t.Helper()
	got := make(chan received, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{r.Clone(context.Background()), b}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// dialing returns a transport that connects to srv whatever the URL's
// host, so that a request for an execute-api host reaches a test server
// with its Host header intact.
func dialing(srv *httptest.Server) http.RoundTripper {
	addr := srv.Listener.Addr().String()
	return &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

var authRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/,]+)/(\d{8})/([^/,]+)/([^/,]+)/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$`)

// signature is the parsed Authorization header of a SigV4-signed request.
type signature struct {
	akid, date, region, service string
	signedHeaders               []string
}

// verifySigV4 checks the SigV4 signature of a received request the way a
// verifier does: it re-signs the method, path, query, body and the headers
// the request says it signed, with creds at the request's X-Amz-Date, and
// compares the result with the Authorization header.
func verifySigV4(rec received, creds aws.Credentials) (signature, error) {
	r := rec.req
	auth := r.Header.Get("Authorization")
	m := authRE.FindStringSubmatch(auth)
	if m == nil {
		return signature{}, fmt.Errorf("Authorization %q is not SigV4", auth)
	}
	sig := signature{akid: m[1], date: m[2], region: m[3], service: m[4], signedHeaders: strings.Split(m[5], ";")}
	amzDate := r.Header.Get("X-Amz-Date")
	at, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return sig, fmt.Errorf("X-Amz-Date %q: %v", amzDate, err)
	}
	if at.Format("20060102") != sig.date {
		return sig, fmt.Errorf("X-Amz-Date %s is not of the credential's date %s", amzDate, sig.date)
	}
	if got := r.Header.Get("X-Amz-Security-Token"); got != creds.SessionToken {
		return sig, fmt.Errorf("X-Amz-Security-Token %q, want %q", got, creds.SessionToken)
	}

	again, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(rec.body))
	if err != nil {
		return sig, err
	}
	again.Host = r.Host
	for _, h := range sig.signedHeaders {
		switch h {
		case "host", "content-length":
			// From the request line and the body.
		default:
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(rec.body)
	hash := hex.EncodeToString(sum[:])
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hash, sig.service, sig.region, at); err != nil {
		return sig, err
	}
	if want := again.Header.Get("Authorization"); want != auth {
		return sig, fmt.Errorf("signature does not verify:\n got  %s\n want %s", auth, want)
	}
	return sig, nil
}

func retrieve(t *testing.T, p aws.CredentialsProvider) aws.Credentials {
	t.Helper()
	c, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// refusedURL returns a loopback URL nothing listens on.
func refusedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/v1/resolve"
}

// awsVariables are the environment variables that could give the SDK's
// default configuration credentials, a region or an endpoint; setAWSEnv
// empties them.
var awsVariables = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CLOUDFORMATION", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	"AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
	envURL,
}

// setAWSEnv gives the process an AWS configuration with nothing but set
// in it: awsVariables empty, shared config and credentials files that do
// not exist, then set's variables. It calls t.Setenv, so its test cannot
// run in parallel; Go runs such tests before the parallel ones resume,
// which then see the environment restored.
func setAWSEnv(t *testing.T, set map[string]string) {
	t.Helper()
	for _, k := range awsVariables {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
	for k, v := range set {
		t.Setenv(k, v)
	}
}

// captureStderr sends what the process writes to os.Stderr, such as the
// SDK's default logger, into a pipe until the returned function restores
// os.Stderr and returns what was written. The SDK's logger takes os.Stderr
// when the configuration is loaded, so the capture must start before.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	read := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		r.Close()
		read <- string(b)
	}()
	return func() string {
		os.Stderr = saved
		w.Close()
		return <-read
	}
}
