package policy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
)

// ErrNotConfirmed: the operator said no, or did not answer in time.
var ErrNotConfirmed = errors.New("policy: not confirmed by the operator")

// Prompt returns a Confirm that shows each request's summary as JSON on out
// and waits for the operator to type "yes" on in ([0092]); anything else,
// or the task's deadline, refuses. One request is shown at a time; an
// answer typed after its request's deadline is discarded, never applied to
// the next request.
func Prompt(in io.Reader, out io.Writer) Confirm {
	p := &prompter{out: out, lines: make(chan string)}
	go p.read(in)
	return p.confirm
}

type prompter struct {
	mu    sync.Mutex
	out   io.Writer
	lines chan string
}

func (p *prompter) read(in io.Reader) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		p.lines <- sc.Text()
	}
	close(p.lines)
}

func (p *prompter) confirm(ctx context.Context, s *Summary) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for drained := false; !drained; { // answers to earlier prompts
		select {
		case _, ok := <-p.lines:
			if !ok {
				return ErrNotConfirmed
			}
		default:
			drained = true
		}
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return ErrNotConfirmed
	}
	fmt.Fprintf(p.out, "\nSigning request:\n%s\nSign it? Type yes or no: ", b)
	select {
	case line, ok := <-p.lines:
		if ok && strings.TrimSpace(line) == "yes" {
			return nil
		}
		fmt.Fprintln(p.out, "refused")
	case <-ctx.Done():
		fmt.Fprintln(p.out, "\nno answer in time: refused")
	}
	return ErrNotConfirmed
}

// Exec returns a Confirm that runs the program command (split at spaces,
// no shell) with the request's summary as JSON on its standard input, and
// confirms exactly when it exits with status 0 before the task's deadline.
func Exec(command string) (Confirm, error) {
	args := strings.Fields(command)
	if len(args) == 0 {
		return nil, fmt.Errorf("%w: empty approval command", ErrPolicy)
	}
	return func(ctx context.Context, s *Summary) error {
		b, err := json.Marshal(s)
		if err != nil {
			return ErrNotConfirmed
		}
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Stdin = bytes.NewReader(b)
		if err := cmd.Run(); err != nil {
			return ErrNotConfirmed
		}
		return nil
	}, nil
}

// ParseApprove returns the Confirm of a -approve flag value: "" (none),
// "prompt" (on in and out) or "exec:COMMAND".
func ParseApprove(v string, in io.Reader, out io.Writer) (Confirm, error) {
	switch {
	case v == "":
		return nil, nil
	case v == "prompt":
		return Prompt(in, out), nil
	case strings.HasPrefix(v, "exec:"):
		return Exec(strings.TrimPrefix(v, "exec:"))
	}
	return nil, fmt.Errorf("%w: -approve %q: want prompt or exec:COMMAND", ErrPolicy, v)
}
