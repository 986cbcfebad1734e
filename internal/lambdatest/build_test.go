package lambdatest

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

func TestMain(m *testing.M) {
	Main(m)
}

// TestBuild: parallel callers of one build share one binary; other flags
// make another, under the same name.
func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	t.Parallel()
	paths := make([]string, 4)
	var wg sync.WaitGroup
	for i := range paths {
		wg.Go(func() { paths[i], _ = build("./testdata/hello", lambdaFlags) })
	}
	wg.Wait()
	for _, p := range paths[1:] {
		if p != paths[0] {
			t.Fatalf("one build gave several binaries: %q", paths)
		}
	}
	if got := BuildLambda(t, "./testdata/hello"); got != paths[0] {
		t.Errorf("BuildLambda = %s, want the binary built before, %s", got, paths[0])
	}
	plain := Build(t, "./testdata/hello")
	if plain == paths[0] || filepath.Base(plain) != "hello" {
		t.Errorf("a build without flags gave %s (the Lambda build is %s)", plain, paths[0])
	}
	for _, bin := range []string{paths[0], plain} {
		if out, err := exec.Command(bin).Output(); err != nil || string(out) != "hello\n" {
			t.Errorf("%s: %q, %v", bin, out, err)
		}
	}
}

func TestBuffer(t *testing.T) {
	t.Parallel()
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			fmt.Fprintf(&b, "%d\n", i)
			_ = b.String()
		})
	}
	wg.Wait()
	if n := len(b.String()); n != 16 {
		t.Errorf("%d bytes after 8 writes of 2, want 16", n)
	}
}
