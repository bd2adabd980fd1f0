package broadcast_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/faults"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

// hostile starts the (5,3,2) cluster with the endpoints of wrap turned
// into adversaries by their functions, which get the dealing to find their
// node's real key material.
func hostile(t *testing.T, opts *broadcast.LocalOptions, wrap map[string]func(*share.Dealing, broadcast.Broadcaster) broadcast.Broadcaster) (*broadcast.Local, *share.Dealing) {
	l, d, _ := hostileMem(t, opts, wrap)
	return l, d
}

// hostileMem is hostile, also returning the transport, for attackers that
// publish on it directly.
func hostileMem(t *testing.T, opts *broadcast.LocalOptions, wrap map[string]func(*share.Dealing, broadcast.Broadcaster) broadcast.Broadcaster) (*broadcast.Local, *share.Dealing, *broadcast.Memory) {
	t.Helper()
	d := testcluster.Deal(t, 5, 3, 2, nil)
	mem := broadcast.NewMemory(nil)
	w := make(map[string]func(broadcast.Broadcaster) broadcast.Broadcaster)
	for name, f := range wrap {
		w[name] = func(b broadcast.Broadcaster) broadcast.Broadcaster { return f(d, b) }
	}
	var o broadcast.LocalOptions
	if opts != nil {
		o = *opts
	}
	o.Transport = faults.Transports(mem, w)
	l, err := broadcast.StartLocal(context.Background(), d, &o)
	require.NoError(t, err)
	t.Cleanup(func() {
		l.Close()
		mem.Close()
	})
	return l, d, mem
}

// calculator returns the function that makes calculator j an adversary
// rewriting its packets with f.
func calculator(j int, f faults.RewriteFunc) map[string]func(*share.Dealing, broadcast.Broadcaster) broadcast.Broadcaster {
	return map[string]func(*share.Dealing, broadcast.Broadcaster) broadcast.Broadcaster{
		broadcast.CalculatorEndpoint(j): func(d *share.Dealing, b broadcast.Broadcaster) broadcast.Broadcaster {
			return faults.Rewrite(b, d.Calculators[j-1].NodeKey, f)
		},
	}
}

// refuseClaimingK refuses every task in acknowledgements that claim the
// cluster has k calculators and threshold t.
func refuseClaimingK(k, t int) faults.RewriteFunc {
	return func(ch broadcast.Channel, p wire.Packet) []wire.Packet {
		switch p := p.(type) {
		case *wire.Ack:
			p.K, p.T, p.Status, p.Reason = k, t, wire.Refused, wire.ReasonDeclined
			return []wire.Packet{p}
		case *wire.Partials:
			return nil
		}
		return []wire.Packet{p}
	}
}

// TestRegressionDistributorTrustsAckShape: a calculator refusing every task
// in acknowledgements claiming K=3 made the distributor believe that one
// refusal leaves fewer than t calculators, and abort nearly every signing
// with ErrRefused. The distributor takes k and t from its own key material.
func TestRegressionDistributorTrustsAckShape(t *testing.T) {
	l, _ := hostile(t, nil, calculator(1, refuseClaimingK(3, 3)))
	for n := range 5 {
		msg := fmt.Sprintf("false k %d", n)
		sig, err := l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), testcluster.Request(msg))
		require.NoError(t, err, "signing %d", n)
		require.Equal(t, testcluster.Want(t, nil, msg), sig)
	}
	require.NotZero(t, l.Distributor().Stats().FalseShape, "the false claims are counted")
}

// combinerAdversary makes combiner n an adversary rewriting its packets with f.
func combinerAdversary(n int, f faults.RewriteFunc) map[string]func(*share.Dealing, broadcast.Broadcaster) broadcast.Broadcaster {
	return map[string]func(*share.Dealing, broadcast.Broadcaster) broadcast.Broadcaster{
		broadcast.CombinerEndpoint(n): func(d *share.Dealing, b broadcast.Broadcaster) broadcast.Broadcaster {
			return faults.Rewrite(b, d.Combiners[n-1].NodeKey, f)
		},
	}
}

// blameHonest makes a combiner's verified results name calculators js.
func blameHonest(js ...int) faults.RewriteFunc {
	return func(ch broadcast.Channel, p wire.Packet) []wire.Packet {
		if r, ok := p.(*wire.Result); ok {
			r.Inconsistent, r.Suspects = js, nil
			r.Calculators = []int{1, 2, 3, 4, 5}
		}
		return []wire.Packet{p}
	}
}

// TestRegressionDistributorBelievesBlame: the distributor counted every
// combiner's list of inconsistent calculators, so one lying combiner
// framed honest calculators. A calculator is named only when several
// combiners agree; one combiner's claims stay claims, and an implausible
// list is dropped and counted.
func TestRegressionDistributorBelievesBlame(t *testing.T) {
	for _, n := range []int{1, 2} {
		l, _ := hostile(t, &broadcast.LocalOptions{Distributor: &broadcast.DistributorOptions{Linger: 300 * time.Millisecond}},
			combinerAdversary(n, blameHonest(3)))
		for i := range 3 {
			msg := fmt.Sprintf("false blame %d %d", n, i)
			out, err := l.Distributor().SignDetailed(testcluster.Timeout(t, 20*time.Second), testcluster.Request(msg))
			require.NoError(t, err)
			require.Equal(t, testcluster.Want(t, nil, msg), out.Signature)
			require.Empty(t, out.Inconsistent, "combiner %d frames calculator 3", n)
		}
		require.Empty(t, l.Distributor().Inconsistent(), "combiner %d frames calculator 3", n)
		require.NotZero(t, l.Distributor().Claims()[3][n], "the claim is recorded as combiner %d's", n)
		l.Close()
	}
	// More than t-1 names cannot be true: dropped and counted.
	l, _ := hostile(t, &broadcast.LocalOptions{Distributor: &broadcast.DistributorOptions{Linger: 300 * time.Millisecond, BlameQuorum: 1}},
		combinerAdversary(2, blameHonest(1, 2, 3)))
	_, err := l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), testcluster.Request("implausible"))
	require.NoError(t, err)
	require.Empty(t, l.Distributor().Inconsistent())
	require.NotZero(t, l.Distributor().Stats().FalseBlame)
}
