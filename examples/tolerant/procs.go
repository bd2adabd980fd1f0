package main

// Child processes of "demo -nats" (and of the multi-process test): nodes
// and brokers started from this program's executable, their output kept
// line by line so that the parent can wait for "node ready" and tell why a
// node died.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxProcLines bounds the output lines a proc keeps.
const maxProcLines = 4000

// proc is a child process of this program.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and its output is read
	err  error         // the exit status; read after done

	mu      sync.Mutex
	lines   []string
	partial []byte
	changed chan struct{} // closed and replaced on every new line
	onLine  func(name, line string)
}

// startProc starts exe with args. Both stdout and stderr are kept as lines;
// onLine, when set, sees every line as it arrives. The process gets SIGTERM
// if this one dies (on Linux).
func startProc(exe, name string, args []string, onLine func(name, line string)) (*proc, error) {
	p := &proc{name: name, done: make(chan struct{}), changed: make(chan struct{}), onLine: onLine}
	p.cmd = exec.Command(exe, args...)
	p.cmd.Stdout = p
	p.cmd.Stderr = p
	p.cmd.Env = os.Environ()
	setDeathSignal(p.cmd)
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		p.mu.Lock()
		if len(p.partial) > 0 {
			p.addLocked(string(p.partial))
			p.partial = nil
		}
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// Write implements io.Writer for the child's output.
func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partial = append(p.partial, b...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			break
		}
		p.addLocked(string(p.partial[:i]))
		p.partial = p.partial[i+1:]
	}
	if len(p.partial) > 64<<10 { // a runaway line
		p.addLocked(string(p.partial))
		p.partial = nil
	}
	return len(b), nil
}

// addLocked keeps one line and wakes the waiters; p.mu is held.
func (p *proc) addLocked(line string) {
	if len(p.lines) >= maxProcLines {
		p.lines = append(p.lines[:0], p.lines[len(p.lines)-maxProcLines/2:]...)
	}
	p.lines = append(p.lines, line)
	close(p.changed)
	p.changed = make(chan struct{})
	if p.onLine != nil {
		p.onLine(p.name, line)
	}
}

// Lines returns the output lines kept so far.
func (p *proc) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// tail returns the last n lines, for error messages.
func (p *proc) tail(n int) string {
	l := p.Lines()
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

// waitFor waits until a line satisfying match appears and returns it. It
// fails when ctx ends or the process exits first.
func (p *proc) waitFor(ctx context.Context, match func(string) bool) (string, error) {
	seen := 0
	for {
		p.mu.Lock()
		for ; seen < len(p.lines); seen++ {
			if match(p.lines[seen]) {
				l := p.lines[seen]
				p.mu.Unlock()
				return l, nil
			}
		}
		if seen > len(p.lines) { // trimmed
			seen = 0
		}
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-changed:
		case <-p.done:
			// Look once more at what arrived with the exit.
			p.mu.Lock()
			for _, l := range p.lines[min(seen, len(p.lines)):] {
				if match(l) {
					p.mu.Unlock()
					return l, nil
				}
			}
			p.mu.Unlock()
			return "", fmt.Errorf("%s exited (%v) before it was ready; its last output:\n%s", p.name, p.err, p.tail(15))
		case <-ctx.Done():
			return "", fmt.Errorf("%s: %w; its last output:\n%s", p.name, ctx.Err(), p.tail(15))
		}
	}
}

// logRecord decodes a JSON log line; ok is false for other lines.
func logRecord(line string) (rec map[string]any, ok bool) {
	if !strings.HasPrefix(line, "{") {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber() // task numbers do not fit a float64
	if err := dec.Decode(&rec); err != nil {
		return nil, false
	}
	return rec, true
}

// logMsg returns a matcher of JSON log lines whose msg is msg.
func logMsg(msg string) func(string) bool {
	return func(line string) bool {
		rec, ok := logRecord(line)
		return ok && rec["msg"] == msg
	}
}

// waitReady waits for a node's "node ready" log line.
func (p *proc) waitReady(ctx context.Context) error {
	_, err := p.waitFor(ctx, logMsg("node ready"))
	return err
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the exit.
func (p *proc) kill() {
	if !p.exited() {
		p.cmd.Process.Kill()
	}
	<-p.done
}

// stop sends SIGTERM and waits up to timeout for the exit, then kills. It
// returns the exit error (nil for status 0).
func (p *proc) stop(timeout time.Duration) error {
	if p.exited() {
		return p.err
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.kill()
		return err
	}
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.kill()
		return fmt.Errorf("%s did not stop within %v after SIGTERM: killed", p.name, timeout)
	}
}
