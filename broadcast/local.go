package broadcast

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"

	"github.com/tolerantca/tolerant/combine"
	"github.com/tolerantca/tolerant/share"
)

// LocalOptions tune [StartLocal]. The zero value runs every node honestly
// on a perfect in-memory transport.
type LocalOptions struct {
	// Down lists calculators that are not started (crashed from the start).
	Down []int
	// CombinersDown lists combiners that are not started.
	CombinersDown []int
	// Approve is every calculator's approval hook ([0092], [0110]); nil approves.
	Approve share.ApproveFunc
	// CombinerApprove is every combiner's approval hook ([0093], [0113]); nil approves.
	CombinerApprove share.ApproveFunc
	// Audit makes combiners check every partial (combine.Options.Audit and
	// CombinerOptions.AuditLate).
	Audit bool
	// Memory configures the transport, including its faults.
	Memory *MemoryOptions
	// Distributor, Calculator and Combiner are templates for the nodes'
	// options.
	Distributor *DistributorOptions
	Calculator  *CalculatorOptions
	Combiner    *CombinerOptions
	// Logger is given to every node that has none; default discards.
	Logger *slog.Logger
	// Observer, when set, is asked for each node's [Observer] by its role
	// and number (calculator j, combiner number, distributor number), e.g.
	// to give every node its own audit log; it may return nil. A template's
	// Observer, when set too, gets every event as well.
	Observer func(role share.Role, number int) Observer
	// Transport, when set, gives every node its own broadcaster, named by
	// its endpoint (DistributorEndpoint, CalculatorEndpoint(j),
	// CombinerEndpoint(n)), instead of an endpoint of a new Memory: a network
	// transport then runs the same cluster, each node on its own connection.
	// Memory and its faults are unused. Broadcasters that are io.Closers are
	// closed when their node stops.
	Transport func(endpoint string) (Broadcaster, error)
	// NoDistributor starts no distributor (it runs elsewhere):
	// Local.Distributor returns nil. Otherwise the distributor is the
	// dealing's distributor 1.
	NoDistributor bool
}

// Endpoint names on a Local cluster's [Memory], for partitions and crashes.
const DistributorEndpoint = "distributor"

// CalculatorEndpoint names calculator j's endpoint on a Local cluster's [Memory].
func CalculatorEndpoint(j int) string { return fmt.Sprintf("calculator-%d", j) }

// CombinerEndpoint names combiner n's endpoint on a Local cluster's [Memory].
func CombinerEndpoint(n int) string { return fmt.Sprintf("combiner-%d", n) }

// Local is a whole cluster in one process: every calculator and combiner of
// a dealing, and a distributor, on one [Memory] broadcaster.
type Local struct {
	mem   *Memory // nil with LocalOptions.Transport
	nets  map[string]Broadcaster
	dial  func(string) (Broadcaster, error)
	dist  *Distributor
	calcs map[int]*CalculatorNode
	combs map[int]*CombinerNode

	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	stops  map[string]context.CancelFunc
	closed bool
}

// StartLocal starts every calculator and combiner of d (except those opts
// takes down) on a new Memory broadcaster, each in its own goroutines, and
// d's distributor 1. Every node signs its packets with its node key and
// checks the others' against the roster. The nodes stop when ctx ends or
// Close is called; Close waits for all of them.
func StartLocal(ctx context.Context, d *share.Dealing, opts *LocalOptions) (*Local, error) {
	if d == nil || len(d.Calculators) == 0 || len(d.Combiners) == 0 {
		return nil, errors.New("broadcast: StartLocal needs a dealing with calculators and combiners")
	}
	o := valueOf(opts)
	if !o.NoDistributor && len(d.Distributors) == 0 {
		return nil, fmt.Errorf("%w: the dealing has no distributor", ErrNodeKey)
	}
	ctx, cancel := context.WithCancel(ctx)
	l := &Local{
		cancel: cancel, dial: o.Transport, nets: make(map[string]Broadcaster),
		calcs: make(map[int]*CalculatorNode), combs: make(map[int]*CombinerNode),
		stops: make(map[string]context.CancelFunc),
	}
	if l.dial == nil {
		l.mem = NewMemory(o.Memory)
	}
	err := l.startCalculators(ctx, d, &o)
	if err == nil {
		err = l.startCombiners(ctx, d, &o)
	}
	if err == nil && !o.NoDistributor {
		err = l.startDistributor(d, &o)
	}
	if err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// startCalculators starts every calculator of d that o does not take down,
// each on its own endpoint.
func (l *Local) startCalculators(ctx context.Context, d *share.Dealing, o *LocalOptions) error {
	for _, key := range d.Calculators {
		j := key.Number
		if slices.Contains(o.Down, j) {
			continue
		}
		co := valueOf(o.Calculator)
		if co.Logger == nil {
			co.Logger = o.Logger
		}
		if co.Approve == nil {
			co.Approve = o.Approve
		}
		co.Observer = o.observer(co.Observer, share.RoleCalculator, j)
		b, err := l.endpoint(CalculatorEndpoint(j))
		if err != nil {
			return err
		}
		n, err := NewCalculatorNode(b, key, &co)
		if err != nil {
			return err
		}
		l.calcs[j] = n
		l.run(ctx, CalculatorEndpoint(j), n.Run)
	}
	return nil
}

// startCombiners starts every combiner of d that o does not take down,
// each on its own endpoint.
func (l *Local) startCombiners(ctx context.Context, d *share.Dealing, o *LocalOptions) error {
	for _, key := range d.Combiners {
		if slices.Contains(o.CombinersDown, key.Number) {
			continue
		}
		co := valueOf(o.Combiner)
		if co.Logger == nil {
			co.Logger = o.Logger
		}
		co.AuditLate = co.AuditLate || o.Audit
		co.Observer = o.observer(co.Observer, share.RoleCombiner, key.Number)
		if co.Combine == nil {
			co.Combine = &combine.Options{Audit: o.Audit, Approve: o.CombinerApprove}
		}
		b, err := l.endpoint(CombinerEndpoint(key.Number))
		if err != nil {
			return err
		}
		n, err := NewCombinerNode(b, key, &co)
		if err != nil {
			return err
		}
		l.combs[key.Number] = n
		l.run(ctx, CombinerEndpoint(key.Number), n.Run)
	}
	return nil
}

// startDistributor starts d's distributor 1 on the distributor endpoint.
func (l *Local) startDistributor(d *share.Dealing, o *LocalOptions) error {
	do := valueOf(o.Distributor)
	if do.Logger == nil {
		do.Logger = o.Logger
	}
	do.Observer = o.observer(do.Observer, share.RoleDistributor, d.Distributors[0].NodeKey.Number)
	if do.ResultChannel == 0 && o.Combiner != nil {
		do.ResultChannel = o.Combiner.ResultChannel
	}
	b, err := l.endpoint(DistributorEndpoint)
	if err != nil {
		return err
	}
	dist, err := NewDistributor(b, d.Distributors[0], &do)
	if err != nil {
		return err
	}
	l.dist = dist
	return nil
}

// observer returns the Observer of the node role number: template's and
// the one of o.Observer.
func (o *LocalOptions) observer(template Observer, role share.Role, number int) Observer {
	if o.Observer == nil {
		return template
	}
	return Observers(template, o.Observer(role, number))
}

// endpoint returns the broadcaster of the node named name.
func (l *Local) endpoint(name string) (Broadcaster, error) {
	if l.mem != nil {
		return l.mem.Endpoint(name), nil
	}
	b, err := l.dial(name)
	if err != nil {
		return nil, fmt.Errorf("broadcast: %s: %w", name, err)
	}
	l.mu.Lock()
	l.nets[name] = b
	l.mu.Unlock()
	return b, nil
}

// Transport returns the broadcaster of the node named name (see
// CalculatorEndpoint and friends), or nil.
func (l *Local) Transport(name string) Broadcaster {
	if l.mem != nil {
		return l.mem.Endpoint(name)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.nets[name]
}

// closeTransport closes the broadcaster of name when it is an io.Closer.
func (l *Local) closeTransport(name string) error {
	l.mu.Lock()
	b := l.nets[name]
	delete(l.nets, name)
	l.mu.Unlock()
	if c, ok := b.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func (l *Local) run(ctx context.Context, name string, run func(context.Context) error) {
	ctx, stop := context.WithCancel(ctx)
	l.mu.Lock()
	l.stops[name] = stop
	l.mu.Unlock()
	l.wg.Go(func() { run(ctx) })
}

// Distributor returns the cluster's distributor.
func (l *Local) Distributor() *Distributor { return l.dist }

// Memory returns the cluster's in-memory transport, to inject faults,
// partitions and crashes (see CalculatorEndpoint and friends), or nil with
// LocalOptions.Transport.
func (l *Local) Memory() *Memory { return l.mem }

// Calculator returns the running node of calculator j, or nil.
func (l *Local) Calculator(j int) *CalculatorNode { return l.calcs[j] }

// Combiner returns the running node of combiner n, or nil.
func (l *Local) Combiner(n int) *CombinerNode { return l.combs[n] }

// StopCalculator crashes calculator j now: its goroutines end and it
// receives nothing more. It reports whether j was running.
func (l *Local) StopCalculator(j int) bool { return l.stop(CalculatorEndpoint(j)) }

// StopCombiner crashes combiner n now. It reports whether n was running.
func (l *Local) StopCombiner(n int) bool { return l.stop(CombinerEndpoint(n)) }

func (l *Local) stop(name string) bool {
	l.mu.Lock()
	stop, ok := l.stops[name]
	delete(l.stops, name)
	l.mu.Unlock()
	if ok {
		if l.mem != nil {
			l.mem.SetDown(name, true)
		}
		stop()
		if l.mem == nil {
			l.closeTransport(name)
		}
	}
	return ok
}

// Close stops every node and the distributor, waits for their goroutines,
// and closes the transport. It is idempotent.
func (l *Local) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
	if l.dist != nil {
		l.dist.Close()
	}
	for _, n := range l.calcs {
		n.Close()
	}
	for _, n := range l.combs {
		n.Close()
	}
	if l.mem != nil {
		return l.mem.Close()
	}
	l.mu.Lock()
	names := make([]string, 0, len(l.nets))
	for name := range l.nets {
		names = append(names, name)
	}
	l.mu.Unlock()
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for n, name := range names {
		wg.Go(func() { errs[n] = l.closeTransport(name) }) // drains in parallel
	}
	wg.Wait()
	return errors.Join(errs...)
}
