package main

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/maskresolver/maskresolver/internal/lambdatest"
)

// TestColdStartBadConfig runs the bootstrap outside the emulator: a bad
// setting must stop it before it asks the Runtime API for work. A value
// that does not parse and one out of range stand for every bad setting,
// which internal/config's TestLoadErrors lists.
func TestColdStartBadConfig(t *testing.T) {
	t.Parallel()
	bootstrap, _ := binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, tc := range []struct{ name, value string }{
		{"CACHE_TTL", "banana"},
		{"MAX_DEPTH", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.CommandContext(ctx, bootstrap)
			// The Runtime API address points at a closed port, so a
			// bootstrap that wrongly starts would fail rather than hang.
			cmd.Env = childEnv(tc.name+"="+tc.value,
				"AWS_LAMBDA_RUNTIME_API="+lambdatest.FreeAddr(t),
				"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDE2ETEST", "AWS_SECRET_ACCESS_KEY=x")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() == 0 || ee.ExitCode() == -1 {
				t.Fatalf("bootstrap with %s=%s: err = %v, want a non-zero exit; stderr: %s", tc.name, tc.value, err, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.name) {
				t.Errorf("stderr does not name %s: %q", tc.name, stderr.String())
			}
		})
	}
}
