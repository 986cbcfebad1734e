package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestNoCredentialsFromEnvironment runs maskctl as a user would on a
// machine with no AWS configuration at all, with the real default
// configuration. Against the local front it says so in one note of its
// own and sends unsigned, without asking instance metadata (a fake here,
// which counts what it is asked): so no wait for it, and no warning of
// the SDK's on the process's stderr. Against any other host the chain
// still ends at the instance role, and nothing is sent. Like every test
// that calls setAWSEnv, it cannot run in parallel.
func TestNoCredentialsFromEnvironment(t *testing.T) {
	var asked atomic.Int32
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		http.Error(w, "forbidden", http.StatusForbidden)
	}))
	t.Cleanup(imds.Close)
	setAWSEnv(t, map[string]string{"AWS_REGION": "us-east-1", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.URL})
	api, got := apiServer(t, http.StatusOK, `{"connection":{},"masks":[]}`)

	sdkLog := captureStderr(t)
	var stdout, stderr strings.Builder
	code := run(context.Background(), []string{"--url", api.URL + "/v1/resolve"}, strings.NewReader(`{}`), &stdout, &stderr)
	logged := sdkLog()
	const note = "maskctl: note: no AWS credentials in the environment or the shared config; sending unsigned to loopback host 127.0.0.1\n"
	if code != exitOK || stderr.String() != note || logged != "" {
		t.Errorf("exit %d, stderr %q, process stderr %q; want 0, %q and nothing", code, stderr.String(), logged, note)
	}
	if a := (<-got).req.Header.Get("Authorization"); a != "" {
		t.Errorf("Authorization %q", a)
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("instance metadata asked %d times for a loopback URL", n)
	}

	// The control: elsewhere the instance role is asked for, and the SDK's
	// warning about it is what the capture above would have seen.
	sdkLog = captureStderr(t)
	stderr.Reset()
	code = run(context.Background(), []string{"--url", "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1/resolve"}, strings.NewReader(`{}`), &stdout, &stderr)
	logged = sdkLog()
	if code != exitUsage || !strings.Contains(stderr.String(), "--no-sign") || asked.Load() == 0 {
		t.Errorf("exit %d, stderr %q, instance metadata asked %d times", code, stderr.String(), asked.Load())
	}
	if !strings.Contains(logged, "SDK") {
		t.Errorf("process stderr %q: no warning of the SDK's, so the check above proves nothing", logged)
	}
	if len(got) != 0 {
		t.Error("a request was sent without credentials")
	}
}
