// Package memory is an in-process transport of the broadcast channels
// (a [transport.Broadcaster]) that misbehaves on demand: it loses,
// duplicates, reorders and delays deliveries ([Faults]), cuts named
// endpoints apart ([Bus.Partition]) and crashes them ([Bus.SetDown]), so
// that the protocol of package broadcast is tested against what a real
// network does ([0035]). It knows nothing of the protocol: messages are
// opaque bytes. Package broadcast runs its in-process clusters on it
// (broadcast.StartLocal) and names it broadcast.Memory.
package memory

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tolerantca/tolerant/broadcast/transport"
)

// Faults are what a [Bus] does wrong on purpose, to test the protocol
// against loss, delay and duplication ([0035]). Each probability applies
// to one delivery: one message to one subscriber. The zero value is a
// perfect transport.
type Faults struct {
	// Loss is the probability that a delivery is lost.
	Loss float64
	// Duplicate is the probability that a delivery happens twice.
	Duplicate float64
	// Reorder is the probability that a delivery is held back by a random
	// time up to ReorderWindow, so that later messages overtake it.
	Reorder float64
	// ReorderWindow bounds the hold-back of a reordered delivery; default 5ms.
	ReorderWindow time.Duration
	// Delay is added to every delivery.
	Delay time.Duration
	// Jitter adds a random delay uniform in [0, Jitter) to every delivery.
	Jitter time.Duration
}

// Options tune a [Bus] broadcaster. The zero value is usable.
type Options struct {
	// Buffer is the capacity of every subscription's queue. A message that
	// finds the queue full is dropped and counted (Stats.Overflow),
	// so that a slow subscriber never blocks a publisher. Default 8192.
	Buffer int
	// Faults are injected into every delivery.
	Faults Faults
	// Seed seeds the random fault decisions. With one publisher, the same
	// seed gives the same decisions.
	Seed uint64
}

// Stats counts what a [Bus] broadcaster did.
type Stats struct {
	Published  uint64 // messages published
	Delivered  uint64 // deliveries placed in a subscriber's queue
	Overflow   uint64 // deliveries dropped because a queue was full
	Lost       uint64 // deliveries dropped by Faults.Loss
	Duplicated uint64 // extra deliveries made by Faults.Duplicate
	Delayed    uint64 // deliveries delayed by Delay, Jitter or Reorder
	Blocked    uint64 // deliveries refused by a partition or a down endpoint
}

// Bus is an in-process [transport.Broadcaster]. Publish never blocks: each
// subscription has a bounded queue and what does not fit is dropped.
//
// Nodes may each get their own named [Bus.Endpoint], so that tests can
// cut the network between them ([Bus.Partition]) or crash them
// ([Bus.SetDown]). Bus itself is the endpoint with the empty name,
// which no partition or crash affects.
type Bus struct {
	buffer int

	mu     sync.Mutex
	closed bool
	rng    *rand.Rand
	faults Faults
	subs   map[transport.Channel]map[*memSub]struct{}
	timers map[*time.Timer]struct{}
	down   map[string]bool
	side   map[string]int

	published, delivered, overflow, lost, duplicated, delayed, blocked atomic.Uint64
}

// New returns an in-memory broadcaster. opts may be nil.
func New(opts *Options) *Bus {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Buffer <= 0 {
		o.Buffer = 8192
	}
	return &Bus{
		buffer: o.Buffer,
		rng:    rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)),
		faults: o.Faults,
		subs:   make(map[transport.Channel]map[*memSub]struct{}),
		timers: make(map[*time.Timer]struct{}),
		down:   make(map[string]bool),
		side:   make(map[string]int),
	}
}

// SetFaults replaces the faults injected from now on.
func (m *Bus) SetFaults(f Faults) {
	m.mu.Lock()
	m.faults = f
	m.mu.Unlock()
}

// Endpoint returns the broadcaster as seen by the node called name. Messages
// between endpoints pass only when both are up and on the same side of any
// partition.
func (m *Bus) Endpoint(name string) transport.Broadcaster { return &endpoint{m: m, name: name} }

// SetDown crashes (down=true) or revives the endpoint called name: a down
// endpoint's messages vanish and it receives nothing.
func (m *Bus) SetDown(name string, down bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if down {
		m.down[name] = true
	} else {
		delete(m.down, name)
	}
}

// Partition splits the named endpoints into sides: messages pass only
// between endpoints of the same side. Endpoints not named reach everyone.
// It replaces any earlier partition.
func (m *Bus) Partition(sides ...[]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.side = make(map[string]int)
	for n, names := range sides {
		for _, name := range names {
			m.side[name] = n + 1
		}
	}
}

// Heal removes any partition.
func (m *Bus) Heal() { m.Partition() }

// Stats returns the counters so far.
func (m *Bus) Stats() Stats {
	return Stats{
		Published:  m.published.Load(),
		Delivered:  m.delivered.Load(),
		Overflow:   m.overflow.Load(),
		Lost:       m.lost.Load(),
		Duplicated: m.duplicated.Load(),
		Delayed:    m.delayed.Load(),
		Blocked:    m.blocked.Load(),
	}
}

// Publish implements [transport.Broadcaster] for the unnamed endpoint.
func (m *Bus) Publish(ctx context.Context, ch transport.Channel, msg []byte) error {
	return m.publish(ctx, "", ch, msg)
}

// Subscribe implements [transport.Broadcaster] for the unnamed endpoint.
func (m *Bus) Subscribe(ch transport.Channel) (transport.Subscription, error) {
	return m.subscribe("", ch)
}

// Close closes every subscription and cancels delayed deliveries. Later
// calls to Publish and Subscribe return transport.ErrClosed.
func (m *Bus) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	var subs []*memSub
	for _, set := range m.subs {
		for s := range set {
			subs = append(subs, s)
		}
	}
	m.subs = nil
	for t := range m.timers {
		t.Stop()
	}
	m.timers = nil
	m.mu.Unlock()
	for _, s := range subs {
		s.close()
	}
	return nil
}

type endpoint struct {
	m    *Bus
	name string
}

func (e *endpoint) Publish(ctx context.Context, ch transport.Channel, msg []byte) error {
	return e.m.publish(ctx, e.name, ch, msg)
}

func (e *endpoint) Subscribe(ch transport.Channel) (transport.Subscription, error) {
	return e.m.subscribe(e.name, ch)
}

// connected reports whether a message from a reaches b. m.mu is held.
func (m *Bus) connected(a, b string) bool {
	if m.down[a] || m.down[b] {
		return false
	}
	sa, sb := m.side[a], m.side[b]
	return sa == 0 || sb == 0 || sa == sb
}

type delivery struct {
	s *memSub
}

func (m *Bus) publish(ctx context.Context, from string, ch transport.Channel, msg []byte) error {
	if !ch.Valid() {
		return transport.ErrChannel
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	msg = append([]byte(nil), msg...) // shared read-only by every subscriber
	var out []delivery
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return transport.ErrClosed
	}
	m.published.Add(1)
	f := m.faults
	for s := range m.subs[ch] {
		if !m.connected(from, s.name) {
			m.blocked.Add(1)
			continue
		}
		if f.Loss > 0 && m.rng.Float64() < f.Loss {
			m.lost.Add(1)
			continue
		}
		copies := 1
		if f.Duplicate > 0 && m.rng.Float64() < f.Duplicate {
			copies = 2
			m.duplicated.Add(1)
		}
		for range copies {
			d := f.Delay
			if f.Jitter > 0 {
				d += time.Duration(m.rng.Int64N(int64(f.Jitter)))
			}
			if f.Reorder > 0 && m.rng.Float64() < f.Reorder {
				w := f.ReorderWindow
				if w <= 0 {
					w = 5 * time.Millisecond
				}
				d += time.Duration(m.rng.Int64N(int64(w)) + 1)
			}
			if d > 0 {
				m.delayed.Add(1)
				m.later(s, msg, d)
				continue
			}
			out = append(out, delivery{s: s})
		}
	}
	m.mu.Unlock()
	for _, d := range out {
		m.deliver(d.s, msg)
	}
	return nil
}

// later schedules a delayed delivery. m.mu is held.
func (m *Bus) later(s *memSub, msg []byte, d time.Duration) {
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		m.mu.Lock()
		if m.timers == nil {
			m.mu.Unlock()
			return
		}
		delete(m.timers, t)
		m.mu.Unlock()
		m.deliver(s, msg)
	})
	m.timers[t] = struct{}{}
}

func (m *Bus) deliver(s *memSub, msg []byte) {
	switch s.send(msg) {
	case sendOK:
		m.delivered.Add(1)
	case sendFull:
		m.overflow.Add(1)
	}
}

func (m *Bus) subscribe(name string, ch transport.Channel) (transport.Subscription, error) {
	if !ch.Valid() {
		return nil, transport.ErrChannel
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, transport.ErrClosed
	}
	s := &memSub{m: m, name: name, channel: ch, ch: make(chan []byte, m.buffer)}
	if m.subs[ch] == nil {
		m.subs[ch] = make(map[*memSub]struct{})
	}
	m.subs[ch][s] = struct{}{}
	return s, nil
}

type memSub struct {
	m       *Bus
	name    string
	channel transport.Channel

	mu     sync.Mutex
	closed bool
	ch     chan []byte
}

const (
	sendOK = iota
	sendFull
	sendClosed
)

func (s *memSub) send(msg []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return sendClosed
	}
	select {
	case s.ch <- msg:
		return sendOK
	default:
		return sendFull
	}
}

func (s *memSub) C() <-chan []byte { return s.ch }

func (s *memSub) Close() error {
	s.m.mu.Lock()
	if s.m.subs != nil {
		delete(s.m.subs[s.channel], s)
	}
	s.m.mu.Unlock()
	s.close()
	return nil
}

func (s *memSub) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}
