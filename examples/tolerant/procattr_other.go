//go:build !linux

package main

import "os/exec"

// setDeathSignal does nothing outside Linux: children of a demo that is
// killed keep running until they are stopped.
func setDeathSignal(cmd *exec.Cmd) {}
