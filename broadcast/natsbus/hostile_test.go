package natsbus

import (
	"context"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/faults"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/wire"
)

// TestHostileNodesNATS: the hostile-node suite over NATS, each node on
// its own connection, with t-1 adversaries at once: calculator 1 refuses
// every task claiming k=3 and calculator 3 lies in its partials. Every
// request is still signed, and no honest calculator is named. (A lying
// combiner on top would be t adversaries: with this plan only combiner 1
// may hold a representation of the three honest calculators.)
func TestHostileNodesNATS(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	d := testcluster.Deal(t, 5, 3, 2, searched)
	n := d.Calculators[0].PublicKey.N
	adversaries := map[string]faults.RewriteFunc{
		broadcast.CalculatorEndpoint(1): func(ch broadcast.Channel, p wire.Packet) []wire.Packet {
			switch p := p.(type) {
			case *wire.Ack:
				p.K, p.T, p.Status, p.Reason = 3, 3, wire.Refused, wire.ReasonDeclined
			case *wire.Partials:
				return nil
			}
			return []wire.Packet{p}
		},
		broadcast.CalculatorEndpoint(3): func(ch broadcast.Channel, p wire.Packet) []wire.Packet {
			if ps, ok := p.(*wire.Partials); ok {
				for i, s := range ps.Shares {
					v := append([]byte(nil), s.Value...)
					v[len(v)-1] ^= 1
					if new(big.Int).SetBytes(v).Cmp(n) < 0 {
						ps.Shares[i].Value = v
					}
				}
			}
			return []wire.Packet{p}
		},
	}
	keys := map[string]func(broadcast.Broadcaster) broadcast.Broadcaster{}
	for j, ck := range d.Calculators {
		if f := adversaries[broadcast.CalculatorEndpoint(j+1)]; f != nil {
			keys[broadcast.CalculatorEndpoint(j+1)] = func(b broadcast.Broadcaster) broadcast.Broadcaster { return faults.Rewrite(b, ck.NodeKey, f) }
		}
	}
	l, err := broadcast.StartLocal(context.Background(), d, &broadcast.LocalOptions{
		Audit: true, Distributor: fastDistributor(),
		Transport: func(endpoint string) (broadcast.Broadcaster, error) {
			bus, err := Dial(testcluster.Timeout(t, 10*time.Second), Options{URL: srv.URL(), Name: endpoint, Cluster: testCluster})
			if err != nil {
				return nil, err
			}
			if w := keys[endpoint]; w != nil {
				return w(bus), nil
			}
			return bus, nil
		},
	})
	require.NoError(t, err)
	defer l.Close()
	for i := range 4 {
		msg := fmt.Sprintf("hostile over NATS %d", i)
		out, err := l.Distributor().SignDetailed(testcluster.Timeout(t, 20*time.Second), testcluster.Request(msg))
		require.NoError(t, err)
		require.Equal(t, testcluster.Want(t, nil, msg), out.Signature)
		require.Empty(t, out.Inconsistent)
	}
	st := l.Distributor().Stats()
	require.NotZero(t, st.FalseShape)
	require.NotZero(t, st.Refusals)
	require.Empty(t, slices.Collect(maps.Keys(l.Distributor().Inconsistent())), "an honest calculator named")
	for j := range l.Distributor().Claims() {
		require.Contains(t, []int{1, 3}, j, "an honest calculator is claimed")
	}
}
