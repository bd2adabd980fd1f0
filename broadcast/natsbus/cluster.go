package natsbus

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/share"
)

// ClusterOptions tune [StartCluster]. The zero value runs every node of the
// dealing on connections with default Options. Packets are always
// authenticated (package broadcast builds every node from its key material).
type ClusterOptions struct {
	// Bus is the template of every node's connection. URL is set from
	// StartCluster's argument, Name to the node's [NodeName], Cluster to
	// [DefaultCluster] of the dealing's key id and Logger to the cluster's
	// Logger when empty.
	Bus Options
	// NodeBus, when set, adjusts the connection options of each node
	// after the template is applied, e.g. to give it its own credentials.
	NodeBus func(node share.Node, o *Options)
	// Down lists calculators that are not started.
	Down []int
	// CombinersDown lists combiners that are not started.
	CombinersDown []int
	// NoDistributor starts no distributor: Distributor returns nil (the
	// distributor then runs elsewhere).
	NoDistributor bool
	// Approve is every calculator's approval hook ([0092], [0110]); nil approves.
	Approve share.ApproveFunc
	// CombinerApprove is every combiner's approval hook ([0093], [0113]); nil approves.
	CombinerApprove share.ApproveFunc
	// Audit makes combiners check every partial (combine.Options.Audit and
	// CombinerOptions.AuditLate).
	Audit bool
	// Distributor, Calculator and Combiner are templates for the nodes'
	// options, as in broadcast.LocalOptions.
	Distributor *broadcast.DistributorOptions
	Calculator  *broadcast.CalculatorOptions
	Combiner    *broadcast.CombinerOptions
	// Logger is given to every node and connection that has none;
	// default discards.
	Logger *slog.Logger
}

// Cluster is every node of a dealing on NATS, each on its own connection
// as if on its own host ([0039], [0061]), all in this process: a test and
// demonstration harness for the protocol of package broadcast, which runs
// unchanged (it is broadcast.StartLocal with a NATS transport).
type Cluster struct {
	local *broadcast.Local
}

// StartCluster dials one [Bus] per node at url and starts every calculator
// and combiner of d (except those opts takes down), each running in its
// own goroutines until ctx ends or Close, and a distributor for d's key
// (distributor 1 of the dealing with authentication).
func StartCluster(ctx context.Context, url string, d *share.Dealing, opts *ClusterOptions) (*Cluster, error) {
	if d == nil || len(d.Calculators) == 0 || len(d.Combiners) == 0 {
		return nil, fmt.Errorf("%w: StartCluster needs a dealing with calculators and combiners", ErrOptions)
	}
	var o ClusterOptions
	if opts != nil {
		o = *opts
	}
	dial := func(endpoint string) (broadcast.Broadcaster, error) {
		node, err := endpointNode(endpoint)
		if err != nil {
			return nil, err
		}
		bo := o.Bus
		bo.URL = url
		bo.Name = NodeName(node)
		if bo.Cluster == "" {
			bo.Cluster = DefaultCluster(d.Calculators[0].KeyID)
		}
		if bo.Logger == nil {
			bo.Logger = o.Logger
		}
		if o.NodeBus != nil {
			o.NodeBus(node, &bo)
		}
		b, err := Dial(ctx, bo)
		if err != nil {
			return nil, fmt.Errorf("natsbus: %v: %w", node, err)
		}
		return b, nil
	}
	l, err := broadcast.StartLocal(ctx, d, &broadcast.LocalOptions{
		Down: o.Down, CombinersDown: o.CombinersDown,
		Approve: o.Approve, CombinerApprove: o.CombinerApprove, Audit: o.Audit,
		Distributor: o.Distributor, Calculator: o.Calculator, Combiner: o.Combiner,
		Logger:    o.Logger,
		Transport: dial, NoDistributor: o.NoDistributor,
	})
	if err != nil {
		return nil, err
	}
	return &Cluster{local: l}, nil
}

// endpointNode maps broadcast's endpoint names to nodes.
func endpointNode(endpoint string) (share.Node, error) {
	if endpoint == broadcast.DistributorEndpoint {
		return share.Node{Role: share.RoleDistributor, Number: 1}, nil
	}
	for _, role := range []share.Role{share.RoleCalculator, share.RoleCombiner} {
		var n int
		if _, err := fmt.Sscanf(endpoint, role.String()+"-%d", &n); err == nil {
			return share.Node{Role: role, Number: n}, nil
		}
	}
	return share.Node{}, fmt.Errorf("%w: endpoint %q", ErrOptions, endpoint)
}

// Distributor returns the cluster's distributor (nil with NoDistributor).
func (c *Cluster) Distributor() *broadcast.Distributor { return c.local.Distributor() }

// Calculator returns the node of calculator j, or nil.
func (c *Cluster) Calculator(j int) *broadcast.CalculatorNode { return c.local.Calculator(j) }

// Combiner returns the node of combiner n, or nil.
func (c *Cluster) Combiner(n int) *broadcast.CombinerNode { return c.local.Combiner(n) }

// Bus returns the connection of a node, or nil: e.g.
// Bus(share.Node{Role: share.RoleCalculator, Number: 3}).
func (c *Cluster) Bus(node share.Node) *Bus {
	name := broadcast.DistributorEndpoint
	switch node.Role {
	case share.RoleCalculator:
		name = broadcast.CalculatorEndpoint(node.Number)
	case share.RoleCombiner:
		name = broadcast.CombinerEndpoint(node.Number)
	}
	b, _ := c.local.Transport(name).(*Bus)
	return b
}

// StopCalculator crashes calculator j: its node stops and its connection
// closes. It reports whether j was running.
func (c *Cluster) StopCalculator(j int) bool { return c.local.StopCalculator(j) }

// StopCombiner crashes combiner n. It reports whether n was running.
func (c *Cluster) StopCombiner(n int) bool { return c.local.StopCombiner(n) }

// Close stops every node and the distributor, waits for their goroutines,
// and drains every connection. It is idempotent.
func (c *Cluster) Close() error { return c.local.Close() }
