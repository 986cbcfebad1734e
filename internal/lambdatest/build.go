package lambdatest

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Import paths of the binaries the end-to-end tests run. Full import paths
// build from any directory of the module, so a test need not know where it
// sits.
const (
	ResolverPkg  = "github.com/maskresolver/maskresolver/cmd/resolver"
	DevserverPkg = "github.com/maskresolver/maskresolver/cmd/devserver"
	EmulatorPkg  = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
)

// lambdaFlags are the Makefile's GOFLAGS_LAMBDA: stripped, reproducible and
// without the net/rpc runtime, which provided.al2023 does not speak.
var lambdaFlags = []string{"-trimpath", "-ldflags", "-s -w", "-tags", "lambda.norpc"}

// builds holds every binary built in this process, each behind its own
// once, so that parallel tests asking for the same build wait for one go
// command and tests asking for different ones build them side by side.
var builds struct {
	mu   sync.Mutex
	dir  string
	byID map[string]func() (string, error)
}

// Build builds the main package pkg with the go build flags once per test
// binary and returns the path of the executable, named after pkg's last
// element. pkg is an import path, or a directory starting with "." taken
// from the test's working directory (its package's directory). Every build
// is static (CGO_ENABLED=0), as Lambda runs it. A failed build fails tb, and
// every later test asking for it.
//
// The binaries live in one directory per process, which Main or
// RemoveBuilds deletes once the tests are done.
func Build(tb testing.TB, pkg string, flags ...string) string {
	tb.Helper()
	bin, err := build(pkg, flags)
	if err != nil {
		tb.Fatalf("build: %v", err)
	}
	return bin
}

// BuildLambda builds pkg as the Makefile builds a Lambda function (make
// build-local: CGO_ENABLED=0 and GOFLAGS_LAMBDA).
func BuildLambda(tb testing.TB, pkg string) string {
	tb.Helper()
	return Build(tb, pkg, lambdaFlags...)
}

// Bootstrap returns the function, cmd/resolver, built as for
// provided.al2023.
func Bootstrap(tb testing.TB) string {
	tb.Helper()
	return BuildLambda(tb, ResolverPkg)
}

// Emulator returns the Lambda Runtime Interface Emulator, built from the
// version go.mod requires. Its first build takes about 35 s.
func Emulator(tb testing.TB) string {
	tb.Helper()
	return Build(tb, EmulatorPkg)
}

// Binaries returns Bootstrap and Emulator, building the two at once: the
// emulator's cold build is most of an end-to-end test's first minute.
func Binaries(tb testing.TB) (bootstrap, rie string) {
	tb.Helper()
	var wg sync.WaitGroup
	var bootErr, rieErr error
	wg.Go(func() { bootstrap, bootErr = build(ResolverPkg, lambdaFlags) })
	wg.Go(func() { rie, rieErr = build(EmulatorPkg, nil) })
	wg.Wait()
	for _, err := range []error{bootErr, rieErr} {
		if err != nil {
			tb.Fatalf("build: %v", err)
		}
	}
	return bootstrap, rie
}

// Main runs the package's tests, removes the binaries they built and exits
// with the tests' code: the whole of a TestMain that needs no more.
func Main(m *testing.M) {
	code := m.Run()
	RemoveBuilds()
	os.Exit(code)
}

// RemoveBuilds deletes every binary Build made, for a TestMain that does
// more than Main. Call it once m.Run has returned; Build must not run after
// it.
func RemoveBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
}

// build builds pkg with flags once per process and returns the binary;
// callers after the first wait for the first one's build.
func build(pkg string, flags []string) (string, error) {
	if strings.HasPrefix(pkg, ".") {
		abs, err := filepath.Abs(pkg)
		if err != nil {
			return "", err
		}
		pkg = abs
	}
	id := strings.Join(append([]string{pkg}, flags...), "\x00")
	builds.mu.Lock()
	if builds.byID == nil {
		builds.byID = map[string]func() (string, error){}
	}
	once, ok := builds.byID[id]
	if !ok {
		// Each build gets a directory of its own: the same package built
		// with other flags keeps its name.
		n := len(builds.byID)
		once = sync.OnceValues(func() (string, error) { return goBuild(n, pkg, flags) })
		builds.byID[id] = once
	}
	builds.mu.Unlock()
	return once()
}

func goBuild(n int, pkg string, flags []string) (string, error) {
	builds.mu.Lock()
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "lambdatest-")
		if err != nil {
			builds.mu.Unlock()
			return "", err
		}
		builds.dir = dir
	}
	dir := filepath.Join(builds.dir, strconv.Itoa(n))
	builds.mu.Unlock()
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, path.Base(filepath.ToSlash(pkg)))
	args := append(append([]string{"build"}, flags...), "-o", bin, pkg)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin, nil
}
