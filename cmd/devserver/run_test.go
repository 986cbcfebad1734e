package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maskresolver/maskresolver/internal/lambdatest"
	"github.com/maskresolver/maskresolver/internal/loadreport"
)

// buildAll returns the function and the emulator, built once for the
// end-to-end tests of this package.
func buildAll(t *testing.T) (bootstrap, rie string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the function and the emulator (about 40 s on a cold cache)")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command:", err)
	}
	return lambdatest.Binaries(t)
}

// start runs the devserver with o until the test ends, and returns its
// URLs once it is ready.
func start(t *testing.T, o options) (frontURL, emulatorURL string, stdout *lambdatest.Buffer) {
	t.Helper()
	logs := &lambdatest.Buffer{}
	stdout = &lambdatest.Buffer{}
	o.stdout, o.logs = stdout, logs
	type urls struct{ front, emu string }
	ready := make(chan urls, 1)
	o.ready = func(f, e string) { ready <- urls{f, e} }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if t.Failed() {
			t.Logf("emulator output:\n%s", logs)
		}
		lambdatest.AssertNoProcess(t, o.bootstrap)
	})
	select {
	case u := <-ready:
		return u.front, u.emu, stdout
	case err := <-done:
		done <- err
		t.Fatalf("run ended before it was ready: %v\n%s", err, logs)
	case <-time.After(3 * time.Minute):
		t.Fatal("the devserver did not get ready")
	}
	return "", "", nil
}

func TestRunEndToEnd(t *testing.T) {
	bootstrap, rie := buildAll(t)
	url, _, stdout := start(t, options{
		addr:           "127.0.0.1:0",
		secrets:        "../../events/secrets.json",
		bootstrap:      bootstrap,
		rie:            rie,
		secretsManager: smFake,
		caller:         testCaller,
	})
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()

	if !strings.Contains(stdout.String(), "curl -s -X POST "+url+"/v1/resolve") {
		t.Errorf("no curl line for %s in:\n%s", url, stdout)
	}

	body := `{"connection":{"client_secret":"` + seedMask + `"}}`
	resp, err := client.Post(url+"/v1/resolve", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("resolve: %d %s", resp.StatusCode, raw)
	}
	var out struct {
		Connection struct {
			ClientSecret string `json:"client_secret"`
		} `json:"connection"`
		Masks []struct{ Status string } `json:"masks"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("resolve: %v in %s", err, raw)
	}
	if out.Connection.ClientSecret != "jira-demo-3f9c2a" || len(out.Masks) != 1 || out.Masks[0].Status != "resolved" {
		t.Errorf("resolve: %s", raw)
	}
	for _, h := range []string{"Content-Type", "Cache-Control"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("resolve: no %s header", h)
		}
	}

	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{http.MethodGet, "/v1/resolve", http.StatusMethodNotAllowed, "MethodNotAllowed", "POST"},
		{http.MethodPost, "/v1/other", http.StatusNotFound, "NotFound", ""},
	} {
		req, _ := http.NewRequest(tc.method, url+tc.path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct{ Error struct{ Code string } }
		_ = json.Unmarshal(raw, &e)
		if resp.StatusCode != tc.status || e.Error.Code != tc.code || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow=%q %s", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"), raw)
		}
	}
}

func TestRunInvoke(t *testing.T) {
	bootstrap, rie := buildAll(t)
	dir := t.TempDir()
	ev := `{"connection":{"s":"` + seedMask + `"}}`
	if err := os.WriteFile(filepath.Join(dir, "direct.json"), []byte(ev), 0o644); err != nil {
		t.Fatal(err)
	}
	seed, err := os.ReadFile("../../events/secrets.json")
	if err != nil {
		t.Fatal(err)
	}
	secrets := filepath.Join(dir, "secrets.json")
	if err := os.WriteFile(secrets, seed, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	err = run(context.Background(), options{
		secrets:        secrets,
		bootstrap:      bootstrap,
		rie:            rie,
		secretsManager: smFake,
		invoke:         filepath.Join(dir, "*.json"),
		stdout:         &stdout,
		logs:           io.Discard,
	})
	lambdatest.AssertNoProcess(t, bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	got := stdout.String()
	if strings.Contains(got, "secrets.json") || !strings.Contains(got, "==> "+filepath.Join(dir, "direct.json")) ||
		!strings.Contains(got, `"s": "jira-demo-3f9c2a"`) {
		t.Errorf("invoke output:\n%s", got)
	}
}

// With every call throttled, the SDK must take the double's injected
// ThrottlingException for Secrets Manager's (retried while the deadline
// allows, more than the standard three attempts, then the function's 503
// Throttled), and /stats must count it.
func TestRunThrottleAndStats(t *testing.T) {
	bootstrap, rie := buildAll(t)
	url, _, stdout := start(t, options{
		addr:              "127.0.0.1:0",
		secrets:           "../../events/secrets.json",
		bootstrap:         bootstrap,
		rie:               rie,
		secretsManager:    smFake,
		caller:            testCaller,
		environments:      2,
		smLatency:         time.Millisecond,
		smThrottlePercent: 100,
		statsAddr:         "127.0.0.1:0",
	})
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	body := `{"connection":{"client_secret":"` + seedMask + `"}}`
	resp, err := client.Post(url+"/v1/resolve", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(raw), `"Throttled"`) {
		t.Fatalf("resolve: %d %s", resp.StatusCode, raw)
	}

	_, statsURL, ok := strings.Cut(stdout.String(), "per environment:\n  curl -s ")
	statsURL, _, _ = strings.Cut(statsURL, "\n")
	if !ok || !strings.HasSuffix(statsURL, loadreport.StatsPath) {
		t.Fatalf("no stats URL in:\n%s", stdout)
	}
	resp, err = client.Get(statsURL)
	if err != nil {
		t.Fatal(err)
	}
	var st loadreport.Stats
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	sm := st.SecretsManager
	if sm == nil || sm.Throttled < 4 || sm.Calls != sm.Throttled || sm.ThrottledByOperation["GetSecretValue"] != sm.Throttled {
		t.Errorf("secrets_manager = %+v, want 4 or more GetSecretValue calls, every one throttled", sm)
	}
	if len(st.Environments) != 2 {
		t.Fatalf("%d environments, want 2", len(st.Environments))
	}
	var inv int64
	pids := 0
	for _, e := range st.Environments {
		inv += e.Invocations
		pids += len(e.FunctionPIDs)
		if e.EmulatorPID == 0 {
			t.Errorf("environment %s has no emulator pid", e.URL)
		}
	}
	if inv != 1 || pids != 1 {
		t.Errorf("%d invocations and %d function processes, want 1 and 1: %+v", inv, pids, st.Environments)
	}
}

// check is what stands between a bad flag and started processes.
func TestOptionsCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    options
		want string // in the error; "" for none
	}{
		{"defaults", options{}, ""},
		{"fake with quotas", options{secretsManager: smFake, smQuotaScale: 0.04, smQuotaBurst: 2 * time.Second}, ""},
		{"real quotas", options{secretsManager: smFake, smQuotaScale: 1}, ""},
		// The flag's default burst must not make -secrets-manager=aws fail.
		{"aws with the default burst", options{secretsManager: smAWS, smQuotaBurst: time.Second}, ""},

		// errors
		{"negative environments", options{environments: -1}, "environments"},
		{"throttle over 100", options{smThrottlePercent: 101}, "sm-throttle-percent"},
		{"throttle NaN", options{smThrottlePercent: math.NaN()}, "sm-throttle-percent"},
		{"negative latency", options{smLatency: -time.Second}, "sm-latency"},
		{"negative quota scale", options{smQuotaScale: -0.04}, "sm-quota-scale"},
		{"NaN quota scale", options{smQuotaScale: math.NaN()}, "sm-quota-scale"},
		{"infinite quota scale", options{smQuotaScale: math.Inf(1)}, "sm-quota-scale"},
		{"negative quota burst", options{smQuotaScale: 1, smQuotaBurst: -time.Second}, "sm-quota-burst"},
		{"aws with quotas", options{secretsManager: smAWS, smQuotaScale: 0.04}, "sm-quota-scale act on the double"},
		{"aws with latency", options{secretsManager: smAWS, smLatency: time.Millisecond}, "not with the real Secrets Manager"},
		{"unknown secrets manager", options{secretsManager: "vault"}, `"vault"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.o.check()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("check() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("check() = %v, want an error about %s", err, tt.want)
			}
		})
	}
}

func TestFaultNote(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		o    options
		want string
	}{
		{options{}, ""},
		{options{smLatency: 20 * time.Millisecond, smThrottlePercent: 3}, " (20ms latency on every call, 3% of calls throttled)"},
		{options{smQuotaScale: 0.04}, " (0.04× AWS's quotas: BatchGetSecretValue 4/s, GetSecretValue+DescribeSecret 400/s, 1s burst)"},
		{options{smQuotaScale: 1, smQuotaBurst: 2 * time.Second}, " (1× AWS's quotas: BatchGetSecretValue 100/s, GetSecretValue+DescribeSecret 10000/s, 2s burst)"},
	} {
		if got := faultNote(tt.o); got != tt.want {
			t.Errorf("faultNote(%+v) = %q, want %q", tt.o, got, tt.want)
		}
	}
}
