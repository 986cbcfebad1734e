package coldstart

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/maskresolver/maskresolver/internal/lambdatest"
)

func TestMain(m *testing.M) {
	lambdatest.Main(m)
}

// builds returns the three binaries, built once per test binary run with
// the release flags of the Makefile.
func builds(tb testing.TB) map[string]string {
	tb.Helper()
	return map[string]string{
		"resolver":  lambdatest.Bootstrap(tb),
		"echo-sdk":  lambdatest.BuildLambda(tb, "./testdata/echo-sdk"),
		"echo-bare": lambdatest.BuildLambda(tb, "./testdata/echo-bare"),
	}
}

// firstAnswer starts bin and returns how long it took from exec to its
// first answer, and the answer.
func firstAnswer(tb testing.TB, bin string, event []byte, env ...string) (time.Duration, []byte) {
	tb.Helper()
	api := lambdatest.New()
	defer api.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = functionEnv(tb, api, env...)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	ans, err := api.Invoke(ctx, lambdatest.Invocation{Payload: event})
	if err != nil {
		tb.Fatalf("%s gave no answer: %v", filepath.Base(bin), err)
	}
	return time.Since(start), ans.Body
}

const event = `{"connection":{"host":"jira.example.com","port":443}}`

// TestFirstAnswer checks that each binary answers its first invocation
// through the Runtime API, so the benchmark measures working functions.
func TestFirstAnswer(t *testing.T) {
	bins := builds(t)
	for name, bin := range bins {
		_, ans := firstAnswer(t, bin, []byte(event))
		want := event
		if name == "resolver" {
			want = `{"connection":{"host":"jira.example.com","port":443},"masks":[]}`
		}
		if string(ans) != want {
			t.Errorf("%s answered %s, want %s", name, ans, want)
		}
	}
}

// BenchmarkColdStart measures process start to first answer for the
// resolver and its two baselines. Each iteration starts all three, in an
// order that rotates, so that drift in the machine's load falls on all of
// them alike; the metrics are each one's mean time, its stripped binary
// size, and the resolver's ratios to the baselines.
func BenchmarkColdStart(b *testing.B) {
	bins := builds(b)
	names := []string{"resolver", "echo-sdk", "echo-bare"}
	total := map[string]time.Duration{}
	i := 0
	for b.Loop() {
		for k := range names {
			name := names[(i+k)%len(names)]
			took, _ := firstAnswer(b, bins[name], []byte(event))
			total[name] += took
		}
		i++
	}
	ms := func(name string) float64 { return float64(total[name].Microseconds()) / float64(b.N) / 1000 }
	size := func(name string) float64 {
		st, err := os.Stat(bins[name])
		if err != nil {
			b.Fatal(err)
		}
		return float64(st.Size())
	}
	for _, name := range names {
		b.ReportMetric(ms(name), name+"-ms")
		b.ReportMetric(size(name), name+"-bytes")
	}
	b.ReportMetric(ms("resolver")/ms("echo-sdk"), "time-vs-echo-sdk")
	b.ReportMetric(size("resolver")/size("echo-sdk"), "size-vs-echo-sdk")
	b.ReportMetric(ms("resolver")/ms("echo-bare"), "time-vs-echo-bare")
	b.ReportMetric(size("resolver")/size("echo-bare"), "size-vs-echo-bare")
}

// functionEnv is the environment of a function process served by api:
// what Lambda sets, dummy credentials, and no X-Ray or instance metadata.
func functionEnv(tb testing.TB, api *lambdatest.RuntimeAPI, extra ...string) []string {
	return append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + api.Addr,
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench",
		"AWS_LAMBDA_FUNCTION_NAME=bench", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_XRAY_CONTEXT_MISSING=IGNORE_ERROR", "AWS_EC2_METADATA_DISABLED=true",
		"HOME=" + tb.TempDir(),
	}, extra...)
}
