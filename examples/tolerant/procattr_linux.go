package main

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel send SIGTERM to cmd's process when this
// process dies, so that a crashed or killed demo leaves no node behind.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
