// Package node runs calculators, combiners and task distributors inside a
// program: the lifecycle that the tolerant command's "node" runs, as a
// library. A node is built from its key material and a transport (any
// [transport.Broadcaster]: a natsbus.Bus, a memory.Bus endpoint);
// [Node.Run] is the one way to run and stop it: it runs until its context
// ends, then drains before it returns.
//
// Everything the nodes of a cluster must agree on (the key id, the epoch,
// k, t, the roster, hence the NATS cluster name natsbus.DefaultCluster of
// the key id) comes from the key material; [Options] hold only what is
// this node's own business (workers, approval hook, logs, observer,
// drain timeout, the end of its epoch). The combiners' result channel is
// always B3, the default of every node ([0115]), so that nodes run by this
// package agree on it.
//
// One process may run many nodes, one per key id and epoch, possibly of
// different dealers ([0124]-[0126]): a [Host] runs them side by side, each
// on its own transport, with its own bounds, so that one key's overload,
// refusal or removal never affects another's. Its [Host.Handler] serves
// /healthz for all of them, and callers mount more (e.g. /metrics) on it.
// (The nodes still share the host's CPUs: Options.Workers bounds each.)
//
// Two epochs of one key (a rolling share refresh) run side by side on the
// same subjects: a refresh gives every node a new node key, so each
// epoch's nodes authenticate only their own epoch's tasks and partials
// and merely count the other's as rejected; a node of the old epoch never
// answers a task of the new one. Options.RetireAt then ends the old
// epoch at the operator's moment.
package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/transport"
	"github.com/tolerantca/tolerant/combine"
	"github.com/tolerantca/tolerant/share"
)

// DefaultDrainTimeout bounds a node's drain when Options.DrainTimeout is zero.
const DefaultDrainTimeout = 10 * time.Second

// Errors of this package.
var (
	// ErrStopped: a node stopped by itself, before its context ended
	// (its transport closed under it).
	ErrStopped = errors.New("node: the node stopped before its context ended")
	// ErrRetired: a task of an epoch whose end (Options.RetireAt) has
	// passed. It wraps broadcast.ErrWrongEpoch, which the distributor
	// receives as the refusal's reason.
	ErrRetired = fmt.Errorf("%w: this epoch is retired", broadcast.ErrWrongEpoch)
	// ErrDuplicate: a Host already runs a node of the same role, number,
	// key id and epoch.
	ErrDuplicate = errors.New("node: a node of the same role, number, key id and epoch already runs")
	// ErrNoApproval: a calculator or combiner was built without an
	// approval hook (Options.Approve) and without
	// Options.InsecureApproveAll, which alone lets a node sign every
	// request of a roster distributor ([0092], [0110], [0113]).
	ErrNoApproval = errors.New("node: a calculator or combiner needs Options.Approve (or Options.InsecureApproveAll)")
)

// Options tune a node; nil means the zero value. A calculator or combiner
// needs Approve, or InsecureApproveAll; a distributor is usable with the
// zero value.
type Options struct {
	// Workers is how many exponentiations a calculator or combiner
	// computes at once; default the number of CPUs.
	Workers int
	// Approve is the node's approval hook: the policy and, when asked, the
	// operator's confirmation of every request ([0092], [0110], [0113]).
	// A calculator or combiner with a nil Approve is refused with
	// [ErrNoApproval] unless InsecureApproveAll is set.
	Approve share.ApproveFunc
	// InsecureApproveAll turns off the approval check: with a nil Approve,
	// the calculator or combiner signs every well-formed request of a
	// roster distributor, digest-only ones included. For tests and demos.
	// It has no effect when Approve is set.
	InsecureApproveAll bool
	// ApproveTimeout bounds each request's approval; default that of the
	// broadcast package's nodes.
	ApproveTimeout time.Duration
	// AuditLate makes a combiner check every partial, also those its
	// signature did not need, to name lying calculators.
	AuditLate bool
	// RetireAt, when set, is the end of this node's epoch in a rolling
	// share refresh: from then on a calculator or combiner refuses every
	// task with [ErrRetired], so that the distributors still on this epoch
	// learn at once that they must move to the next one.
	RetireAt time.Time
	// DrainTimeout bounds the drain of [Node.Run]: the wait for the node's
	// work to end, then for its transport to flush. Default
	// DefaultDrainTimeout.
	DrainTimeout time.Duration
	// Observer receives the node's per-task events; nil: none besides the
	// log of [LogObserver].
	Observer broadcast.Observer
	// Logger receives the node's logs, per-task events included (through
	// [LogObserver]); default discards.
	Logger *slog.Logger
	// Now is the clock of RetireAt; default time.Now.
	Now func() time.Time
	// Health, when set, is part of [Node.Healthy]: an error (e.g. an
	// audit log that can no longer be written, audit.Observer.Err) makes
	// the node unhealthy on /healthz. It must be safe for concurrent use.
	Health func() error
}

// runner is a calculator or combiner of package broadcast.
type runner interface {
	Run(ctx context.Context) error
	Close() error
}

// Node is one calculator, combiner or task distributor and its transport.
type Node struct {
	role    share.Role
	number  int
	meta    share.Meta
	b       transport.Broadcaster
	run     runner                 // nil for a distributor
	dist    *broadcast.Distributor // nil unless a distributor
	stats   func() any
	drain   time.Duration
	log     *slog.Logger
	health  func() error // Options.Health, or nil
	running atomic.Bool
	started atomic.Bool
}

// prepare returns the normalized options, the node of role and number on b
// without its calculator, combiner or distributor, and its observer.
func prepare(opts *Options, b broadcast.Broadcaster, role share.Role, number int, meta *share.Meta) (Options, *Node, broadcast.Observer) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	log = log.With("key", meta.KeyID, "epoch", meta.Epoch, "role", role.String(), "node", number)
	n := &Node{role: role, number: number, meta: *meta, b: b, drain: o.DrainTimeout, log: log, health: o.Health}
	return o, n, broadcast.Observers(o.Observer, LogObserver(log))
}

// approval returns the approval hook of a calculator or combiner: Approve
// wrapped with the end of the node's epoch. It refuses a nil Approve
// unless InsecureApproveAll is set.
func approval(o *Options) (share.ApproveFunc, error) {
	if o.Approve == nil && !o.InsecureApproveAll {
		return nil, ErrNoApproval
	}
	return retire(o), nil
}

// retire wraps an approval hook with the end of the node's epoch.
func retire(o *Options) share.ApproveFunc {
	if o.RetireAt.IsZero() {
		return o.Approve
	}
	at, now, next := o.RetireAt, o.Now, o.Approve
	return func(ctx context.Context, req *share.Request) error {
		if !now().Before(at) {
			return ErrRetired
		}
		if next == nil {
			return nil
		}
		return next(ctx, req)
	}
}

// NewCalculator returns calculator key.Number of key's cluster on b. It
// subscribes at once; [Node.Run] runs it. Without opts.Approve it fails
// with [ErrNoApproval] unless opts.InsecureApproveAll is set.
func NewCalculator(b transport.Broadcaster, key *share.CalculatorKey, opts *Options) (*Node, error) {
	if b == nil || key == nil {
		return nil, errors.New("node: nil transport or calculator key")
	}
	o, n, obs := prepare(opts, b, share.RoleCalculator, key.Number, &key.Meta)
	approve, err := approval(&o)
	if err != nil {
		return nil, err
	}
	c, err := broadcast.NewCalculatorNode(b, key, &broadcast.CalculatorOptions{
		Workers: o.Workers, Approve: approve, ApproveTimeout: o.ApproveTimeout, Logger: n.log, Observer: obs,
	})
	if err != nil {
		return nil, err
	}
	n.run, n.stats = c, func() any { return c.Stats() }
	return n, nil
}

// NewCombiner returns combiner key.Number of key's cluster on b. It subscribes
// at once; [Node.Run] runs it. Without opts.Approve it fails with
// [ErrNoApproval] unless opts.InsecureApproveAll is set.
func NewCombiner(b transport.Broadcaster, key *share.CombinerKey, opts *Options) (*Node, error) {
	if b == nil || key == nil {
		return nil, errors.New("node: nil transport or combiner key")
	}
	o, n, obs := prepare(opts, b, share.RoleCombiner, key.Number, &key.Meta)
	approve, err := approval(&o)
	if err != nil {
		return nil, err
	}
	c, err := broadcast.NewCombinerNode(b, key, &broadcast.CombinerOptions{
		Workers: o.Workers, AuditLate: o.AuditLate, ApproveTimeout: o.ApproveTimeout,
		Combine: &combine.Options{Audit: o.AuditLate, Approve: approve}, Logger: n.log, Observer: obs,
	})
	if err != nil {
		return nil, err
	}
	n.run, n.stats = c, func() any { return c.Stats() }
	return n, nil
}

// NewDistributor returns the task distributor of key on b: it signs
// through [Node.Distributor] at once, and [Node.Run] only waits for the
// end of its context to close it and drain b. Workers, Approve,
// InsecureApproveAll, ApproveTimeout, AuditLate and RetireAt do not apply.
func NewDistributor(b transport.Broadcaster, key *share.DistributorKey, opts *Options) (*Node, error) {
	if b == nil || key == nil || key.NodeKey == nil {
		return nil, errors.New("node: nil transport or distributor key")
	}
	_, n, obs := prepare(opts, b, share.RoleDistributor, key.NodeKey.Number, &key.Meta)
	d, err := broadcast.NewDistributor(b, key, &broadcast.DistributorOptions{Logger: n.log, Observer: obs})
	if err != nil {
		return nil, err
	}
	n.dist, n.stats = d, func() any { return d.Stats() }
	return n, nil
}

// Distributor returns the node's distributor, nil for a calculator or a
// combiner. It is an x509sign.KeyedCluster.
func (n *Node) Distributor() *broadcast.Distributor { return n.dist }

// Transport returns the node's transport, e.g. a *natsbus.Bus whose
// Status a metrics exporter reads.
func (n *Node) Transport() transport.Broadcaster { return n.b }

// Role returns the node's role.
func (n *Node) Role() share.Role { return n.role }

// Number returns the node's number within its role.
func (n *Node) Number() int { return n.number }

// KeyID returns the key id of the node's key material ([0124]).
func (n *Node) KeyID() string { return n.meta.KeyID }

// Epoch returns the epoch of the node's key material.
func (n *Node) Epoch() uint32 { return n.meta.Epoch }

// Stats returns the node's counters: a broadcast.CalculatorStats,
// CombinerStats or DistributorStats.
func (n *Node) Stats() any { return n.stats() }

// Run runs the node until ctx ends, then drains it and returns nil: it
// closes the node, waits (at most Options.DrainTimeout) for the work in
// progress to end, and, when the transport has a Shutdown(ctx) error
// method (a natsbus.Bus), drains the transport too, bounded alike. The
// node owns its transport from the call on. When the node stops by
// itself first (its transport closed), Run returns an error wrapping
// [ErrStopped]. Run may be called once.
func (n *Node) Run(ctx context.Context) error {
	if n.started.Swap(true) {
		return errors.New("node: Run called twice")
	}
	ran := make(chan error, 1)
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	if n.run != nil {
		go func() { ran <- n.run.Run(runCtx) }()
	}
	n.running.Store(true)
	n.log.Info("node running")

	var err error
	select {
	case <-ctx.Done():
		n.running.Store(false)
		n.log.Info("draining")
		n.closeNode()
		if n.run != nil {
			select {
			case <-ran:
			case <-time.After(n.drain):
				n.log.Warn("work in progress did not end within the drain timeout")
				cancel()
				<-ran
			}
		}
	case rerr := <-ran:
		n.running.Store(false)
		err = fmt.Errorf("%w: %v (transport: %v)", ErrStopped, rerr, transportErr(n.b))
		n.log.Error("node stopped by itself", "err", err)
	}
	n.shutdown()
	n.log.Info("node stopped", "stats", n.stats())
	return err
}

// closeNode closes the calculator, combiner or distributor.
func (n *Node) closeNode() {
	if n.run != nil {
		n.run.Close()
	} else {
		n.dist.Close()
	}
}

// shutdown drains the transport when it can be drained.
func (n *Node) shutdown() {
	s, ok := n.b.(interface{ Shutdown(context.Context) error })
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.drain)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		n.log.Warn("transport drain did not finish", "err", err)
	}
}

// Running reports whether Run is running the node and has not begun to
// drain it.
func (n *Node) Running() bool { return n.running.Load() }

// Healthy returns nil while the node runs and its transport is connected.
func (n *Node) Healthy() error {
	if !n.running.Load() {
		return errors.New("node: not running")
	}
	if n.health != nil {
		if err := n.health(); err != nil {
			return err
		}
	}
	return transportErr(n.b)
}

// transportErr returns the transport's Healthy() error, when it has one
// (a natsbus.Bus: nil while connected), else nil.
func transportErr(b transport.Broadcaster) error {
	if h, ok := b.(interface{ Healthy() error }); ok {
		return h.Healthy()
	}
	return nil
}
