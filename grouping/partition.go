package grouping

import (
	"math"
	"math/rand/v2"
)

// The partition construction. A combiner holds, for each share number s in
// 1..l, one partition P_s of the calculators into t blocks, and serves a
// calculator set with share s at every member whenever the set has exactly
// one member in each block of P_s. Such a combiner is secure over the
// integers: for a coalition C of t-1 calculators, each P_s has a block B_s
// that C does not touch; raising d by 1 and every share d_js with j in B_s
// by 1 changes no c_a (each equation with share s has exactly one term in
// B_s) and no share of C, so the kernel lattice of the equations contains a
// vector with d coordinate 1: g = 1 (lattice.go). Distinct share numbers
// use disjoint share columns, so the partitions do not interact. Every
// combiner built here is verified by the tests with Check all the same.
//
// A plan then needs, with redundancy r, every t-set split by the partitions
// of r distinct combiners: for r = 1 the c*l partitions form a perfect hash
// family. partitionFamily finds one for a given c by local search (swapping
// two calculators between blocks of one partition) on the number of missing
// coverings.

// partFamily is c combiners of l partitions each: part[a*l+s][j-1] is the
// block of calculator j in the partition of share s+1 of combiner a+1.
type partFamily struct {
	k, t, l, c, r int
	sets          [][]int // members (0-based) of every t-set
	part          [][]uint8
	split         [][]uint8 // split[a][n]: partitions of combiner a splitting set n
	blk           [][]uint8 // blk[i][n*t+b]: members of set n in block b of partition i
	distinct      [][]uint8 // distinct[i][n]: blocks of partition i set n touches
	cover         []int     // combiners covering set n
	missing       int       // sum over sets of max(0, r - cover)
	bySets        [][]int   // sets containing each calculator
}

// splits reports whether partition p has one member of set ms in each block.
func splits(p []uint8, ms []int) bool {
	var seen uint64
	for _, j := range ms {
		b := uint64(1) << p[j]
		if seen&b != 0 {
			return false
		}
		seen |= b
	}
	return true
}

func newPartFamily(k, t, l, c, r int, rng *rand.Rand) *partFamily {
	f := &partFamily{k: k, t: t, l: l, c: c, r: r, bySets: make([][]int, k)}
	for n, m := range subsets(k, t) {
		ms := members(m)
		for i := range ms {
			ms[i]--
			f.bySets[ms[i]] = append(f.bySets[ms[i]], n)
		}
		f.sets = append(f.sets, ms)
	}
	f.part = make([][]uint8, c*l)
	for i := range f.part {
		// Blocks as even as possible: that maximises the sets split.
		p := make([]uint8, k)
		for j := range p {
			p[j] = uint8(j % t)
		}
		rng.Shuffle(k, func(x, y int) { p[x], p[y] = p[y], p[x] })
		f.part[i] = p
	}
	f.blk = make([][]uint8, len(f.part))
	f.distinct = make([][]uint8, len(f.part))
	for i, p := range f.part {
		f.blk[i] = make([]uint8, len(f.sets)*t)
		f.distinct[i] = make([]uint8, len(f.sets))
		for n, ms := range f.sets {
			for _, j := range ms {
				if f.blk[i][n*t+int(p[j])]++; f.blk[i][n*t+int(p[j])] == 1 {
					f.distinct[i][n]++
				}
			}
		}
	}
	f.split = make([][]uint8, c)
	f.cover = make([]int, len(f.sets))
	for a := range c {
		f.split[a] = make([]uint8, len(f.sets))
		for s := range l {
			for n, ms := range f.sets {
				if splits(f.part[a*l+s], ms) {
					f.split[a][n]++
				}
			}
		}
		for n := range f.sets {
			if f.split[a][n] > 0 {
				f.cover[n]++
			}
		}
	}
	for _, cv := range f.cover {
		f.missing += max(0, r-cv)
	}
	return f
}

// setBlock puts calculator x into block b of partition i and updates the
// counters; it returns the change of f.missing.
func (f *partFamily) setBlock(i, x int, b uint8) int {
	a := i / f.l
	p := f.part[i]
	before := f.missing
	from := p[x]
	cnt, dist := f.blk[i], f.distinct[i]
	for _, n := range f.bySets[x] {
		was := int(dist[n]) == f.t
		c := cnt[n*f.t:]
		if c[from]--; c[from] == 0 {
			dist[n]--
		}
		if c[b]++; c[b] == 1 {
			dist[n]++
		}
		switch now := int(dist[n]) == f.t; {
		case was && !now:
			f.uncount(a, n)
		case now && !was:
			f.count(a, n)
		}
	}
	p[x] = b
	return f.missing - before
}

func (f *partFamily) count(a, n int) {
	f.split[a][n]++
	if f.split[a][n] == 1 {
		if f.cover[n] < f.r {
			f.missing--
		}
		f.cover[n]++
	}
}

func (f *partFamily) uncount(a, n int) {
	f.split[a][n]--
	if f.split[a][n] == 0 {
		f.cover[n]--
		if f.cover[n] < f.r {
			f.missing++
		}
	}
}

// improve runs at most steps moves and reports whether the family covers
// everything. Half the moves are aimed: a set still missing a covering,
// a combiner not covering it, one of its partitions, and a swap that moves
// one of two members sharing a block into a block the set does not touch
// (the set is then closer to being split). One move in single moves one
// calculator to another block (changing the block sizes: some families
// need uneven blocks), the others swap two calculators. A move that raises
// the number of missing coverings by d is kept with probability
// exp(-d/temp) (simulated annealing at a fixed temperature).
func (f *partFamily) improve(rng *rand.Rand, steps int, temp float64, single int) bool {
	for step := 0; step < steps && f.missing > 0; step++ {
		i, x, y, ok := f.aimedMove(rng)
		if !ok || rng.IntN(2) == 0 {
			i, x, y = rng.IntN(len(f.part)), rng.IntN(f.k), rng.IntN(f.k)
		}
		p := f.part[i]
		bx, by := p[x], p[y]
		if bx == by {
			continue
		}
		one := rng.IntN(single) == 0
		d := f.setBlock(i, x, by)
		if !one {
			d += f.setBlock(i, y, bx)
		}
		if d > 0 && rng.Float64() >= math.Exp(-float64(d)/temp) {
			if !one {
				f.setBlock(i, y, by)
			}
			f.setBlock(i, x, bx)
		}
	}
	return f.missing == 0
}

// aimedMove picks the aimed move described at improve.
func (f *partFamily) aimedMove(rng *rand.Rand) (i, x, y int, ok bool) {
	n := -1
	for try := 0; try < 4*len(f.sets); try++ {
		if m := rng.IntN(len(f.sets)); f.cover[m] < f.r {
			n = m
			break
		}
	}
	if n < 0 {
		return 0, 0, 0, false
	}
	a := rng.IntN(f.c)
	for f.split[a][n] > 0 {
		a = rng.IntN(f.c)
	}
	i = a*f.l + rng.IntN(f.l)
	p, ms := f.part[i], f.sets[n]
	var inSet uint64
	for _, j := range ms {
		inSet |= 1 << p[j]
	}
	// x: a member sharing its block with another member.
	var dup []int
	for u, j := range ms {
		for _, j2 := range ms[u+1:] {
			if p[j] == p[j2] {
				dup = append(dup, j, j2)
			}
		}
	}
	if len(dup) == 0 {
		return 0, 0, 0, false
	}
	x = dup[rng.IntN(len(dup))]
	// y: a calculator outside the set in a block the set does not touch.
	var out []int
	for j := range f.k {
		if inSet&(1<<p[j]) == 0 {
			out = append(out, j)
		}
	}
	if len(out) == 0 {
		return 0, 0, 0, false
	}
	return i, x, out[rng.IntN(len(out))], true
}

// partSchedule lists the (temperature, single) pairs of the attempts made
// for one combiner count: the cooler one suits the larger problems, the
// warmer one the tight ones (measured on the rows of the package doc).
var partSchedule = [...]struct {
	temp   float64
	single int
}{{0.35, 3}, {0.8, 8}, {0.35, 3}, {0.8, 8}}

// partitionBudget is the number of moves of one attempt.
func partitionBudget(k, t int) int {
	return min(200000, max(50000, 1600*binom(k, t)))
}

// splitMax is the largest number of t-sets one partition of k calculators
// into t blocks splits (blocks as even as possible).
func splitMax(k, t int) int {
	v := 1
	for b := range t {
		size := k / t
		if b < k%t {
			size++
		}
		v = satMul(v, size)
	}
	return v
}

// partitionTry looks for a covering family of c combiners.
func partitionTry(k, t, l, r, c int, rng *rand.Rand) *partFamily {
	for _, a := range partSchedule {
		f := newPartFamily(k, t, l, c, r, rng)
		if f.improve(rng, partitionBudget(k, t), a.temp, a.single) {
			return f
		}
	}
	return nil
}

// partitionSearch returns a covering family with fewer than ub combiners
// and at least lb, as few as it finds, or nil. It starts from twice the
// counting bound (each set needs r coverings, a combiner covers at most
// l*splitMax sets), or one less than ub, goes up until a family is found
// and then down until an attempt fails. Everything follows the seed.
func partitionSearch(k, t, l, r, lb, ub int, rng *rand.Rand) *partFamily {
	n := binom(k, t)
	if t > 64 || n > MaxSets || satMul(n, r) > MaxReps {
		return nil
	}
	perComb := satMul(l, splitMax(k, t))
	c := max(lb, r, min(ub-1, (2*r*n+perComb-1)/perComb))
	var best *partFamily
	for ; c < ub && best == nil; c += max(1, c/4) {
		best = partitionTry(k, t, l, r, c, rng)
	}
	if best == nil {
		return nil
	}
	for c = best.c - 1; c >= max(lb, r, 1); c-- {
		if 10*c*perComb < 11*r*n {
			// Less than a tenth of room to spare: not worth the attempts.
			break
		}
		f := partitionTry(k, t, l, r, c, rng)
		if f == nil {
			break
		}
		best = f
	}
	return best
}

// eligible returns, for every set (in the order of subsets), each combiner
// covering it with the share number (1-based) of the first partition of
// that combiner splitting it.
func (f *partFamily) eligible() [][]elig {
	out := make([][]elig, len(f.sets))
	for n, ms := range f.sets {
		for a := range f.c {
			if f.split[a][n] == 0 {
				continue
			}
			for s := range f.l {
				if splits(f.part[a*f.l+s], ms) {
					out[n] = append(out[n], elig{comb: a, rep: setRep(ms, s+1)})
					break
				}
			}
		}
	}
	return out
}

// setRep is the representation of the 0-based members ms with share i
// at every member.
func setRep(ms []int, i int) Rep {
	r := make(Rep, len(ms))
	for n, j := range ms {
		r[n] = Term{J: j + 1, I: i}
	}
	return r
}
