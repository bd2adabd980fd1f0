package broadcast

import (
	"fmt"
	"go/token"
	"reflect"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/combine"
	"github.com/tolerantca/tolerant/internal/redact/redacttest"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/share"
)

// redactCase is one secret-holding value, given by pointer.
type redactCase struct {
	ptr  any    // a pointer to the value
	want string // what the pointer's %v must say; empty for containers
	// byValue is set for types whose value prints as its pointer does.
	byValue bool
}

// redactCases builds, without running them, a node of every kind with
// authentication, and everything that holds one. The nodes are closed at
// the end of the test.
func redactCases(t *testing.T) ([]redactCase, []string) {
	d := testcluster.Deal(t, 3, 2, 1, nil)
	mem := NewMemory(nil)
	t.Cleanup(func() { mem.Close() })
	a, err := newAuth(d.Calculators[1].NodeKey, d.Calculators[1].Roster, share.RoleCalculator, 2)
	require.NoError(t, err)

	co := &CalculatorOptions{}
	cn, err := NewCalculatorNode(mem, d.Calculators[1], co)
	require.NoError(t, err)
	t.Cleanup(func() { cn.Close() })

	bo := &CombinerOptions{Combine: &combine.Options{}}
	bn, err := NewCombinerNode(mem, d.Combiners[0], bo)
	require.NoError(t, err)
	t.Cleanup(func() { bn.Close() })

	do := &DistributorOptions{}
	dist, err := NewDistributor(mem, d.Distributors[0], do)
	require.NoError(t, err)
	t.Cleanup(func() { dist.Close() })

	lo := &LocalOptions{Calculator: co, Combiner: bo, Distributor: do}
	local := &Local{mem: mem, dist: dist, calcs: map[int]*CalculatorNode{2: cn}, combs: map[int]*CombinerNode{1: bn}}

	var secrets []any
	for _, k := range d.Calculators {
		for _, s := range k.Shares {
			secrets = append(secrets, s)
		}
		secrets = append(secrets, k.NodeKey.Private, k.NodeKey.Private.Seed())
	}
	for _, k := range d.Combiners {
		for _, e := range k.Entries {
			secrets = append(secrets, e.C)
		}
		secrets = append(secrets, k.NodeKey.Private, k.NodeKey.Private.Seed())
	}
	for _, k := range d.Distributors {
		secrets = append(secrets, k.NodeKey.Private, k.NodeKey.Private.Seed())
	}
	key := d.Distributors[0].KeyID
	return []redactCase{
		{ptr: a, want: "broadcast.auth{node key of calculator 2, roster of 6 nodes}", byValue: true},
		{ptr: cn, want: "calculator node 2 of key " + key + " (epoch 0)"},
		{ptr: bn, want: "combiner node 1 of key " + key + " (epoch 0)"},
		{ptr: dist, want: "distributor 1 of key " + key + " (epoch 0)"},
		{ptr: co}, {ptr: bo}, {ptr: do}, {ptr: lo}, {ptr: local},
	}, redacttest.Forms(t, secrets...)
}

// TestRegressionRedactNodes: the nodes, their options and auth print no
// node key, d_ji or c_a, by value or by pointer, under every verb, slog
// handler and encoding/json.
func TestRegressionRedactNodes(t *testing.T) {
	cases, forms := redactCases(t)
	for _, c := range cases {
		val := reflect.ValueOf(c.ptr).Elem().Interface()
		name := fmt.Sprintf("%T", val)
		redacttest.NoLeak(t, name+" by pointer", c.ptr, forms)
		redacttest.NoLeak(t, name+" by value", val, forms)
		redacttest.NoLeak(t, "[]"+name, []any{val, c.ptr}, forms)
		if c.want != "" {
			require.Equal(t, c.want, fmt.Sprint(c.ptr), name)
		}
		if c.byValue {
			redacttest.Same(t, name, val, c.ptr)
		}
	}
	require.NotPanics(t, func() {
		redacttest.Outputs((*CalculatorNode)(nil))
		redacttest.Outputs((*CombinerNode)(nil))
		redacttest.Outputs((*Distributor)(nil))
		redacttest.Outputs(auth{})
	})
}

// TestRedactCoversEverySecretType fails when an exported type of the
// package holds a secret but is not tested by TestRegressionRedactNodes.
func TestRedactCoversEverySecretType(t *testing.T) {
	cases, _ := redactCases(t)
	var tested []string
	for _, c := range cases {
		name := reflect.TypeOf(c.ptr).Elem().Name()
		if !token.IsExported(name) {
			continue // auth: tested above, outside the exported API
		}
		tested = append(tested, name)
		require.Contains(t, redacttest.Known, "broadcast."+name)
	}
	slices.Sort(tested)
	require.Equal(t, tested, redacttest.SecretTypes(t, ".", "broadcast"))
}
