package samtemplate_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMakefileBuildsEveryFunction: `sam build` builds each function of
// BuildMethod makefile by running `make build-<LogicalId>` with
// ARTIFACTS_DIR set, and CodeUri is the repository (no bootstrap there).
// Each target must build its own command, for the function's architecture,
// into ARTIFACTS_DIR/bootstrap (the Handler).
func TestMakefileBuildsEveryFunction(t *testing.T) {
	t.Parallel()
	mk, err := exec.LookPath("make")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("make is not on PATH and CI=true")
		}
		t.Skip("make is not on PATH")
	}
	commands := map[string]string{"ResolverFunction": "./cmd/resolver", "PreTrafficHookFunction": "./cmd/pretraffic"}
	tpl := loadTemplate(t, map[string]any{"PreTrafficConnection": "{}"})
	var built []string
	for name, fn := range tpl.GetAllServerlessFunctionResources() {
		built = append(built, name)
		if got := fn.AWSCloudFormationMetadata["BuildMethod"]; got != "makefile" {
			t.Errorf("%s Metadata.BuildMethod = %v, want makefile", name, got)
		}
		if fn.CodeUri == nil || deref(fn.CodeUri.String) != "." || deref(fn.Handler) != "bootstrap" || !slices.Equal(fn.Architectures, []string{"arm64"}) {
			t.Errorf("%s: CodeUri, Handler or Architectures is not . / bootstrap / [arm64]", name)
		}
		dir := t.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(ctx, mk, "-n", "-C", repoRoot, "build-"+name, "ARTIFACTS_DIR="+dir).CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("make -n build-%s: %v\n%s", name, err, out)
			continue
		}
		cmd := string(out)
		for _, want := range []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", " build ", "-o " + filepath.Join(dir, "bootstrap") + " " + commands[name] + "\n"} {
			if !strings.Contains(cmd, want) {
				t.Errorf("make build-%s runs %q, which lacks %q", name, cmd, want)
			}
		}
	}
	slices.Sort(built)
	if !slices.Equal(built, []string{"PreTrafficHookFunction", "ResolverFunction"}) {
		t.Errorf("functions %q, want the resolver and the hook", built)
	}
}
