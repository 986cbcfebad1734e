//go:build linux || darwin

package main

import (
	"fmt"
	"syscall"
	"time"
)

// raiseOpenFiles raises the soft limit on open files to the hard limit:
// the fleet holds both ends of every connection in this one process, up to
// two descriptors per secret read in flight. When need is more than the
// hard limit it tries to raise that too, which only a privileged process
// may; otherwise it says what to expect. It returns the soft limit in
// force.
func raiseOpenFiles(need uint64) (limit uint64, note string) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, fmt.Sprintf("cannot read the open-file limit: %v", err)
	}
	if r.Cur < r.Max {
		want := r
		want.Cur = want.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			note = fmt.Sprintf("cannot raise the open-file limit from %d to %d: %v; ", r.Cur, r.Max, err)
		} else {
			r = want
		}
	}
	if r.Cur >= need {
		return uint64(r.Cur), note
	}
	want := syscall.Rlimit{Cur: need, Max: max(need, r.Max)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
		return need, note + fmt.Sprintf("raised the hard open-file limit from %d to %d (privileged)", r.Max, need)
	}
	return uint64(r.Cur), note + fmt.Sprintf("open-file limit %d is below the ~%d this run may hold: connections past it fail with EMFILE (counted below), the machine's limit rather than the quotas'", r.Cur, need)
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
