package main

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/lambdatest"
)

// TestMain removes the binaries the end-to-end test built.
func TestMain(m *testing.M) {
	lambdatest.Main(m)
}

// TestLocalFront runs maskctl against the local front of `make run`: the
// devserver with the built function under the Runtime Interface Emulator
// and the Secrets Manager double seeded from events/secrets.json.
func TestLocalFront(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function, the emulator and the devserver (about 40 s on a cold cache)")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command:", err)
	}
	t.Parallel()
	// As `make build-local` builds the function.
	bootstrap, rie := lambdatest.Binaries(t)
	devserver := lambdatest.Build(t, lambdatest.DevserverPkg)

	// Registered first, so it runs last: after the devserver has stopped,
	// nothing it started may still run.
	t.Cleanup(func() {
		for _, path := range []string{devserver, rie, bootstrap} {
			lambdatest.AssertNoProcess(t, path)
		}
	})
	addr := lambdatest.FreeAddr(t)
	url := "http://" + addr + "/v1/resolve"
	startDevserver(t, devserver,
		"-addr", addr,
		"-rie", rie,
		"-bootstrap", bootstrap,
		"-secrets", "../../events/secrets.json",
		"-secrets-manager", "fake")

	payload := `{"client_secret":"` + seedMask + `"}`

	// Signed with static credentials (the front does not check them).
	res := testCLI(staticCreds, "us-east-1", nil).runTest(t, payload, "--url", url)
	if res.code != exitOK || res.stderr != "" {
		t.Fatalf("resolve: exit %d, stderr %q, stdout %q", res.code, res.stderr, res.stdout)
	}
	if !strings.Contains(res.stdout, `"client_secret":"jira-demo-3f9c2a"`) || !strings.Contains(res.stdout, `"status":"resolved"`) {
		t.Errorf("resolve: stdout %q", res.stdout)
	}

	// Unsigned, as a request object through stdin.
	res = testCLI(staticCreds, "us-east-1", nil).runTest(t, `{"connection":`+payload+`}`, "--no-sign", "--dry-run", "--pretty", "--url", url)
	if res.code != exitOK || res.stderr != "" {
		t.Fatalf("dry run: exit %d, stderr %q, stdout %q", res.code, res.stderr, res.stdout)
	}
	if !strings.Contains(res.stdout, `"status": "verified"`) || strings.Contains(res.stdout, "jira-demo-3f9c2a") ||
		!strings.Contains(res.stdout, `"client_secret": "`+seedMask+`"`) {
		t.Errorf("dry run: stdout %q", res.stdout)
	}

	// No credentials: the loopback front is called unsigned, with a note.
	failing := `{"client_secret":"` + seedMask + `","token":"{{workato:sm:no.such.key:arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-jira-credentials-FsmeTs}}"}`
	res = testCLI(instanceRoleOnly, "us-east-1", nil).runTest(t, failing, "--url", url)
	lines := strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n")
	if res.code != exitStatus || len(lines) != 2 || lines[0] != "maskctl: note: no AWS credentials in the environment or the shared config; sending unsigned to loopback host 127.0.0.1" ||
		!strings.HasPrefix(lines[1], "maskctl: 422 MaskResolutionFailed: ") {
		t.Errorf("failing mask: exit %d, stderr %q", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, `"code":"KeyNotFound"`) || strings.Contains(res.stdout+res.stderr, "jira-demo-3f9c2a") {
		t.Errorf("failing mask: stdout %q", res.stdout)
	}

	// check reports the invalid masks as the function does: the same
	// pointers, codes and messages, in the same order.
	res = testCLI(staticCreds, "us-east-1", nil).runTest(t, checkPayload, "--dry-run", "--url", url)
	var body answer.Body
	if err := json.Unmarshal([]byte(res.stdout), &body); err != nil || res.code != exitStatus || body.Error == nil {
		t.Fatalf("invalid masks: exit %d, stdout %q: %v", res.code, res.stdout, err)
	}
	var fromAPI, fromCheck []answer.MaskEntry
	for _, m := range body.Error.Masks {
		if m.Code == codeInvalidMask {
			fromAPI = append(fromAPI, m)
		}
	}
	checked := offlineCLI(t).runTest(t, checkPayload, "check")
	for line := range strings.Lines(checked.stdout) {
		var m answer.MaskEntry
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("check: %q: %v", line, err)
		}
		if m.Code != "" {
			fromCheck = append(fromCheck, m)
		}
	}
	if len(fromAPI) == 0 || !slices.Equal(fromAPI, fromCheck) {
		t.Errorf("invalid masks:\n the function: %+v\n check:        %+v", fromAPI, fromCheck)
	}

	checkLocalFrontScope(t, url)
}

// startDevserver starts the devserver with args and waits until its -addr
// accepts connections, which it does once the function is up. Cleanup
// stops it with SIGTERM, as Ctrl-C would, and waits for it to exit.
func startDevserver(t *testing.T, path string, args ...string) {
	t.Helper()
	var addr string
	for i, a := range args {
		if a == "-addr" && i+1 < len(args) {
			addr = args[i+1]
		}
	}
	out := &lambdatest.Buffer{}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "SECRETS_MANAGER=fake")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			// The devserver exits 0 when a signal stops it.
			if err != nil {
				t.Errorf("devserver: %v", err)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Error("the devserver did not stop within 30 s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("devserver output:\n%s", out)
		}
	})

	deadline := time.Now().Add(2 * time.Minute)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("the devserver exited before listening: %v\n%s", err, out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the devserver did not listen on %s: %v\n%s", addr, err, out)
		}
	}
}
