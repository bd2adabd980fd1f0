package grouping

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tableRow is one row of the package doc's table: the count an
// independent search found (found), which Search must reach.
type tableRow struct {
	k, t, l, r int
	pairs      bool
	found      int
	even       bool // split within one calculator set
	long       bool // skipped with -short or -race
	optimal    bool // searched with Options.Optimal (always for pair rows)
}

var tableRows = []tableRow{
	{5, 3, 2, 1, false, 2, true, false, false},
	{6, 3, 2, 1, false, 2, true, false, false},
	{6, 4, 2, 1, false, 2, true, false, false},
	{5, 2, 2, 1, false, 2, true, false, false},
	{7, 3, 2, 1, false, 2, true, false, false},
	{8, 4, 2, 1, false, 3, true, false, false},
	{9, 4, 2, 1, false, 4, true, false, false},
	{10, 5, 2, 1, false, 5, true, true, false},
	{12, 6, 2, 1, false, 14, true, true, false},
	{6, 3, 2, 2, false, 3, true, false, false},
	{6, 4, 2, 2, false, 3, true, true, true},
	{7, 3, 2, 2, false, 4, true, false, false},
	{7, 4, 2, 2, false, 5, true, false, false},
	{8, 4, 2, 2, false, 5, true, false, false},
	{9, 4, 2, 2, false, 7, true, true, false},
	{10, 5, 2, 2, false, 10, true, true, false},
	{5, 3, 2, 1, true, 3, true, false, false},
	// Spread 2 (6,4,4,6, balancedPairs), the least there is: 20 sets on 4
	// combiners within one of even means 5,5,5,5, and no such pair-safe
	// plan exists (exhaustive search, TestNoEvenPairPlan632, run with
	// TOLERANT_LONG=1).
	{6, 3, 2, 1, true, 4, false, true, false},
	{6, 4, 2, 1, true, 5, true, true, false},
}

// maxSpread is the largest spread of the split the row may have: one set
// on even rows, two on the others.
func (row tableRow) maxSpread() int {
	if row.even {
		return 1
	}
	return 2
}

// opts are the options the row is measured with. Optimal rows get a
// minute, so that the annealing finishes its runs on a loaded machine.
func (row tableRow) opts() *Options {
	o := &Options{Redundancy: row.r, Pairs: row.pairs, Optimal: row.pairs || row.optimal}
	if row.optimal {
		o.TimeLimit = time.Minute
	}
	return o
}

// TestTableRows asserts, for every row of the table, at most the combiner
// count of the independent search, integer security (and pair security
// for pair rows) by Check and, on the small rows, by the independent
// references, redundancy and the balance of the split. It logs each row's
// time (the targets of the package doc are measured by BenchmarkTableRows).
func TestTableRows(t *testing.T) {
	for _, row := range tableRows {
		name := fmt.Sprintf("k%d_t%d_l%d_r%d_pairs%v", row.k, row.t, row.l, row.r, row.pairs)
		t.Run(name, func(t *testing.T) {
			if row.long && (testing.Short() || raceEnabled) {
				t.Skip("long row: run without -short and -race (.ci/run does)")
			}
			p, st, err := Search(row.k, row.t, row.l, row.opts())
			require.NoError(t, err)
			t.Logf("%d combiners (lower bound %d, proven %v), split %v, %v", len(p.Combiners), st.LowerBound, st.Proven, p.Load().Sets, st.Duration)
			require.LessOrEqual(t, len(p.Combiners), row.found, "combiners")
			require.GreaterOrEqual(t, len(p.Combiners), st.LowerBound)
			rep, err := Check(p)
			require.NoError(t, err)
			require.NoError(t, rep.Verdict())
			require.True(t, rep.Secure)
			require.GreaterOrEqual(t, rep.MinRedundancy, row.r)
			if row.pairs {
				require.True(t, rep.PairsSecure)
			}
			if row.k <= 6 {
				refCheckPlan(t, p, row.r, row.pairs)
			}
			require.LessOrEqual(t, spread(p), row.maxSpread(), "split %v", p.Load().Sets)
		})
	}
}

// TestPartitionCombinersIntegerSecure builds combiners from random
// partitions (every set each partition splits, with that partition's share
// number) and checks them with the integer verdict of Check and with the
// independent integer reference refG.
func TestPartitionCombinersIntegerSecure(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, c := range [][3]int{{5, 3, 2}, {6, 3, 3}, {6, 4, 2}, {7, 3, 2}, {7, 4, 3}, {8, 4, 2}} {
		k, tt, l := c[0], c[1], c[2]
		for trial := range 4 {
			f := newPartFamily(k, tt, l, 1, 1, rng)
			var reps []Rep
			for n, ms := range f.sets {
				for s := range l {
					if splits(f.part[s], ms) {
						reps = append(reps, setRep(ms, s+1))
					}
				}
				_ = n
			}
			p := &Plan{K: k, T: tt, L: l, Combiners: [][]Rep{reps}}
			rep, err := Check(p)
			require.NoError(t, err)
			require.True(t, rep.Secure, "%v trial %d: %v", c, trial, rep.Combiners[0].ModularLeaks)
			for _, co := range refCoalitions(k, tt-1) {
				g := refG(k, l, reps, co)
				require.True(t, g.IsInt64() && g.Int64() >= 1 && g.Int64() <= 2, "%v: coalition %v: g=%v", c, co, g)
			}
		}
	}
}

// TestPartitionFamilyCounters checks the incremental counters of the local
// search against a recount from scratch after many moves.
func TestPartitionFamilyCounters(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	f := newPartFamily(7, 3, 2, 3, 2, rng)
	f.improve(rng, 500, 0.8, 3)
	g := &partFamily{}
	*g = *f
	fresh := newPartFamily(7, 3, 2, 3, 2, rng)
	for i := range fresh.part {
		for j := range fresh.part[i] {
			fresh.setBlock(i, j, f.part[i][j])
		}
	}
	require.Equal(t, f.cover, fresh.cover)
	require.Equal(t, f.missing, fresh.missing)
	require.Equal(t, f.split, fresh.split)
}

// TestSearchAgainstBruteForce is the property test: for small parameters
// and several seeds, every plan of every search is checked with the
// independent references (the rational one, refSecure, and the integer
// one, refG, per combiner and per pair in pair mode), and the exact search's
// proven minimum is compared with a brute force over all plans.
func TestSearchAgainstBruteForce(t *testing.T) {
	for _, c := range [][5]int{{4, 2, 1, 1, 0}, {4, 2, 2, 1, 0}, {4, 3, 2, 1, 0}, {5, 3, 2, 1, 0}, {5, 3, 2, 2, 0}, {4, 2, 2, 1, 1}, {5, 2, 2, 1, 0}, {6, 3, 2, 1, 0}} {
		k, tt, l, r, pairs := c[0], c[1], c[2], c[3], c[4] == 1
		for seed := uint64(1); seed <= 3; seed++ {
			for _, m := range []Method{Best, FirstFitMethod} {
				p, _, err := Search(k, tt, l, &Options{Redundancy: r, Pairs: pairs, Seed: seed, Method: m})
				require.NoError(t, err)
				refCheckPlan(t, p, r, pairs)
			}
		}
	}
	// Minimum combiners: brute force over every assignment against the
	// exact search.
	for _, c := range [][4]int{{4, 2, 1, 1}, {4, 3, 1, 1}, {4, 2, 2, 1}, {4, 3, 2, 1}, {4, 2, 1, 2}} {
		k, tt, l, r := c[0], c[1], c[2], c[3]
		want := bruteMinCombiners(k, tt, l, r)
		p, st, err := Search(k, tt, l, &Options{Redundancy: r, Optimal: true})
		require.NoError(t, err)
		require.True(t, st.Proven, "%v", c)
		require.Equal(t, want, len(p.Combiners), "%v", c)
		refCheckPlan(t, p, r, false)
	}
}

// refCheckPlan checks coverage and security with the references only.
func refCheckPlan(t *testing.T, p *Plan, r int, pairs bool) {
	t.Helper()
	red := map[uint64]map[int]bool{}
	for a, reps := range p.Combiners {
		for _, rp := range reps {
			if red[rp.mask()] == nil {
				red[rp.mask()] = map[int]bool{}
			}
			red[rp.mask()][a] = true
		}
		require.True(t, refIntegerSecure(p.K, p.T, p.L, reps), "combiner %d of %v", a+1, p)
		require.True(t, refSecure(p.K, p.T, p.L, reps))
	}
	for _, m := range subsets(p.K, p.T) {
		require.GreaterOrEqual(t, len(red[m]), r, "set %v", members(m))
	}
	if pairs {
		for a := range p.Combiners {
			for b := a + 1; b < len(p.Combiners); b++ {
				u := append(append([]Rep{}, p.Combiners[a]...), p.Combiners[b]...)
				require.True(t, refIntegerSecure(p.K, p.T, p.L, u), "pair %d,%d", a+1, b+1)
			}
		}
	}
}

// bruteMinCombiners returns the fewest combiners of an integer-secure plan
// with redundancy r, by trying c = r, r+1, ... and every assignment of
// representations (each set: r distinct combiners, any equivalent each),
// checked with the reference only.
func bruteMinCombiners(k, t, l, r int) int {
	sets := subsets(k, t)
	for c := r; ; c++ {
		combs := make([][]Rep, c)
		var rec func(n, q, from int) bool
		rec = func(n, q, from int) bool {
			if n == len(sets) {
				return true
			}
			if q == r {
				return rec(n+1, 0, 0)
			}
			for a := from; a < c; a++ {
				for _, e := range equivalents(sets[n], l) {
					combs[a] = append(combs[a], e)
					if refIntegerSecure(k, t, l, combs[a]) && rec(n, q+1, a+1) {
						return true
					}
					combs[a] = combs[a][:len(combs[a])-1]
				}
			}
			return false
		}
		if rec(0, 0, 0) {
			return c
		}
	}
}

// TestAssignBalances checks the balanced assignment on a case where the
// greedy alone is uneven: every set eligible everywhere must end within
// one.
func TestAssignBalances(t *testing.T) {
	sets := subsets(6, 3)
	el := make([][]elig, len(sets))
	for n, m := range sets {
		for a := range 3 {
			if n%2 == 0 || a <= 1 {
				el[n] = append(el[n], elig{comb: a, rep: equivalents(m, 1)[0]})
			}
		}
	}
	p := assign(6, 3, 1, 3, 1, sets, el)
	require.NotNil(t, p)
	require.LessOrEqual(t, spread(p), 1, "%v", p.Load().Sets)
	require.Nil(t, assign(6, 3, 1, 3, 3, sets, el), "a set with two eligible combiners cannot get three")
}

// TestLoad checks the task shares and the failover of a small plan.
func TestLoad(t *testing.T) {
	p, _, err := Search(6, 3, 2, &Options{Redundancy: 2})
	require.NoError(t, err)
	ld := p.Load()
	sum := 0.0
	for _, x := range ld.Tasks {
		sum += x
	}
	require.InDelta(t, 1, sum, 1e-9)
	for a, row := range ld.Failover {
		require.InDelta(t, 0, row[a], 1e-9)
		require.InDelta(t, 0, ld.Lost[a], 1e-9, "r=2: nothing is lost with one combiner")
		s := ld.Lost[a]
		for _, x := range row {
			s += x
		}
		require.InDelta(t, 1, s, 1e-9)
	}
}

// TestShareCosts checks the smallest l with which one combiner serves
// every calculator set, and that one less is proven insufficient.
func TestShareCosts(t *testing.T) {
	for _, c := range [][3]int{{5, 3, 3}, {6, 3, 3}, {7, 6, 3}} {
		rows, err := ShareCosts(c[0], c[1], 6, nil)
		require.NoError(t, err)
		last := rows[len(rows)-1]
		require.Equal(t, c[2], last.L, "%v", c)
		require.Equal(t, 1, last.Combiners)
		require.Greater(t, rows[len(rows)-2].LowerBound, 1, "l-1 proven insufficient for %v", c)
	}
	_, err := ShareCosts(5, 3, 0, nil)
	require.ErrorIs(t, err, ErrParams)
}

// TestOptimalProves checks that -optimal style searches report a proof
// exactly when the count meets the lower bound.
func TestOptimalProves(t *testing.T) {
	p, st, err := Search(7, 3, 2, &Options{Optimal: true})
	require.NoError(t, err)
	require.Equal(t, 2, len(p.Combiners))
	require.True(t, st.Proven)
	_, err = func() (*Plan, error) { p, _, err := Search(5, 3, 2, &Options{TimeLimit: -1}); return p, err }()
	require.ErrorIs(t, err, ErrParams)
}

// TestSearchDeterministic checks that the same seed gives the same plan.
func TestSearchDeterministic(t *testing.T) {
	for _, c := range [][4]int{{7, 3, 2, 1}, {8, 4, 2, 2}, {6, 4, 2, 1}} {
		p, _, err := Search(c[0], c[1], c[2], &Options{Redundancy: c[3], Seed: 7})
		require.NoError(t, err)
		q, _, err := Search(c[0], c[1], c[2], &Options{Redundancy: c[3], Seed: 7})
		require.NoError(t, err)
		require.True(t, p.Equal(q), "%v", c)
	}
}
