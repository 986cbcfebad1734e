package main

import (
	"context"
	"io"
	"net/http/httptest"
	"strconv"

	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestReadRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, payload string
		dryRun        bool
		want          string // the body sent; "" when err is set
		err           string // part of the error
	}{
		{name: "request sent as is", payload: `{"connection": {"a": "b"}, "dry_run": false}`, want: `{"connection": {"a": "b"}, "dry_run": false}`},
		{name: "request without dry_run", payload: `{"connection":{"a":"b"}}`, want: `{"connection":{"a":"b"}}`},
		{name: "members in any order", payload: `{"dry_run":true,"connection":1}`, want: `{"dry_run":true,"connection":1}`},
		{name: "request, whitespace trimmed", payload: "\n  {\"connection\":[]}\n", want: `{"connection":[]}`},
		{name: "connection object wrapped", payload: `{"host":"jira.example.com","client_secret":"x"}`, want: `{"connection":{"host":"jira.example.com","client_secret":"x"}}`},
		{name: "another member makes it a connection", payload: `{"connection":{},"host":"h"}`, want: `{"connection":{"connection":{},"host":"h"}}`},
		{name: "dry_run alone is a connection", payload: `{"dry_run":true}`, want: `{"connection":{"dry_run":true}}`},
		{name: "empty object wrapped", payload: `{}`, want: `{"connection":{}}`},
		{name: "array wrapped", payload: `["a",{"connection":1}]`, want: `{"connection":["a",{"connection":1}]}`},
		{name: "string wrapped", payload: `"{{workato:sm:k:arn}}"`, want: `{"connection":"{{workato:sm:k:arn}}"}`},
		{name: "number literal kept", payload: `{"n":12345678901234567890,"e":"\u00e9"}`, want: `{"connection":{"n":12345678901234567890,"e":"\u00e9"}}`},
		{name: "null wrapped", payload: `null`, want: `{"connection":null}`},

		{name: "dry run wraps", payload: `{"a":"b"}`, dryRun: true, want: `{"connection":{"a":"b"},"dry_run":true}`},
		{name: "dry run overrides false", payload: `{"connection": {"a": 1.50}, "dry_run": false}`, dryRun: true, want: `{"connection":{"a": 1.50},"dry_run":true}`},
		{name: "dry run keeps true", payload: `{"dry_run":true,"connection":"s"}`, dryRun: true, want: `{"connection":"s","dry_run":true}`},
		{name: "dry run over repeated connection takes the last", payload: `{"connection":1,"connection":2}`, dryRun: true, want: `{"connection":2,"dry_run":true}`},

		// errors
		{name: "empty", payload: "", err: "the payload is empty"},
		{name: "blank", payload: " \n\t", err: "the payload is empty"},
		{name: "not JSON", payload: `{"client_secret": s3cr3t}`, err: "not valid JSON (syntax error at byte 19)"},
		{name: "truncated", payload: `{"a":`, err: "not valid JSON"},
		{name: "two values", payload: `{} {}`, err: "not valid JSON"},
		{name: "bad UTF-8", payload: "\"\xff\"", err: "not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := readRequest(strings.NewReader(tc.payload), sendOptions{dryRun: tc.dryRun})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "'s'") {
					t.Errorf("the error quotes the payload: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestReadRequestTooLarge(t *testing.T) {
	t.Parallel()
	big := `"` + strings.Repeat("a", maxPayloadBytes) + `"`
	if _, _, err := readRequest(strings.NewReader(big), sendOptions{}); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err = %v", err)
	}
}

func TestExecuteAPIRegion(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]string{
		"abc123defg.execute-api.us-east-1.amazonaws.com":                             "us-east-1",
		"abc123defg.execute-api.eu-west-2.amazonaws.com.":                            "eu-west-2",
		"ABC123DEFG.EXECUTE-API.AP-SOUTHEAST-2.AMAZONAWS.COM":                        "ap-southeast-2",
		"abc123defg.execute-api.us-gov-west-1.amazonaws.com":                         "us-gov-west-1",
		"abc123defg.execute-api.cn-north-1.amazonaws.com.cn":                         "cn-north-1",
		"abc123defg-vpce-0123456789abcdef0.execute-api.us-east-1.vpce.amazonaws.com": "us-east-1",
		"api.example.com":                                 "",
		"execute-api.us-east-1.amazonaws.com":             "",
		"abc.execute-api.us-east-1.example.com":           "",
		"abc.execute-api.useast1.amazonaws.com":           "",
		"abc.execute-api.us-east-x.amazonaws.com":         "",
		"abc.execute-api.amazonaws.com":                   "",
		"127.0.0.1":                                       "",
		"localhost":                                       "",
		"abc.execute-api.us-east-1.amazonaws.com.evil.io": "",
	} {
		if got := executeAPIRegion(host); got != want {
			t.Errorf("executeAPIRegion(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{422, `{"error":{"code":"MaskResolutionFailed","message":"2 of 3 masks failed; no value was returned","masks":[{"path":"/connection/a","code":"KeyNotFound","message":"m"}]}}`,
			"422 MaskResolutionFailed: 2 of 3 masks failed; no value was returned"},
		{400, `{"error":{"code":"InvalidRequest","message":"no \"connection\" member"}}`, `400 InvalidRequest: no "connection" member`},
		{503, `{"error":{"code":"Throttled","message":"Secrets Manager throttled\nthe reads"}}`, "503 Throttled: Secrets Manager throttled the reads"},
		{403, `{"message":"Forbidden"}`, "403 Forbidden"},
		{403, `{"Message":"User: arn:aws:iam::1:user/x is not authorized to perform: execute-api:Invoke"}`, "403 Forbidden: User: arn:aws:iam::1:user/x is not authorized to perform: execute-api:Invoke"},
		{502, `<html>Bad Gateway</html>`, "502 Bad Gateway"},
		{504, ``, "504 Gateway Timeout"},
		{599, `{}`, "599"},
	} {
		if got := summary(tc.status, []byte(tc.body)); got != tc.want {
			t.Errorf("summary(%d, %s) = %q, want %q", tc.status, tc.body, got, tc.want)
		}
	}
	long := `{"error":{"code":"X","message":"` + strings.Repeat("é", 1000) + `"}}`
	if got := summary(500, []byte(long)); len([]rune(got)) > maxMessageRunes+20 {
		t.Errorf("summary of a long message is %d runes", len([]rune(got)))
	}
}

func TestSignedRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		creds aws.CredentialsProvider
	}{
		{"static credentials", staticCreds},
		{"session token", sessionCreds},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tc.creds
			srv, got := apiServer(t, http.StatusOK, `{"connection":{},"masks":[]}`)
			c := testCLI(p, "us-east-1", nil)
			res := c.runTest(t, `{"client_secret":"`+seedMask+`"}`, "--url", srv.URL+"/v1/resolve")
			if res.code != exitOK {
				t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
			}
			rec := <-got
			creds := retrieve(t, p)
			sig, err := verifySigV4(rec, creds)
			if err != nil {
				t.Fatal(err)
			}
			if sig.akid != testAKID || sig.date != "20260314" || sig.region != "us-east-1" || sig.service != "execute-api" {
				t.Errorf("credential scope %+v", sig)
			}
			if d := rec.req.Header.Get("X-Amz-Date"); d != "20260314T150926Z" {
				t.Errorf("X-Amz-Date %q", d)
			}
			for _, h := range []string{"host", "content-type", "x-amz-date", "content-length"} {
				if !contains(sig.signedHeaders, h) {
					t.Errorf("%s not signed: %v", h, sig.signedHeaders)
				}
			}
			// verifySigV4 checked the token's value; it must be signed too.
			if tok := rec.req.Header.Get("X-Amz-Security-Token"); tok != "" && !contains(sig.signedHeaders, "x-amz-security-token") {
				t.Errorf("X-Amz-Security-Token not signed: %v", sig.signedHeaders)
			}
			if want := `{"connection":{"client_secret":"` + seedMask + `"}}`; string(rec.body) != want {
				t.Errorf("body %s, want %s", rec.body, want)
			}
			if ct := rec.req.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}

			// A changed body, path or key must not verify: the check is not
			// vacuous.
			tampered := rec
			tampered.body = append([]byte(nil), rec.body...)
			tampered.body[len(tampered.body)-2] = ' '
			if _, err := verifySigV4(tampered, creds); err == nil {
				t.Error("a changed body still verifies")
			}
			wrong := creds
			wrong.SecretAccessKey = "other"
			if _, err := verifySigV4(rec, wrong); err == nil {
				t.Error("another secret key still verifies")
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestRegionFromExecuteAPIHost(t *testing.T) {
	t.Parallel()
	srv, got := apiServer(t, http.StatusOK, `{}`)
	// The configured region (and --region) lose to the URL's: a signature
	// for another region than the API's is refused.
	c := testCLI(staticCreds, "us-east-1", nil)
	c.transport = dialing(srv)
	res := c.runTest(t, `{}`, "--region", "ap-northeast-1", "--url", "http://a1b2c3d4e5.execute-api.eu-west-2.amazonaws.com/v1/resolve")
	if res.code != exitOK {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	rec := <-got
	sig, err := verifySigV4(rec, retrieve(t, staticCreds))
	if err != nil {
		t.Fatal(err)
	}
	if sig.region != "eu-west-2" || rec.req.Host != "a1b2c3d4e5.execute-api.eu-west-2.amazonaws.com" {
		t.Errorf("signed for %s, Host %s", sig.region, rec.req.Host)
	}
}

func TestRegionFromConfig(t *testing.T) {
	t.Parallel()
	srv, got := apiServer(t, http.StatusOK, `{}`)
	c := testCLI(staticCreds, "us-east-1", nil)
	c.transport = dialing(srv)

	// A custom domain name: the configured region, or --region.
	res := c.runTest(t, `{}`, "--url", "http://resolve.example.com/v1/resolve")
	if res.code != exitOK {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	if sig, err := verifySigV4(<-got, retrieve(t, staticCreds)); err != nil || sig.region != "us-east-1" {
		t.Errorf("region %q, %v", sig.region, err)
	}
	res = c.runTest(t, `{}`, "--region", "sa-east-1", "--url", "http://resolve.example.com/v1/resolve")
	if res.code != exitOK {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	if sig, err := verifySigV4(<-got, retrieve(t, staticCreds)); err != nil || sig.region != "sa-east-1" {
		t.Errorf("region %q, %v", sig.region, err)
	}

	// No region at all: nothing is sent.
	c = testCLI(staticCreds, "", nil)
	c.transport = dialing(srv)
	res = c.runTest(t, `{}`, "--url", "http://resolve.example.com/v1/resolve")
	if res.code != exitUsage || !strings.Contains(res.stderr, "--region") {
		t.Errorf("exit %d, stderr %q", res.code, res.stderr)
	}
	if len(got) != 0 {
		t.Error("a request was sent without a region")
	}
}

func TestNoSign(t *testing.T) {
	t.Parallel()
	srv, got := apiServer(t, http.StatusOK, `{}`)
	loaded := false
	c := testCLI(staticCreds, "us-east-1", nil)
	load := c.loadConfig
	c.loadConfig = func(ctx context.Context, r, p string) (aws.Config, error) { loaded = true; return load(ctx, r, p) }
	c.transport = dialing(srv)
	res := c.runTest(t, `{}`, "--no-sign", "--url", "http://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1/resolve")
	if res.code != exitOK || res.stderr != "" {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	rec := <-got
	for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		if v := rec.req.Header.Get(h); v != "" {
			t.Errorf("%s: %q on an unsigned request", h, v)
		}
	}
	if loaded {
		t.Error("--no-sign loaded the AWS configuration")
	}
}

func TestLocalhostFallback(t *testing.T) {
	t.Parallel()
	srv, got := apiServer(t, http.StatusOK, `{"connection":{}}`)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	for _, tc := range []struct {
		name, host string
		creds      aws.CredentialsProvider
		region     string
		note       string // all of stderr
	}{
		// Nothing configured: the chain's last resort, the instance role,
		// is not asked for.
		{"no credentials", "127.0.0.1", instanceRoleOnly, "us-east-1",
			"maskctl: note: no AWS credentials in the environment or the shared config; sending unsigned to loopback host 127.0.0.1\n"},
		{"localhost", "localhost", nil, "us-east-1",
			"maskctl: note: no AWS credentials in the environment or the shared config; sending unsigned to loopback host localhost\n"},
		// Configured credentials that fail say why.
		{"failing credentials", "127.0.0.1", noCreds, "us-east-1",
			"maskctl: note: get AWS credentials: no EC2 IMDS role found; sending unsigned to loopback host 127.0.0.1\n"},
		{"no region", "127.0.0.1", staticCreds, "",
			"maskctl: note: no AWS region to sign for; sending unsigned to loopback host 127.0.0.1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testCLI(tc.creds, tc.region, nil)
			res := c.runTest(t, `{}`, "--url", "http://"+tc.host+":"+port+"/v1/resolve")
			if res.code != exitOK || res.stderr != tc.note {
				t.Fatalf("exit %d, stderr %q, want %q", res.code, res.stderr, tc.note)
			}
			if a := (<-got).req.Header.Get("Authorization"); a != "" {
				t.Errorf("Authorization %q", a)
			}
		})
	}

	// With credentials the local front is signed too.
	c := testCLI(staticCreds, "us-east-1", nil)
	if res := c.runTest(t, `{}`, "--url", srv.URL+"/v1/resolve"); res.code != exitOK || res.stderr != "" {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	if _, err := verifySigV4(<-got, retrieve(t, staticCreds)); err != nil {
		t.Error(err)
	}

	// Anywhere else, no credentials is an error and nothing is sent.
	c = testCLI(noCreds, "us-east-1", nil)
	c.transport = dialing(srv)
	res := c.runTest(t, `{}`, "--url", "http://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1/resolve")
	if res.code != exitUsage || !strings.Contains(res.stderr, "no EC2 IMDS role found") || !strings.Contains(res.stderr, "--no-sign") {
		t.Errorf("exit %d, stderr %q", res.code, res.stderr)
	}
	if len(got) != 0 {
		t.Error("a request was sent without credentials")
	}
}

// secretValue stands for a value the API returns; it must never reach
// stderr.
const secretValue = "jira-demo-3f9c2a"

func TestExitCodes(t *testing.T) {
	t.Parallel()
	const payload = `{"client_secret":"` + seedMask + `","note":"s3cr3t-in-payload"}`
	for _, tc := range []struct {
		name   string
		status int
		body   string
		code   int
		stderr string
	}{
		{"200", http.StatusOK,
			`{"connection":{"client_secret":"` + secretValue + `"},"masks":[{"path":"/connection/client_secret","status":"resolved"}]}`,
			exitOK, ""},
		{"422", http.StatusUnprocessableEntity,
			`{"error":{"code":"MaskResolutionFailed","message":"2 of 3 masks failed; no value was returned","masks":[{"path":"/connection/token","key":"no.such.key","code":"KeyNotFound","message":"the secret has no key \"no.such.key\""}]}}`,
			exitStatus, "maskctl: 422 MaskResolutionFailed: 2 of 3 masks failed; no value was returned\n"},
		{"503", http.StatusServiceUnavailable,
			`{"error":{"code":"Throttled","message":"Secrets Manager throttled the reads; retry later"}}`,
			exitStatus, "maskctl: 503 Throttled: Secrets Manager throttled the reads; retry later\n"},
		{"403 from the gateway", http.StatusForbidden, `{"message":"Forbidden"}`, exitStatus, "maskctl: 403 Forbidden\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, got := apiServer(t, tc.status, tc.body)
			res := testCLI(staticCreds, "us-east-1", nil).runTest(t, payload, "--url", srv.URL+"/v1/resolve")
			<-got
			if res.code != tc.code || res.stderr != tc.stderr {
				t.Errorf("exit %d, stderr %q; want %d, %q", res.code, res.stderr, tc.code, tc.stderr)
			}
			if res.stdout != tc.body+"\n" {
				t.Errorf("stdout %q, want the body", res.stdout)
			}
			for _, s := range []string{secretValue, "s3cr3t", "no.such.key", "/connection/"} {
				if strings.Contains(res.stderr, s) {
					t.Errorf("stderr holds %q: %q", s, res.stderr)
				}
			}
		})
	}

	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		url := refusedURL(t)
		res := testCLI(staticCreds, "us-east-1", nil).runTest(t, payload, "--url", url)
		if res.code != exitNetwork || res.stdout != "" {
			t.Errorf("exit %d, stdout %q", res.code, res.stdout)
		}
		if !strings.HasPrefix(res.stderr, "maskctl: POST "+url+": ") || !strings.Contains(res.stderr, "connection refused") ||
			strings.Count(res.stderr, "\n") != 1 || strings.Contains(res.stderr, "s3cr3t") {
			t.Errorf("stderr %q", res.stderr)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		stop := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The server notices the client hang up only once the body is
			// read; stop frees the handler in any case.
			io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(stop) }) // runs before srv.Close
		start := time.Now()
		res := testCLI(staticCreds, "us-east-1", nil).runTest(t, payload, "--timeout", "200ms", "--url", srv.URL+"/v1/resolve")
		if res.code != exitNetwork || !strings.Contains(res.stderr, "no answer within --timeout 200ms") {
			t.Errorf("exit %d, stderr %q", res.code, res.stderr)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %s", d)
		}
	})
}

func TestPretty(t *testing.T) {
	t.Parallel()
	body := `{"connection":{"n":12345678901234567890,"s":"\u00e9"},"masks":[]}`
	srv, _ := apiServer(t, http.StatusOK, body)
	res := testCLI(staticCreds, "us-east-1", nil).runTest(t, `{}`, "--pretty", "--url", srv.URL)
	want := "{\n  \"connection\": {\n    \"n\": 12345678901234567890,\n    \"s\": \"\\u00e9\"\n  },\n  \"masks\": []\n}\n"
	if res.code != exitOK || res.stdout != want {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s", res.code, res.stdout, want)
	}
	// A body that is not JSON (a proxy's error page) comes out as it is.
	srv, _ = apiServer(t, http.StatusBadGateway, "<html>bad gateway</html>")
	res = testCLI(staticCreds, "us-east-1", nil).runTest(t, `{}`, "--pretty", "--url", srv.URL)
	if res.code != exitStatus || res.stdout != "<html>bad gateway</html>\n" || res.stderr != "maskctl: 502 Bad Gateway\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
}

func TestArguments(t *testing.T) {
	t.Parallel()
	srv, got := apiServer(t, http.StatusOK, `{}`)
	dir := t.TempDir()
	file := filepath.Join(dir, "payload.json")
	if err := os.WriteFile(file, []byte(`{"from":"file"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{envURL: srv.URL + "/v1/resolve"}

	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		env   map[string]string
		sent  string
	}{
		{"stdin by default", `{"from":"stdin"}`, []string{"--url", srv.URL}, nil, `{"connection":{"from":"stdin"}}`},
		{"stdin as -", `{"from":"stdin"}`, []string{"--url", srv.URL, "-"}, nil, `{"connection":{"from":"stdin"}}`},
		{"a file", `ignored`, []string{"--url", srv.URL, file}, nil, `{"connection":{"from":"file"}}`},
		{"--dry-run", `{"from":"stdin"}`, []string{"--dry-run", "--url", srv.URL}, nil, `{"connection":{"from":"stdin"},"dry_run":true}`},
		{"MASKRESOLVER_URL", `{"connection":1}`, nil, env, `{"connection":1}`},
		{"--url beats MASKRESOLVER_URL", `{"connection":2}`, []string{"--url", srv.URL + "/other"}, map[string]string{envURL: "http://127.0.0.1:1/"}, `{"connection":2}`},
	} {
		res := testCLI(staticCreds, "us-east-1", tc.env).runTest(t, tc.stdin, tc.args...)
		if res.code != exitOK {
			t.Errorf("%s: exit %d, stderr %q", tc.name, res.code, res.stderr)
			continue
		}
		if rec := <-got; string(rec.body) != tc.sent {
			t.Errorf("%s: sent %s, want %s", tc.name, rec.body, tc.sent)
		}
	}

	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		stderr string
	}{
		{"no URL", `{}`, nil, "no URL: pass --url or --stack, or set MASKRESOLVER_URL"},
		{"--url and --stack", `{}`, []string{"--url", srv.URL, "--stack", "s"}, "exclude each other"},
		{"two files", `{}`, []string{"--url", srv.URL, file, file}, "one payload file at most"},
		{"flag after the file", `{}`, []string{"--url", srv.URL, file, "--dry-run"}, `maskctl: one payload file at most, got 2: ` + strconv.Quote(file) + ` "--dry-run": flags go before the payload file ("--dry-run" came after it)`},
		{"missing file", `{}`, []string{"--url", srv.URL, filepath.Join(dir, "nope.json")}, "no such file"},
		{"invalid JSON", `{"client_secret": s3cr3t}`, []string{"--url", srv.URL}, "maskctl: stdin: the payload is not valid JSON (syntax error at byte 19)"},
		{"bad URL", `{}`, []string{"--url", "ftp://example.com/x"}, "bad URL"},
		{"bad flag", `{}`, []string{"--nope"}, "flag provided but not defined"},
		{"bad timeout", `{}`, []string{"--url", srv.URL, "--timeout", "0s"}, "must be positive"},
	} {
		res := testCLI(staticCreds, "us-east-1", nil).runTest(t, tc.stdin, tc.args...)
		if res.code != exitUsage || !strings.Contains(res.stderr, tc.stderr) || res.stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.name, res.code, res.stdout, res.stderr, tc.stderr)
		}
		if strings.Contains(res.stderr, "s3cr3t") {
			t.Errorf("%s: stderr quotes the payload: %q", tc.name, res.stderr)
		}
	}
	if len(got) != 0 {
		t.Errorf("%d requests sent for bad invocations", len(got))
	}

	res := testCLI(staticCreds, "us-east-1", nil).runTest(t, "", "-h")
	if res.code != exitOK || !strings.Contains(res.stderr, "usage: maskctl") {
		t.Errorf("-h: exit %d, stderr %q", res.code, res.stderr)
	}
}
