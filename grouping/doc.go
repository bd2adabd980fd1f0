// Package grouping decides which equation combination representations each
// secret share combiner stores: the dealer's grouping of [0069]-[0089], with
// a combiner-security check that is exact over the integers.
//
// Calculator j holds shares d_j1..d_jl; a representation a names t shares on
// t distinct calculators and the dealer gives its combiner
// c_a = d - sum_{(j,i) in a} d_ji. A combiner with t-1 corrupted calculators
// recovers d iff the unit vector on d lies in the row space of its
// equations restricted to the unknown shares; and since everything is an
// integer, it learns d mod g whenever the integer solutions of its
// equations fix d modulo some g. Check, Leaks, Secure and CoalitionLeaks
// decide both exactly, per combiner and per pair of combiners: the d
// coordinates of the integer kernel lattice of the equations form gZ (an
// int64 lattice basis kept per coalition, math/big on overflow; see
// lattice.go), and a coalition is safe iff g is 1 or 2 (d is odd, so
// d mod 2 is public). The rational rank test alone (elimination over
// GF(2^61-1), justified by a Hadamard bound, with a math/big.Rat fallback)
// misses the modular leaks; it remains only in the lower-bound computation,
// where it is the weaker condition. Limits: CheckParams.
//
// Search returns plans covering all C(k,t) calculator sets, each by r
// distinct combiners (Options.Redundancy), optionally safe against any two
// combiners together (Options.Pairs), with as few combiners as it finds
// and, among those, the most even split of the calculator sets ([0036]
// point 1). FirstFit is the patent's procedure ([0076]-[0083]). Best (the
// default) combines:
//
//   - The partition construction (partition.go). A combiner holding, for
//     each share number s, one partition of the calculators into t blocks,
//     and serving a set with share s at every member whenever the set has
//     one member in each block of partition s, is secure over the
//     integers: for a coalition of t-1 calculators, raising d and every
//     share s of an untouched block of partition s by 1 changes no c_a and
//     no known share, so g = 1. The tests check such combiners with Check
//     and with an independent integer reference. c combiners need c*l
//     partitions splitting every t-set r times (a perfect hash family for
//     r = 1): a local search (simulated annealing on swaps and moves of
//     calculators between blocks) finds them, from twice the counting bound
//     down.
//   - For problems with C(k,t)*C(k,t-1) <= 20000, the patent's greedy,
//     seeded orderings with a best-fit choice of share numbers, dissolving
//     of the smallest combiners, and a repairing search with a fixed number
//     of combiners (ejecting the representations that block a set), one
//     combiner less at a time; it finds plans whose combiners mix share
//     numbers, which partitions cannot ((6,4,2): 12 sets in one combiner
//     against 8).
//   - With Options.Optimal and without pairs, simulated annealing
//     (anneal.go) for a fixed number of combiners, one less at a time
//     while above the lower bound: every set has r slots, each a
//     combiner and a choice of share numbers, and the energy counts the
//     representations each coalition's integer lattice refuses; moves
//     change one slot's combiner or one member's share number. Runs are
//     bounded by a move count and start, alternately, from the best plan
//     without its smallest combiner and at random, from successive seeds.
//     It finds the 3-combiner (6,4,2) plan with r=2 (the lower bound, so
//     proven optimal). The same energy over every pair's union finds
//     pair-safe plans only by luck of the seed (4 combiners for (6,3,2)
//     in 4 of 10 runs of 60000 moves, 5 for (6,4,2) in none of 10), so
//     pair searches run the symmetric search below instead.
//   - Balance (balance.go): every combiner is extended with everything it
//     can still hold securely, and the sets are assigned to r of the
//     combiners that can serve each, moving sets along paths from a
//     combiner to one with two sets less until none is left (a subset of a
//     secure set of equations is secure). Without pairs, a plan still
//     uneven by more than one set is searched again on small problems with
//     as many combiners, none above its even share ceil(C(k,t)*r/c) (the
//     repairing search under that cap, compact.go): (6,4,2) with r=2 then
//     splits 10+10+10 instead of 9+9+12. The same cap finds no even
//     pair-safe (6,3,2) plan in 150 tries, and exhaustive symmetric
//     searches prove that none of 4 combiners of 5 sets each (every set
//     then served once) is invariant under (1 2 3)(4 5 6) or under a
//     fixed-point-free involution of the calculators such as
//     (1 2)(3 4)(5 6) (all 8 representations per set, 0.25 and 11 million
//     nodes; TestNoEvenSymmetricPairPlan632). No group of order 4 of
//     the calculators can act regularly on the 4 combiners of an even
//     plan either: each holds a non-identity element fixing a 3-set, which
//     then fixes the one combiner serving it. No even plan exists at
//     all: an exhaustive search over every class of one combiner's
//     content under the renamings of the calculators and the share swaps
//     (6705 classes of 4.5 million contents, 0.96 million nodes, 4 minutes
//     on this machine; TestNoEvenPairPlan632 with TOLERANT_LONG=1) finds
//     none over the rationals, hence none over the integers.
//     With pairs and Optimal, a plan uneven by more than one set is
//     searched afresh (balancedpairs.go): depth first, one calculator set
//     at a time (the one with the fewest options left, an option that
//     leaks staying excluded below), with the same number of combiners
//     and loads in a band around the even share, widened by one set at a
//     time while narrower than the plan's spread (at most 1000 nodes each):
//     pair-safe (6,3,2) then gets 6,4,4,6 (under 30 nodes) instead of
//     5,4,7,4 (whether 6,5,5,4 exists is open).
//
// Everything is deterministic for a seed; the package is pure (no
// goroutines, no global state; the clock is read for statistics and, with
// Options.Optimal only, for the exact search's time limit).
//
// Lower bounds: maxPerCombiner computes exactly, by exhaustive search with
// symmetry breaking, the largest number M(u,t,l) of calculator sets one
// combiner can serve securely for small u (e.g. M(5,3,2)=8 of 10,
// M(6,4,2)=12 of 15, M(6,5,2)=4 of 6, M(7,6,2)=4 of 7); by averaging, one
// combiner of (k,t,l) serves at most C(k,t)*M(u,t,l)/C(u,t) sets, so at least
// ceil(r*C(u,t)/M(u,t,l)) combiners are needed. These bounds are those of
// the rational condition, which the integer one implies. With
// Options.Optimal an exact search (exact.go: depth-first over the sets,
// combiners and share numbers up to symmetry, cut by the room left) tries
// every count from the lower bound up within Options.TimeLimit; an
// exhausted count raises the bound, and Stats.Proven says that the plan's
// count equals the bound.
//
// Combiners for integer-secure plans, l=2, seed 1, measured with
// GROUPING_TABLE=1 go test -run TestTable -v ./grouping/ on a 2-core
// machine shared with other work (load 3-8; times are wall clock):
// the patent's greedy (FirstFit), Search with its split of the calculator
// sets and its time, the best proven lower bound (after a 10 s exact
// search, which proved nothing beyond the bound on these rows), and the
// count an independent search found ((o): with Options.Optimal, which
// adds the annealing above and, for the pair rows, the symmetric pair
// search below):
//
//	(k,t,l)   r pairs | greedy  time  | Search  split          time   | lower bound | found
//	(5,3,2)   1       |   2    <1 ms  |   2     5+5            <1 ms  |     2       |   2
//	(6,3,2)   1       |   3    <1 ms  |   2     10+10           1 ms  |     2       |   2
//	(6,4,2)   1       |   3    <1 ms  |   2     8+7             3 ms  |     2       |   2
//	(5,2,2)   1       |   2    <1 ms  |   2     5+5            52 ms  |     2 (*)   |   2
//	(7,3,2)   1       |   3     1 ms  |   2     18+17           1 ms  |     2       |   2
//	(8,4,2)   1       |   8     3 ms  |   3     24,23,23      0.3 s   |     2       |   3
//	(9,4,2)   1       |  11    23 ms  |   4     31..32        2.5 s   |     2       |   4
//	(10,5,2)  1       |  23   0.17 s  |   5     50..51        1.0 s   |     2       |   5
//	(12,6,2)  1       |  77   8.8 s   |  13     71..72        8.8 s   |     2       |  14
//	(6,3,2)   2       |   5    <1 ms  |   3     14,13,13        1 ms  |     3       |   3
//	(6,4,2)   2       |   5    <1 ms  |   3 (o) 10 each       4.5 s   |     3       |   3
//	(7,3,2)   2       |   6    <1 ms  |   4     18,18,17,17    73 ms  |     3       |   4
//	(7,4,2)   2       |   8     1 ms  |   5     14 each        50 ms  |     3       |   5
//	(8,4,2)   2       |  14    10 ms  |   5     28 each       0.9 s   |     3       |   5
//	(9,4,2)   2       |  20    21 ms  |   7     36 each       4.9 s   |     3       |   7
//	(10,5,2)  2       |  44   0.47 s  |  10     50..51        3.7 s   |     3       |  10
//	(5,3,2)   1  yes  |  10    <1 ms  |   3 (o) 4,3,3          36 ms  |     3       |   3
//	(6,3,2)   1  yes  |  20    <1 ms  |   4 (o) 6,4,4,6        2.4 s  |     3       |   4
//	(6,4,2)   1  yes  |  15    <1 ms  |   5 (o) 3 each         5.0 s  |     3       |   5
//
// (*) proven by the exact search (1 ms). Search reaches the independent
// count on every row ((12,6,2) one below it); it is proven optimal
// wherever its count equals the lower bound. Without Optimal, (6,4,2)
// with r=2 gets 4 combiners (8,7,8,7, 0.2 s), and the pair search tries
// each count once and does not rebalance (4, 7 and 7 combiners for the
// pair rows), plans with more room for AddCalculator. The pair-safe
// (6,3,2) split is the most even one with 4 combiners up to one set:
// no plan of 4 combiners with 5 sets each exists (TestNoEvenPairPlan632,
// Balance above). For (12,6,2) Search skips the patent's greedy
// (Stats.FirstFitCombiners is 0) when the construction succeeds.
// TestTableRows asserts every "found" count and checks every plan;
// BenchmarkTableRows measures the times.
//
// The cost of l: with l shares a calculator makes l exponentiations per
// task; more shares let one combiner serve more sets. ShareCosts (and
// plan -text) give the trade-off; one combiner serves every set from
// l=3 for (5,3), (6,3) and (7,6), and l=2 is proven not to suffice there
// (the lower bound is 2).
//
// Pair mode (Options.Pairs): any two combiners together with t-1
// calculators must learn neither d nor d mod g > 2, i.e. the union of every
// two combiners' equations passes the exact check. The patent's greedy
// cannot open a combiner once the others are nearly full (the new one's
// first equation must be safe with each of them), so it falls back to one
// combiner per calculator set. pairSearch (pairs.go) opens c combiners up
// front, fills them evenly (least loaded first: a fuller combiner blocks
// more pairs), reuses a set's representation already stored elsewhere (the
// union then gains nothing), and when no combiner can take a set forces it
// into one and ejects conflicting representations (found from the refusing
// coalition) to be placed again; c is raised from the bound until this
// succeeds and then lowered while it still does (with Options.Optimal, on
// small problems, each count is tried several times). With
// Options.Optimal on small problems the symmetric pair search
// (symmetric.go) follows, one combiner less at a time: renaming the
// calculators by a permutation sigma maps a pair-secure plan onto a
// pair-secure plan, so it looks only at plans invariant under sigma, first
// a c-cycle of the calculators that cycles the c combiners, then
// (1 2)(3 4) mapping each combiner onto itself. Such a plan is given by
// one representation per orbit of sigma on the calculator sets, and a
// depth-first search over the orbits (cut at the first leaking combiner
// or pair, at most 100000 nodes) finds pair-safe (6,4,2) in 5 combiners of
// 3 sets (a 5-cycle) and (6,3,2) in 4 ((1 2)(3 4)), deterministically.
// For r >= 2, r copies of an r=1 pair plan
// are pair-secure (a combiner and its copy hold the same equations). Pair
// lower bound: the union of two combiners is one secure set of equations,
// so it serves at most B of the C(k,t) sets (B from M(u,t,l) above);
// summing |S_a u S_b| over the pairs gives
// C(k,t)*(C(c,2)-C(c-r,2)) <= C(c,2)*B (pairLowerBound). A pair plan with
// the fewest combiners leaves little room: AddCalculator may then refuse
// (ErrInsecure) to place a new calculator's sets (the 3-combiner (5,3,2)
// plan does), which is why the thorough pair search is not the default.
//
// Adding a calculator (Plan.AddCalculator) only adds representations and
// removing one (Plan.RemoveCalculator) only removes them, so the c_a held by
// running combiners stay valid. A combiner keeps what it was dealt, the
// removed representations included: pass every combiner's history
// (Options.History) so that added ones are secure together with it.
package grouping
