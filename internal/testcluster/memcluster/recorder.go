package memcluster

import (
	"bytes"
	"slices"
	"sync"

	"github.com/tolerantca/tolerant/broadcast"
)

// Recorder is a broadcast.Observer that keeps a copy of every event.
type Recorder struct {
	mu     sync.Mutex
	events []broadcast.Event
}

// Observe keeps a deep copy of e: the node may reuse what e points to.
func (r *Recorder) Observe(e *broadcast.Event) {
	c := *e
	c.Calculators = slices.Clone(e.Calculators)
	c.Signature = bytes.Clone(e.Signature)
	c.Rep = slices.Clone(e.Rep)
	if e.Request != nil {
		req := *e.Request
		req.Content, req.Digest = bytes.Clone(req.Content), bytes.Clone(req.Digest)
		c.Request = &req
	}
	r.mu.Lock()
	r.events = append(r.events, c)
	r.mu.Unlock()
}

// Of returns the events of kind k of task (0: of any task), in the order
// they were observed.
func (r *Recorder) Of(k broadcast.EventKind, task uint64) []broadcast.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []broadcast.Event
	for _, e := range r.events {
		if e.Kind == k && (task == 0 || e.Task == task) {
			out = append(out, e)
		}
	}
	return out
}

// Events returns every event observed so far.
func (r *Recorder) Events() []broadcast.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}
