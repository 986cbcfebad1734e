package lambdatest

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Buffer collects a child process's output, or a logger's, while the test
// reads it. The zero value is ready to use; it is safe for concurrent use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// FreeAddr returns a loopback address whose port nobody listened on a moment
// ago, never one of the well-known ports other emulators and the X-Ray
// daemon default to (8080, 9000, 9001, 2000), so that a child left at a
// default cannot take it.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		addr := l.Addr().(*net.TCPAddr)
		l.Close()
		switch addr.Port {
		case 9001, 2000, 8080, 9000:
			continue
		}
		return addr.String()
	}
}

// AssertNoProcess fails tb if a live process still runs the executable at
// path: what a test started must be gone once it has stopped it. It reads
// /proc, so it checks nothing where there is none.
func AssertNoProcess(tb testing.TB, path string) {
	tb.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(b, []byte(path+"\x00")) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(filepath.Dir(p), "stat"))
		// Field 3 of stat is the state; a zombie has exited already.
		if err == nil && !strings.Contains(string(stat), ") Z ") {
			tb.Errorf("process %s still runs %s", filepath.Dir(p), path)
		}
	}
}
