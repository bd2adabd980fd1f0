package combine

import (
	"context"
	"math/big"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
)

// searchFixture is a fixture for the (5,3,2) plan of the patent's
// first-fit greedy (grouping.FirstFit) with redundancy 1, the plan the
// protocol tests run: its first combiner holds 8 representations, enough
// to prove a lone liar (the evenly loaded 5+5 plan of grouping.Search is not).
func searchFixture(t *testing.T) *fixture {
	t.Helper()
	return fixtureOf(t, testcluster.Key(testkeys.RSA2048), testcluster.Deal(t, 5, 3, 2, nil))
}

// collude multiplies the partials of calculator a selected by ia (share
// number, or 0 for all) by r, and those of b selected by ib by 1/r.
func collude(f *fixture, all []share.Partial, a, ia, b, ib int) []share.Partial {
	n := f.key.N
	r := big.NewInt(3)
	rInv := new(big.Int).ModInverse(r, n)
	out := slices.Clone(all)
	for k, p := range out {
		var m *big.Int
		switch {
		case p.J == a && (ia == 0 || p.I == ia):
			m = r
		case p.J == b && (ib == 0 || p.I == ib):
			m = rInv
		default:
			continue
		}
		v := new(big.Int).SetBytes(p.Value)
		v.Mul(v, m).Mod(v, n)
		out[k].Value = v.FillBytes(make([]byte, len(p.Value)))
	}
	return out
}

// TestRegressionFramingByColludingPair: with X1 = P1·r and X2 = P2/r, the
// representations holding both colluders verify, so marking every term of
// a verified representation right got honest calculators named. No honest
// calculator may be named, whatever two colluders send.
func TestRegressionFramingByColludingPair(t *testing.T) {
	f := searchFixture(t)
	req := f.request("framing")
	want := f.want(t, req)
	all := f.partials(t, req, 1, 2, 3, 4, 5)
	framings := 0
	for a := 1; a <= 5; a++ {
		for b := a + 1; b <= 5; b++ {
			for ia := 0; ia <= 2; ia++ {
				for ib := 0; ib <= 2; ib++ {
					parts := collude(f, all, a, ia, b, ib)
					for c := 1; c <= 2; c++ {
						res, err := f.combiner(t, c, &Options{Audit: true}).Combine(context.Background(), req, parts)
						if err != nil {
							continue // this combiner holds no representation without them
						}
						require.Equal(t, want, res.Signature)
						if !assert.Subset(t, []int{a, b}, res.Inconsistent, "X%d%d·r, X%d%d/r, combiner %d: only colluders %d and %d may be named", a, ia, b, ib, c, a, b) {
							framings++
						}
					}
				}
			}
		}
	}
	require.Zero(t, framings)
}

// TestLoneLiarNamedOnSearchPlan: on the (5,3,2) plan, combiner 1 holds
// enough representations to prove a lone liar wrong against any two
// colluders, and names it.
func TestLoneLiarNamedOnSearchPlan(t *testing.T) {
	f := searchFixture(t)
	req := f.request("lone liar")
	all := f.partials(t, req, 1, 2, 3, 4, 5)
	for liar := 1; liar <= 5; liar++ {
		res, err := f.combiner(t, 1, &Options{Audit: true}).Combine(context.Background(), req, corrupt(f, all, liar))
		require.NoError(t, err)
		require.Equal(t, []int{liar}, res.Inconsistent, "liar %d", liar)
		t.Logf("liar %d: named %v, suspects %v", liar, res.Inconsistent, res.Suspects)
	}
}
