package grouping

import (
	"math"
	"math/rand/v2"
	"time"
)

// Simulated annealing for a fixed number m of combiners. Every calculator
// set has r slots; a slot names a combiner and a choice of share numbers
// for the set's members (a representation, [0069]), and the r slots of a
// set lie on distinct combiners. The energy counts, for every combiner
// (and with pairs, every pair of combiners) and every coalition of t-1
// calculators, the representations refused when the combiner's equations
// are added one by one to that coalition's integer lattice (lattice.go):
// a plan of energy 0 is secure. A move gives one slot a new combiner or a
// new share number for one member. Mixing share numbers inside a combiner
// lets it hold more sets than the partition construction.

// The annealing schedule: the temperature falls from annealT0 to annealT1
// within each cycle of annealCycle moves.
const (
	annealT0    = 1.0
	annealT1    = 0.05
	annealCycle = 20000
)

// annealer is one run of the annealing search.
type annealer struct {
	k, t, l, r, m int
	pairs         bool
	sets          [][]int // members (0-based) of each calculator set
	coal          []uint64
	slots         []annealSlot
	byComb        [][]int // slot indices held by each combiner
	energyC       []int
	energyP       [][]int // energyP[a][b], a < b
	zb            *zBasis
	buf           []int
	rep           Rep
}

type annealSlot struct {
	set, comb int
	share     []int // share number (1-based) of each member
}

// annealIters is the number of moves of one annealing run; each further
// run starts from the next seed.
const annealIters = 60000

// annealRuns bounds the runs per combiner count.
const annealRuns = 8

// anneal tries, with Options.Optimal on small problems, one combiner less
// than best at a time down to the lower bound, each count with runs from
// successive seeds until the time limit.
func anneal(k, t, l int, o Options, st *Stats, best *Plan) *Plan {
	if searchWork(k, t) > repairWorkLimit {
		return best
	}
	deadline := time.Now().Add(o.timeLimit())
	r := o.Redundancy
	for m := len(best.Combiners) - 1; m >= max(st.LowerBound, 1); m-- {
		var q *Plan
		for n := uint64(0); q == nil && n < annealRuns && time.Now().Before(deadline); n++ {
			// Runs alternate between a start from best and a random one.
			var from *Plan
			if n%2 == 0 {
				from = best
			}
			q = annealSearch(k, t, l, r, m, o.Pairs, from, o.Seed+n/2, annealIters, deadline)
		}
		if q == nil {
			break
		}
		if b := rebalance(q, r, o.Pairs); better(b, q) {
			q = b
		}
		best = q
	}
	return best
}

// annealSearch looks for a plan with m combiners within iters moves (and
// before deadline); nil if none was found. It starts from the plan from
// (m+1 combiners, or nil) without its smallest combiner.
func annealSearch(k, t, l, r, m int, pairs bool, from *Plan, seed uint64, iters int, deadline time.Time) *Plan {
	if m < r || r < 1 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, uint64(m)))
	an := &annealer{k: k, t: t, l: l, r: r, m: m, pairs: pairs, coal: subsets(k, t-1), zb: newZBasis(k*l + 1)}
	for _, s := range subsets(k, t) {
		var ms []int
		for j := range k {
			if s&(1<<j) != 0 {
				ms = append(ms, j)
			}
		}
		an.sets = append(an.sets, ms)
	}
	an.place(rng, from)
	an.energyC = make([]int, m)
	an.energyP = make([][]int, m)
	total := 0
	for a := range m {
		if !pairs || m == 1 {
			an.energyC[a] = an.energy(a, -1)
			total += an.energyC[a]
		}
		an.energyP[a] = make([]int, m)
		if pairs {
			for b := a + 1; b < m; b++ {
				an.energyP[a][b] = an.energy(a, b)
				total += an.energyP[a][b]
			}
		}
	}
	it := 0
	for ; total > 0 && it < iters; it++ {
		if it%256 == 0 && time.Now().After(deadline) {
			return nil
		}
		frac := float64(it%annealCycle) / float64(annealCycle)
		temp := annealT0 * math.Pow(annealT1/annealT0, frac)
		total += an.move(rng, temp)
	}
	if total > 0 {
		return nil
	}
	return an.plan()
}

// place gives every set r slots: those of from (its smallest combiner
// left out) where from has m+1 combiners, the rest on random combiners
// with random share numbers.
func (an *annealer) place(rng *rand.Rand, from *Plan) {
	an.byComb = make([][]int, an.m)
	idx := map[uint64]int{}
	for n, ms := range an.sets {
		var mask uint64
		for _, j := range ms {
			mask |= 1 << j
		}
		idx[mask] = n
	}
	cnt := make([]int, len(an.sets))
	if from != nil && len(from.Combiners) == an.m+1 {
		drop := 0
		for a, reps := range from.Combiners {
			if len(reps) < len(from.Combiners[drop]) {
				drop = a
			}
		}
		for a, reps := range from.Combiners {
			if a == drop {
				continue
			}
			to := a
			if a > drop {
				to--
			}
			for _, rp := range reps {
				if n, ok := idx[rp.mask()]; ok && cnt[n] < an.r && !an.holds(to, n) {
					an.addSlot(n, to, rp)
					cnt[n]++
				}
			}
		}
	}
	for n := range an.sets {
		for ; cnt[n] < an.r; cnt[n]++ {
			a := rng.IntN(an.m)
			for an.holds(a, n) {
				a = (a + 1) % an.m
			}
			rp := make(Rep, an.t)
			for i, j := range an.sets[n] {
				rp[i] = Term{J: j + 1, I: 1 + rng.IntN(an.l)}
			}
			an.addSlot(n, a, rp)
		}
	}
}

// addSlot puts a slot of set n with the share numbers of rp on combiner a.
func (an *annealer) addSlot(n, a int, rp Rep) {
	sh := make([]int, an.t)
	for i, x := range rp {
		sh[i] = x.I
	}
	an.slots = append(an.slots, annealSlot{set: n, comb: a, share: sh})
	an.byComb[a] = append(an.byComb[a], len(an.slots)-1)
}

// move tries one random move and returns the change of energy (0 when
// rejected).
func (an *annealer) move(rng *rand.Rand, temp float64) int {
	si := rng.IntN(len(an.slots))
	sl := &an.slots[si]
	old := sl.comb
	oldShare := append([]int(nil), sl.share...)
	if an.l > 1 && rng.IntN(2) == 0 {
		i := rng.IntN(an.t)
		sl.share[i] = 1 + (sl.share[i]-1+1+rng.IntN(an.l-1))%an.l
	} else {
		a := rng.IntN(an.m)
		if a == old || an.holds(a, sl.set) {
			return 0
		}
		an.moveSlot(si, old, a)
		if rng.IntN(2) == 0 {
			i := rng.IntN(an.t)
			sl.share[i] = 1 + rng.IntN(an.l)
		}
	}
	delta, undo := an.recompute(old, sl.comb)
	if delta <= 0 || rng.Float64() < math.Exp(-float64(delta)/temp) {
		return delta
	}
	// Reject: restore the slot and the energies.
	if sl.comb != old {
		an.moveSlot(si, sl.comb, old)
	}
	copy(sl.share, oldShare)
	undo()
	return 0
}

func (an *annealer) holds(a, set int) bool {
	for _, si := range an.byComb[a] {
		if an.slots[si].set == set {
			return true
		}
	}
	return false
}

func (an *annealer) moveSlot(si, from, to int) {
	l := an.byComb[from]
	for n, x := range l {
		if x == si {
			l[n] = l[len(l)-1]
			an.byComb[from] = l[:len(l)-1]
			break
		}
	}
	an.byComb[to] = append(an.byComb[to], si)
	an.slots[si].comb = to
}

// recompute refreshes the energies touching combiners a and b and returns
// the change and a function restoring the old values.
func (an *annealer) recompute(a, b int) (int, func()) {
	type saved struct{ a, b, e int }
	var old []saved
	delta := 0
	set := func(x, y int) {
		if x > y {
			x, y = y, x
		}
		var e *int
		if y < 0 || x == y {
			e = &an.energyC[max(x, y)]
		} else {
			e = &an.energyP[x][y]
		}
		old = append(old, saved{x, y, *e})
		n := an.energy(x, y)
		delta += n - *e
		*e = n
	}
	// With pairs the union of two combiners covers each of them.
	if !an.pairs || an.m == 1 {
		set(a, a)
		if b != a {
			set(b, b)
		}
	}
	if an.pairs {
		for o := range an.m {
			if o != a {
				set(a, o)
			}
			if b != a && o != b && o != a {
				set(b, o)
			}
		}
	}
	return delta, func() {
		for _, s := range old {
			if s.a == s.b {
				an.energyC[s.a] = s.e
			} else {
				an.energyP[s.a][s.b] = s.e
			}
		}
	}
}

// energy counts the refused representations of combiner a (with b >= 0
// and b != a, of the union of a and b) over all coalitions.
func (an *annealer) energy(a, b int) int {
	e := 0
	for _, c := range an.coal {
		an.resetBasis()
		for n, x := range []int{a, b} {
			if n == 1 && (x < 0 || x == a) {
				continue
			}
			for _, si := range an.byComb[x] {
				an.buf = restrict(an.slotRep(si), c, an.l, an.buf)
				if an.zb.add(an.buf, true) >= resLeak {
					e++
				}
			}
		}
	}
	return e
}

func (an *annealer) resetBasis() {
	b := an.zb
	b.vecs = b.vecs[:b.n]
	clear(b.vecs)
	b.vecs[b.n-1] = 1
	clear(b.touched)
	b.bad = false
}

// slotRep returns the representation of slot si in a shared buffer.
func (an *annealer) slotRep(si int) Rep {
	sl := an.slots[si]
	an.rep = an.rep[:0]
	for n, j := range an.sets[sl.set] {
		an.rep = append(an.rep, Term{J: j + 1, I: sl.share[n]})
	}
	return an.rep
}

func (an *annealer) plan() *Plan {
	p := &Plan{K: an.k, T: an.t, L: an.l, Combiners: make([][]Rep, an.m)}
	for a := range an.m {
		p.Combiners[a] = []Rep{}
		for _, si := range an.byComb[a] {
			p.Combiners[a] = append(p.Combiners[a], append(Rep(nil), an.slotRep(si)...))
		}
	}
	return p
}
