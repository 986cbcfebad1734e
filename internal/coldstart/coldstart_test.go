package coldstart

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/maskresolver/maskresolver/internal/lambdatest"
)

// builds holds the three binaries, built once per test binary run with the
// release flags of the Makefile.
var builds = sync.OnceValues(func() (map[string]string, error) {
	dir, err := os.MkdirTemp("", "coldstart")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for name, pkg := range map[string]string{
		"resolver":  "../../cmd/resolver",
		"echo-sdk":  "./testdata/echo-sdk",
		"echo-bare": "./testdata/echo-bare",
	} {
		bin := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-tags", "lambda.norpc", "-o", bin, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, &buildError{pkg: pkg, out: string(b), err: err}
		}
		out[name] = bin
	}
	return out, nil
})

type buildError struct {
	pkg, out string
	err      error
}

func (e *buildError) Error() string { return "build " + e.pkg + ": " + e.err.Error() + "\n" + e.out }

// firstAnswer starts bin and returns how long it took from exec to its
// first answer, and the answer.
func firstAnswer(tb testing.TB, bin string, event []byte, env ...string) (time.Duration, []byte) {
	tb.Helper()
	api := lambdatest.New()
	defer api.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + api.Addr,
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=cold", "AWS_SECRET_ACCESS_KEY=cold",
		"AWS_LAMBDA_FUNCTION_NAME=cold", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_XRAY_CONTEXT_MISSING=IGNORE_ERROR", "AWS_EC2_METADATA_DISABLED=true",
		"HOME=" + tb.TempDir(),
	}, env...)
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
	bins, err := builds()
	if err != nil {
		t.Fatal(err)
	}
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
// resolver and, in the same run, its two baselines; bytes is the stripped
// binary size.
func BenchmarkColdStart(b *testing.B) {
	bins, err := builds()
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"resolver", "echo-sdk", "echo-bare"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			st, err := os.Stat(bins[name])
			if err != nil {
				b.Fatal(err)
			}
			var total time.Duration
			for b.Loop() {
				took, _ := firstAnswer(b, bins[name], []byte(event))
				total += took
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms-to-first-answer")
			b.ReportMetric(float64(st.Size()), "binary-bytes")
		})
	}
}
