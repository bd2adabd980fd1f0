package node

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/redact/redacttest"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/testkeys"
)

// TestRedactNodeAndHost: a Node of every role and a Host print no d_ji,
// c_a or node key, by value or by pointer, under every verb, slog handler
// and encoding/json; every secret-holding type of the package is tested.
func TestRedactNodeAndHost(t *testing.T) {
	_, d := testcluster.Dealer(t, 5, 3, 2, &testcluster.Options{Key: testcluster.Key(testkeys.RSA2048), Seed: 9, Search: true})
	mem := broadcast.NewMemory(nil)
	t.Cleanup(func() { mem.Close() })
	calc, err := NewCalculator(mem.Endpoint("c"), d.Calculators[2], insecure)
	require.NoError(t, err)
	comb, err := NewCombiner(mem.Endpoint("b"), d.Combiners[0], insecure)
	require.NoError(t, err)
	dist, err := NewDistributor(mem.Endpoint("d"), d.Distributors[0], nil)
	require.NoError(t, err)
	host, err := NewHost(nil, calc, comb)
	require.NoError(t, err)

	var secrets []any
	for _, k := range d.Calculators {
		for _, s := range k.Shares {
			secrets = append(secrets, s)
		}
		secrets = append(secrets, k.NodeKey.Private.Seed())
	}
	for _, k := range d.Combiners {
		for _, e := range k.Entries {
			secrets = append(secrets, e.C)
		}
		secrets = append(secrets, k.NodeKey.Private.Seed())
	}
	forms := redacttest.Forms(t, secrets...)
	key := d.Calculators[0].KeyID
	for v, want := range map[any]string{
		calc: "calculator 3 of key " + key + " (epoch 0)",
		comb: "combiner 1 of key " + key + " (epoch 0)",
		dist: "distributor 1 of key " + key + " (epoch 0)",
		host: "node host of 2 nodes",
	} {
		name := fmt.Sprintf("%T", v)
		redacttest.NoLeak(t, name+" by pointer", v, forms)
		redacttest.NoLeak(t, name+" by value", reflect.ValueOf(v).Elem().Interface(), forms)
		require.Equal(t, want, fmt.Sprint(v), name)
	}
	require.NotPanics(t, func() {
		redacttest.Outputs((*Node)(nil))
		redacttest.Outputs((*Host)(nil))
	})
	tested := []string{"Host", "Node"}
	for _, n := range tested {
		require.Contains(t, redacttest.Known, "node."+n)
	}
	got := redacttest.SecretTypes(t, ".", "node")
	slices.Sort(got)
	require.Equal(t, tested, got)
}
