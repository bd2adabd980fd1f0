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
// combiners together (Options.Pairs). FirstFit is the patent's procedure
// ([0076]-[0083]); Best (the default) runs seeded orderings with a best-fit
// choice of share numbers (the one that raises the fewest coalition ranks)
// and then dissolves the smallest combiners into the others. Everything is
// deterministic for a seed; the package is pure (no goroutines, clock only
// for statistics, no global state).
//
// Lower bounds: maxPerCombiner computes exactly, by exhaustive search with
// symmetry breaking, the largest number M(u,t,l) of calculator sets one
// combiner can serve securely for small u (e.g. M(5,3,2)=8 of 10,
// M(6,4,2)=12 of 15, M(6,5,2)=4 of 6, M(7,6,2)=4 of 7); by averaging, one
// combiner of (k,t,l) serves at most C(k,t)*M(u,t,l)/C(u,t) sets, so at least
// ceil(r*C(u,t)/M(u,t,l)) combiners are needed.
//
// Combiners needed for integer-secure plans, measured with
// GROUPING_TABLE=1 go test -run TestTable -v ./grouping/ (seed 1, l=2;
// the lower bounds are those of the rational condition, which the integer
// one implies):
//
//	(k,t,l)   r  patent first-fit  Search (best)  proven lower bound
//	(5,3,2)   1         2                2                2
//	(5,3,2)   2         3                3                3
//	(6,3,2)   1         3                2                2
//	(6,3,2)   2         5                4                3
//	(7,3,2)   1         3                3                2
//	(7,3,2)   2         6                5                3
//	(7,4,2)   1         5                3                2
//	(7,4,2)   2         8                6                3
//	(10,5,2)  1        23               17                2
//	(10,5,2)  2        44               31                3
//
// Pair mode (Options.Pairs): any two combiners together with t-1
// calculators must learn neither d nor d mod g > 2, i.e. the union of every two
// combiners' equations passes the exact check. The patent's greedy cannot
// open a combiner once the others are nearly full (the new one's first
// equation must be safe with each of them), so it used to fall back to one
// combiner per calculator set. pairSearch (pairs.go) opens c combiners up
// front, fills them evenly (least loaded first: a fuller combiner blocks
// more pairs), reuses a set's representation already stored elsewhere
// (the union then gains nothing), and when no combiner can take a set
// forces it into one and ejects conflicting representations (found from
// the refusing coalition) to be placed again; c is raised from the bound
// until this succeeds and then lowered while it still does. For r >= 2,
// r copies of an r=1 pair plan are pair-secure (a combiner and its copy
// hold the same equations). Pair lower bound: the union of two combiners
// is one secure set of equations, so it serves at most B of the C(k,t)
// sets (B from M(u,t,l) above); summing |S_a u S_b| over the pairs gives
// C(k,t)*(C(c,2)-C(c-r,2)) <= C(c,2)*B (pairLowerBound); it is reached
// for (5,3,2) r=1 by some seeds (3 combiners). Measured with
// GROUPING_TABLE=1 go test -run TestPairTable -v ./grouping/ (seed 1):
//
//	(k,t,l)   r  before (one per set)  pair search  proven lower bound  time
//	(5,3,2)   1          10                 4                3           0.02 s
//	(5,3,2)   2          20                 8                5           0.06 s
//	(6,3,2)   1          20                 7                3           0.09 s
//	(6,3,2)   2          40                14                5           0.3 s
//	(7,3,2)   1          35                10                3           0.3 s
//	(7,3,2)   2          70                20                5           3.5 s
//	(7,4,2)   1          35                15                3           4.3 s
//	(7,4,2)   2          70                30                5          13.8 s
//	(5,3,3)   1           1                 1                1           0 s
//	(5,3,3)   2           2                 2                2           0 s
//	(6,3,3)   1          20                 4                1           0.16 s
//	(6,3,3)   2          40                 8                2           0.3 s
//
// (times on a loaded 2-core machine.)
//
// Adding a calculator (Plan.AddCalculator) only adds representations and
// removing one (Plan.RemoveCalculator) only removes them, so the c_a held by
// running combiners stay valid. A combiner keeps what it was dealt, the
// removed representations included: pass every combiner's history
// (Options.History) so that added ones are secure together with it.
package grouping
