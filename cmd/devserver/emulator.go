package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

const (
	// startTimeout covers `go tool` building the emulator on first use
	// (about 35 s on a cold cache).
	startTimeout = 2 * time.Minute
	// stopTimeout is how long the emulator gets to stop the function and
	// exit after SIGTERM before its process group is killed.
	stopTimeout = 5 * time.Second
)

// emulator is a running Lambda Runtime Interface Emulator with the function
// behind it.
type emulator struct {
	url  string // http://127.0.0.1:<port>
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // the exit status, once done is closed
}

// startEmulator starts the emulator on free loopback ports, running the
// bootstrap with env, and waits until it accepts connections. rie is a
// prebuilt emulator binary, or "" for `go tool aws-lambda-rie`.
func startEmulator(ctx context.Context, rie, bootstrap string, env []string, logs io.Writer) (*emulator, error) {
	bootstrap, err := filepath.Abs(bootstrap)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(bootstrap); err != nil {
		return nil, fmt.Errorf("bootstrap: %w (build it with `make build-local`)", err)
	} else if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("bootstrap %s is not an executable file", bootstrap)
	}
	// The emulator's Runtime API defaults to 127.0.0.1:9001, which another
	// emulator (a test, a second devserver) may hold: always pick a port.
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	args := []string{
		// Explicit, or the emulator would take the function's LOG_LEVEL
		// (debug from events/env.json) as its own.
		"--log-level", "info",
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", ports[1]),
		bootstrap,
	}
	var cmd *exec.Cmd
	if rie != "" {
		cmd = exec.Command(rie, args...)
	} else {
		cmd = exec.Command("go", append([]string{"tool", "aws-lambda-rie"}, args...)...)
	}
	cmd.Env = env
	// The emulator prints START/END/REPORT and the function's own log lines
	// on its stdout; the devserver's stdout is kept for its own messages.
	cmd.Stdout = logs
	cmd.Stderr = logs
	// A group of its own, so that stopping `go tool` reaches the emulator
	// it runs, and a Ctrl-C in the terminal reaches only the devserver,
	// which then stops the children in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the emulator: %w", err)
	}
	e := &emulator{url: "http://" + addr, cmd: cmd, done: make(chan struct{})}
	go func() {
		e.err = cmd.Wait()
		close(e.done)
	}()
	if err := e.waitReady(ctx, addr); err != nil {
		e.stop()
		return nil, err
	}
	return e, nil
}

// waitReady polls addr until it accepts a connection, the process exits or
// ctx ends.
func (e *emulator) waitReady(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-e.done:
			return fmt.Errorf("the emulator exited before listening on %s: %v", addr, e.err)
		case <-ctx.Done():
			return fmt.Errorf("wait for the emulator on %s: %w", addr, ctx.Err())
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM to the emulator's process group (the emulator then
// stops the function, which runs in a group of its own) and kills the group
// if it has not exited in time. It returns once the process is reaped.
func (e *emulator) stop() {
	pgid := e.cmd.Process.Pid
	select {
	case <-e.done:
		return
	default:
	}
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(stopTimeout):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-e.done
	}
}

// freePorts returns n distinct loopback ports that were free a moment ago.
// All listeners are held until every port is chosen, so none repeats. The
// emulator's default Runtime API port and the X-Ray daemon's are never
// chosen, even where the ephemeral range includes them.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close()
		if p := l.Addr().(*net.TCPAddr).Port; !slices.Contains(reservedPorts, p) {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// reservedPorts are the emulator's default Runtime API port and the X-Ray
// daemon's default port.
var reservedPorts = []int{9001, 2000}

// errEmulatorExited reports that the emulator died while serving.
var errEmulatorExited = errors.New("the emulator exited")
