package main

import "syscall"

// sysProcAttr puts the devserver in a process group of its own and has the
// kernel stop it if the load test dies without stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
