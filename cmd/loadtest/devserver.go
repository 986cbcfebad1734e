package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/maskresolver/maskresolver/internal/loadreport"
)

const (
	resolvePath = "/v1/resolve"
	// readyTimeout covers starting the emulators and their first listen;
	// the binaries are built beforehand.
	readyTimeout = time.Minute
	// stopTimeout is how long the devserver gets to stop its emulators
	// (5 s each at worst, in parallel) and exit after SIGTERM.
	stopTimeout = 15 * time.Second
)

// devserverProc is the devserver started as a child process, in a process
// group of its own so that a Ctrl-C reaches only the load test, which then
// stops it in order.
type devserverProc struct {
	cmd                *exec.Cmd
	frontURL, statsURL string
	logPath            string
	started            time.Time
	done               chan struct{} // closed when the process has exited
	err                error         // its exit status, once done is closed
	// lastStats are the pids seen by the last stats read, for killing
	// what a devserver that had to be killed leaves behind.
	lastStats *loadreport.Stats
}

var (
	listeningRE = regexp.MustCompile(`listening on (http://\S+)/v1/resolve`)
	statsRE     = regexp.MustCompile(`curl -s (http://\S+` + regexp.QuoteMeta(loadreport.StatsPath) + `)\s*$`)
)

// startDevserver runs the devserver against seedPath with the load test's
// double settings, its log in dir, and waits until its front and stats
// listener are up.
func startDevserver(ctx context.Context, c config, seedPath, dir string) (*devserverProc, error) {
	for _, bin := range []string{c.devserver, c.rie, c.bootstrap} {
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("%w (make load builds it)", err)
		}
	}
	logPath := filepath.Join(dir, "devserver.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	args := []string{
		"-addr", "127.0.0.1:0",
		"-stats-addr", "127.0.0.1:0",
		"-secrets-manager", "fake",
		"-secrets", seedPath,
		"-rie", c.rie,
		"-bootstrap", c.bootstrap,
		"-environments", fmt.Sprint(c.environments),
		"-sm-latency", c.smLatency.String(),
		"-sm-throttle-percent", fmt.Sprint(c.smThrottlePercent),
	}
	cmd := exec.Command(c.devserver, args...)
	// The function's configuration passes through the devserver and the
	// emulator; only the cache's TTL is the load test's.
	cmd.Env = append(os.Environ(), "CACHE_TTL="+c.cacheTTL.String())
	// The emulators' and functions' output, a few lines per invocation,
	// goes straight to a file rather than through this process.
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.SysProcAttr = sysProcAttr()
	d := &devserverProc{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	d.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the devserver: %w", err)
	}
	urls := make(chan [2]string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		var front, stats string
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				front = m[1]
			}
			if m := statsRE.FindStringSubmatch(line); m != nil {
				stats = m[1]
			}
			if front != "" && stats != "" {
				urls <- [2]string{front, stats}
				front = "" // send once
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		<-scanned // Wait closes the pipe: read it to the end first
		d.err = cmd.Wait()
		close(d.done)
	}()
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	select {
	case u := <-urls:
		d.frontURL, d.statsURL = u[0], u[1]
		return d, nil
	case <-d.done:
		return nil, fmt.Errorf("the devserver exited before it was ready (%v):\n%s", d.err, tail(logPath, 20))
	case <-ctx.Done():
		d.stop()
		return nil, fmt.Errorf("wait for the devserver: %w", ctx.Err())
	}
}

// stop asks the devserver to stop (SIGTERM: it stops its emulators, which
// stop the functions) and kills it and everything it started if it has not
// exited in time. It returns the devserver's exit error, if any.
func (d *devserverProc) stop() error {
	select {
	case <-d.done:
		return d.exitErr()
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return d.exitErr()
	case <-time.After(stopTimeout):
	}
	// Each emulator and each function runs in a process group of its own.
	if s := d.lastStats; s != nil {
		for _, e := range s.Environments {
			_ = syscall.Kill(-e.EmulatorPID, syscall.SIGKILL)
			for _, pid := range e.FunctionPIDs {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	<-d.done
	return fmt.Errorf("the devserver did not stop within %s of SIGTERM and was killed", stopTimeout)
}

func (d *devserverProc) exitErr() error {
	if d.err != nil {
		return fmt.Errorf("the devserver exited: %w", d.err)
	}
	return nil
}

// reportLines returns the devserver's own log lines (its counts at
// shutdown), leaving out the emulators' and functions' lines.
func (d *devserverProc) reportLines() []string {
	f, err := os.Open(d.logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "devserver: ") {
			lines = append(lines, line)
		}
	}
	return lines
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// errNoStats is returned when the devserver has no stats listener.
var errNoStats = errors.New("no stats URL")
