package testcluster

import (
	"context"
	"sync"
	"sync/atomic"
)

// Loop signs continuously in the background: it calls its sign function
// with i = 0, 1, ... until Stop, counting what succeeds and keeping the
// errors of what fails.
type Loop struct {
	stop           context.CancelFunc
	wg             sync.WaitGroup
	signed, failed atomic.Int64
	mu             sync.Mutex
	errs           []error
}

// StartLoop starts a Loop calling sign until Stop is called or ctx ends.
// A sign already running when the loop stops is completed.
func StartLoop(ctx context.Context, sign func(i int) error) *Loop {
	loop, stop := context.WithCancel(ctx)
	l := &Loop{stop: stop}
	l.wg.Go(func() {
		for i := 0; loop.Err() == nil; i++ {
			if err := sign(i); err != nil {
				l.failed.Add(1)
				l.mu.Lock()
				l.errs = append(l.errs, err)
				l.mu.Unlock()
				continue
			}
			l.signed.Add(1)
		}
	})
	return l
}

// Signed returns how many signings succeeded so far.
func (l *Loop) Signed() int64 { return l.signed.Load() }

// Failed returns how many signings failed so far.
func (l *Loop) Failed() int64 { return l.failed.Load() }

// Errors returns the errors of the failed signings so far.
func (l *Loop) Errors() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}

// Stop ends the loop and waits for the signing in progress.
func (l *Loop) Stop() {
	l.stop()
	l.wg.Wait()
}
