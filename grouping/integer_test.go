package grouping

import (
	"math/big"
	"os"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestRegressionRationalCheckMissesModularLeak: the default (7,3,2) plan of
// the rational-only check (testdata/plan_7_3_2_main.json, Search(7,3,2,nil)
// before the integer check) lets combiner 2 with calculators {4,5} learn
// d mod 3. Check must say so, and Search must not return such a plan.
func TestRegressionRationalCheckMissesModularLeak(t *testing.T) {
	p, rep := checkInsecureFile(t, "testdata/plan_7_3_2_main.json")
	require.Empty(t, rep.Combiners[1].Leaks, "no rational leak")
	require.Contains(t, rep.Combiners[1].ModularLeaks, ModularLeak{Coalition: []int{4, 5}, G: 3})
	require.ErrorIs(t, rep.Verdict(), ErrInsecure)
	require.ErrorContains(t, rep.Verdict(), "combiner 2")
	require.ErrorContains(t, rep.Verdict(), "d mod 3")
	require.Equal(t, big.NewInt(3), refG(7, 2, p.Combiners[1], map[int]bool{4: true, 5: true}))

	// Growing it keeps its representations, so it must be refused.
	_, _, err := p.AddCalculator(nil)
	require.ErrorIs(t, err, ErrInsecure)

	q, _, err := Search(7, 3, 2, nil)
	require.NoError(t, err)
	rq, err := Check(q)
	require.NoError(t, err)
	require.NoError(t, rq.Verdict())
	for a, reps := range q.Combiners {
		require.True(t, refIntegerSecure(7, 3, 2, reps), "combiner %d", a+1)
	}
}

// checkInsecureFile reads the plan at path, checks it and fails unless
// Check calls it insecure.
func checkInsecureFile(t *testing.T, path string) (*Plan, *Report) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	p, err := ParsePlan(b)
	require.NoError(t, err)
	rep, err := Check(p)
	require.NoError(t, err)
	require.False(t, rep.Secure, "%s: Check calls it secure", path)
	return p, rep
}

// bigIntEqual lets cmp compare *big.Int by value.
var bigIntEqual = cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 })

// refIntegerSecure reports, with the independent reference refG, whether
// no coalition of t-1 calculators learns d or d mod g > 2 with reps.
func refIntegerSecure(k, t, l int, reps []Rep) bool {
	for _, c := range refCoalitions(k, t-1) {
		if gLeaks(refG(k, l, reps, c)) {
			return false
		}
	}
	return true
}

// gLeaks says whether a coalition whose reference g is g learns d (g = 0)
// or d mod g with g > 2.
func gLeaks(g *big.Int) bool {
	return g.Sign() == 0 || g.Cmp(big.NewInt(2)) > 0
}

func maskOf(c map[int]bool) uint64 {
	var m uint64
	for j := range c {
		m |= 1 << (j - 1)
	}
	return m
}

// drawReps draws n random representations of (k, t, l).
func drawReps(rt *rapid.T, k, t, l, n int) []Rep {
	var reps []Rep
	for range n {
		perm := rapid.Permutation(seq(1, k)).Draw(rt, "perm")[:t]
		slices.Sort(perm)
		r := make(Rep, t)
		for i, j := range perm {
			r[i] = Term{J: j, I: rapid.IntRange(1, l).Draw(rt, "i")}
		}
		reps = append(reps, r)
	}
	return reps
}

// TestIntegerCheckMatchesSmith compares the g of the integer check (int64
// and math/big paths) with the independent diagonal-form reference refG on
// random combiners and coalitions, and the rational verdict (g = 0) with
// the rational reference refLeaks.
func TestIntegerCheckMatchesSmith(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		k, tt, l := drawParams(rt, 8, 3)
		reps := drawReps(rt, k, tt, l, rapid.IntRange(1, 24).Draw(rt, "n"))
		for _, c := range refCoalitions(k, rapid.IntRange(0, tt-1).Draw(rt, "size")) {
			want := refG(k, l, reps, c)
			got := coalitionG(k, l, reps, maskOf(c), nil, nil)
			require.Empty(rt, cmp.Diff(want, big.NewInt(got), bigIntEqual), "coalition %v: g (-reference +got), reps %v", c, reps)
			var rows [][]int
			for _, r := range reps {
				rows = append(rows, restrict(r, maskOf(c), l, nil))
			}
			require.Empty(rt, cmp.Diff(want, bigG(rows, k*l+1), bigIntEqual), "coalition %v: bigG (-reference +got)", c)
			require.Equal(rt, want.Sign() == 0, refLeaks(k, l, reps, c), "coalition %v: g=%v is 0 exactly when the rational reference leaks", c, want)
		}
	})
}

// TestSearchIntegerSecure: every plan the searches return (single, pair,
// first-fit, AddCalculator) passes the independent integer reference.
func TestSearchIntegerSecure(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		k := rapid.IntRange(4, 7).Draw(rt, "k")
		tt := rapid.IntRange(2, min(k-1, 4)).Draw(rt, "t")
		l := rapid.IntRange(1, 2).Draw(rt, "l")
		o := &Options{Seed: rapid.Uint64Range(1, 1000).Draw(rt, "seed"), Pairs: rapid.Bool().Draw(rt, "pairs"),
			Method: Method(rapid.IntRange(0, 1).Draw(rt, "method")), Restarts: 2}
		p, _, err := Search(k, tt, l, o)
		require.NoError(rt, err)
		if rapid.Bool().Draw(rt, "add") {
			// In pair mode the greedy may find no place (ErrInsecure).
			if q, _, err := p.AddCalculator(o); err == nil {
				p, k = q, k+1
			} else {
				require.True(rt, o.Pairs, "AddCalculator outside pair mode: %v", err)
				require.ErrorIs(rt, err, ErrInsecure)
			}
		}
		for a, reps := range p.Combiners {
			require.True(rt, refIntegerSecure(k, tt, l, reps), "combiner %d of %v insecure", a+1, p.Combiners)
		}
		if o.Pairs {
			for a := range p.Combiners {
				for b := a + 1; b < len(p.Combiners); b++ {
					require.True(rt, refIntegerSecure(k, tt, l, append(slices.Clone(p.Combiners[a]), p.Combiners[b]...)), "pair %d+%d insecure", a+1, b+1)
				}
			}
		}
	})
}

// TestZBasisTryMatchesApply: the trial classification (d coordinates only)
// agrees with applying the row and reading g; like the search, refused
// rows are not stored.
func TestZBasisTryMatchesApply(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		k, tt, l := drawParams(rt, 7, 3)
		reps := drawReps(rt, k, tt, l, rapid.IntRange(1, 20).Draw(rt, "n"))
		b := newZBasis(k*l + 1)
		for _, r := range reps {
			cols := restrict(r, 0, l, nil)
			res := b.try(cols)
			rank := b.rank()
			saved := b.clone().(*zBasis)
			b.apply(cols)
			g := b.g()
			switch res {
			case resDependent:
				require.Equal(rt, rank, b.rank(), "dependent row changed the rank")
			case resLeak:
				require.True(rt, g == 0 || g > 2, "trial leak, want g = 0 or g > 2, got g=%d", g)
			case resIndependent:
				require.NotZero(rt, g, "trial independent, want g != 0")
				require.LessOrEqual(rt, g, int64(2), "trial independent, want g <= 2")
			}
			if res == resLeak {
				b = saved
			}
		}
	})
}

// TestRegressionRationalCheckMissesModularLeak10: in the default (10,5,2)
// plan of the rational-only search (testdata/plan_10_5_2_main.json) some
// coalitions learn d mod 3, 4, 5 or 7; each is confirmed by refG.
func TestRegressionRationalCheckMissesModularLeak10(t *testing.T) {
	p, rep := checkInsecureFile(t, "testdata/plan_10_5_2_main.json")
	seen := map[int64]bool{}
	for _, c := range rep.Combiners {
		require.Empty(t, c.Leaks, "no rational leak")
		for _, m := range c.ModularLeaks {
			seen[m.G] = true
			coal := map[int]bool{}
			for _, j := range m.Coalition {
				coal[j] = true
			}
			require.Equal(t, big.NewInt(m.G), refG(10, 2, p.Combiners[c.Index-1], coal), "combiner %d %v", c.Index, m)
		}
	}
	for _, g := range []int64{3, 4, 5, 7} {
		require.True(t, seen[g], "d mod %d", g)
	}
}

// rank is the rank of the stored rows: n minus the dimension of K.
func (b *zBasis) rank() int {
	free := 0
	for _, t := range b.touched[:b.n-1] {
		if !t {
			free++
		}
	}
	return b.n - b.count() - free
}
