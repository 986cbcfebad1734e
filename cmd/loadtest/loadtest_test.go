package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/lambdatest"
	"github.com/maskresolver/maskresolver/internal/loadreport"
	"github.com/maskresolver/maskresolver/internal/secrets"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		lambdatest.RemoveBuilds()
		os.Exit(code)
	}))
}

// Every key the mix asks for must be one the function finds: a key it
// cannot find would make a resolve request expect a value where the
// function answers 422 KeyNotFound. Members whose names hold a dot are
// reached only at the top level, where the exact name wins.
func TestKeysOfAreFound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		secretString string
		want         []string
	}{
		{`{"client_id":"sf","db.primary":"exact-key-wins","db":{"primary":{"password":"p"}},"port":8443,` +
			`"o":{"z":1,"a":12345678901234567890},"s":"caf\u00e9"}`,
			[]string{"client_id", "db", "db.primary", "o", "o.a", "o.z", "port", "s"}},
		{`{"":"empty","a}b":"brace","n":{"a.b":1,"c}":2,"d":{"e":3}}}`, []string{"n", "n.d"}},
		{`["not","an","object"]`, nil},
	} {
		sec := secrets.NewSecret("arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf", tc.secretString)
		keys := keysOf(tc.secretString)
		if !slices.Equal(keys, tc.want) {
			t.Errorf("keysOf(%s) = %q, want %q", tc.secretString, keys, tc.want)
		}
		for _, k := range keys {
			if _, ok := sec.Lookup(k); !ok {
				t.Errorf("keysOf(%s) lists %q, which the function does not find", tc.secretString, k)
			}
		}
	}
}

func TestCheckLoopbackURL(t *testing.T) {
	t.Parallel()
	for url, ok := range map[string]bool{
		"http://127.0.0.1:3000/v1/resolve":     true,
		"http://[::1]:3000/v1/resolve":         true,
		"http://localhost:3000/v1/resolve":     true,
		"http://127.0.0.2:3000/v1/resolve":     true,
		"http://10.0.0.1:3000/v1/resolve":      false,
		"http://example.com/v1/resolve":        false,
		"http://localhost.evil.test/v1":        false,
		"https://127.0.0.1:3000/v1/resolve":    false,
		"http://0.0.0.0:3000/v1/resolve":       false,
		"http://abc.execute-api.amazonaws.com": false,
	} {
		if err := checkLoopbackURL(url); (err == nil) != ok {
			t.Errorf("checkLoopbackURL(%q) = %v, want ok=%v", url, err, ok)
		}
	}
}

// The mix's own expectations must pass its own verification, and a wrong
// value, a missing header or an unexpected error must not.
func TestVerify(t *testing.T) {
	t.Parallel()
	m, err := newMix("../../events/secrets.json", 3, filepath.Join(t.TempDir(), "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var resolve, keyNotFound *template
	for _, tp := range m.templates {
		switch {
		case tp.kind == kindResolve10 && resolve == nil:
			resolve = tp
		case tp.kind == kindKeyNotFound && keyNotFound == nil:
			keyNotFound = tp
		}
	}
	h := http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}
	masksJSON := func(entries []answer.MaskEntry) string {
		var b strings.Builder
		for i, e := range entries {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"path":%q,"key":%q,"secret_arn":%q,"status":%q}`, e.Path, e.Key, e.SecretARN, e.Status)
		}
		return "[" + b.String() + "]"
	}
	good := `{"connection":` + string(resolve.exp.connection) + `,"masks":` + masksJSON(resolve.exp.masks) + `}`
	e := keyNotFound.exp.errMasks[0]
	good422 := fmt.Sprintf(`{"error":{"code":"MaskResolutionFailed","message":"1 of 2 masks failed","masks":[{"path":%q,"key":%q,"secret_arn":%q,"code":"KeyNotFound","message":"no such key"}]}}`,
		e.Path, e.Key, e.SecretARN)
	throttled := `{"error":{"code":"MaskResolutionFailed","message":"m","masks":[{"path":"/connection/a","key":"k","secret_arn":"x","code":"Throttled","message":"m"}]}}`
	timeout := strings.ReplaceAll(throttled, `"Throttled"`, `"Timeout"`)
	// The value of auth.user (the first mask) with a character more, and
	// a member that is no mask changed.
	i := strings.Index(good, `"user":"`) + len(`"user":"`)
	wrong := good[:i] + "#" + good[i:]
	changed := strings.Replace(good, `"load test ✓"`, `"load test x"`, 1)
	for _, tc := range []struct {
		name   string
		t      *template
		status int
		header http.Header
		body   string
		want   int
	}{
		{"resolved", resolve, 200, h, good, classOK},
		{"wrong value", resolve, 200, h, wrong, classUnexplained},
		{"changed member", resolve, 200, h, changed, classUnexplained},
		{"masks missing", resolve, 200, h, `{"connection":` + string(resolve.exp.connection) + `,"masks":[]}`, classUnexplained},
		{"no cache-control", resolve, 200, http.Header{"Content-Type": {"application/json"}}, good, classUnexplained},
		{"malformed", resolve, 200, h, good[:len(good)/2], classUnexplained},
		{"key not found", keyNotFound, 422, h, good422, classOK},
		{"422 for a resolve", resolve, 422, h, good422, classUnexplained},
		{"throttled", resolve, 503, h, throttled, classExplained},
		{"throttled request", resolve, 503, h, `{"error":{"code":"Throttled","message":"m"}}`, classExplained},
		{"timeout", resolve, 503, h, timeout, classUnexplained},
		{"gateway error", resolve, 502, http.Header{"Content-Type": {"application/json"}}, `{"message":"Bad Gateway"}`, classUnexplained},
	} {
		if got, why := verify(tc.t, tc.status, tc.header, []byte(tc.body)); got != tc.want {
			t.Errorf("%s: class %d (%s), want %d", tc.name, got, why, tc.want)
		}
	}
}

// TestLoad runs the whole of `make load`, shortened: the devserver with
// two environments under eight clients for three seconds. It builds the
// function, the emulator and the devserver first.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function, the emulator and the devserver, and runs them for a few seconds")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command:", err)
	}
	bootstrap, rie := lambdatest.Binaries(t)
	devserver := lambdatest.Build(t, lambdatest.DevserverPkg)

	c := defaultConfig()
	c.duration = 3 * time.Second
	c.concurrency = 8
	c.environments = 2
	c.cacheTTL = time.Second // refreshes within the run
	c.seed = "../../events/secrets.json"
	c.devserver, c.rie, c.bootstrap = devserver, rie, bootstrap
	var out bytes.Buffer
	c.out = &out
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := run(ctx, c)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if !res.passed() {
		t.Errorf("the run failed: %q", res.failures)
	}
	if res.load.unexplained != 0 || res.load.ok == 0 {
		t.Errorf("%d unexplained errors, %d answers as expected", res.load.unexplained, res.load.ok)
	}
	if res.stats == nil || res.stats.SecretsManager == nil || res.stats.SecretsManager.Calls == 0 {
		t.Fatalf("no Secrets Manager counts: %+v", res.stats)
	}
	if n := len(res.stats.Environments); n != 2 {
		t.Errorf("%d environments, want 2", n)
	}
	for i, e := range res.stats.Environments {
		if e.Invocations == 0 {
			t.Errorf("environment %d served nothing", i+1)
		}
	}
	// With a one-second TTL over three seconds, the caches must have
	// been refreshed: more reads than one per secret and environment.
	if reads := totalReads(res.stats); reads <= res.mix.unique {
		t.Errorf("%d secret reads for %d secrets: no refresh happened", reads, res.mix.unique)
	}
	if len(res.memory) != 3 {
		t.Errorf("%d memory samples, want start, middle and end", len(res.memory))
	}
	for _, path := range []string{devserver, rie, bootstrap} {
		lambdatest.AssertNoProcess(t, path)
	}
}

func totalReads(s *loadreport.Stats) int {
	n := 0
	for _, r := range s.SecretsManager.SecretReads {
		n += r
	}
	return n
}
