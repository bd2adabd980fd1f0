package combine

import (
	"math/big"
	"slices"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/mapkeys"
)

// maxExplanations bounds the coalitions blame examines. Beyond it nobody
// is named and every calculator of a failed representation is a suspect.
const maxExplanations = 1 << 14

// blame decides, from which representations verified (pass) and which did
// not (fail), which calculators are proven wrong and which are suspects.
//
// A verified representation proves only that the product of its partials
// is right: colluding calculators can send X1 = P1·r and X2 = P2/r, so that
// every representation holding both verifies and every one holding only
// one fails. An explanation is a coalition C of at most t-1 calculators
// that could have produced what was seen, every other calculator honest:
// writing each partial of C as P·g^{e}, every passing representation must
// give a zero sum of the exponents of its C-terms and every failing one a
// non-zero sum, in some abelian group. That is possible exactly when every
// failing representation's C-terms, as a vector, lie outside the integer
// lattice spanned by the passing representations' C-terms: the quotient
// group then realises it. A calculator is named only when it belongs to
// every explanation; the other members of minimal explanations are
// suspects. When no coalition of at most t-1 calculators explains what was
// seen, the assumption is broken and nobody is named.
func blame(t int, pass, fail []grouping.Rep) (named, suspects []int) {
	if len(fail) == 0 {
		return nil, nil
	}
	calcs := map[int]bool{}
	for _, r := range slices.Concat(pass, fail) {
		for _, x := range r {
			calcs[x.J] = true
		}
	}
	all := mapkeys.Sorted(calcs)
	var minimal [][]int
	count := 0
	for size := 1; size <= t-1 && size <= len(all); size++ {
		ok := true
		subsets(all, size, func(c []int) bool {
			if count++; count > maxExplanations {
				ok = false
				return false
			}
			for _, m := range minimal {
				if subset(m, c) {
					return true // not minimal
				}
			}
			if explains(c, pass, fail) {
				minimal = append(minimal, slices.Clone(c))
			}
			return true
		})
		if !ok {
			return nil, failedCalculators(fail)
		}
	}
	if len(minimal) == 0 {
		return nil, failedCalculators(fail)
	}
	in := map[int]int{}
	for _, m := range minimal {
		for _, j := range m {
			in[j]++
		}
	}
	for j, n := range in {
		if n == len(minimal) {
			named = append(named, j)
		} else {
			suspects = append(suspects, j)
		}
	}
	slices.Sort(named)
	slices.Sort(suspects)
	return named, suspects
}

func failedCalculators(fail []grouping.Rep) []int {
	set := map[int]bool{}
	for _, r := range fail {
		for _, x := range r {
			set[x.J] = true
		}
	}
	return mapkeys.Sorted(set)
}

// subset reports whether every element of a is in b.
func subset(a, b []int) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// subsets calls f with every subset of size n of all, in order, until f
// returns false.
func subsets(all []int, n int, f func([]int) bool) {
	cur := make([]int, 0, n)
	var rec func(from int) bool
	rec = func(from int) bool {
		if len(cur) == n {
			return f(cur)
		}
		for i := from; i <= len(all)-(n-len(cur)); i++ {
			cur = append(cur, all[i])
			if !rec(i + 1) {
				return false
			}
			cur = cur[:len(cur)-1]
		}
		return true
	}
	rec(0)
}

// explains reports whether coalition c can produce the outcomes seen.
func explains(c []int, pass, fail []grouping.Rep) bool {
	index := map[grouping.Term]int{} // the coordinates: the terms of c
	for _, r := range slices.Concat(pass, fail) {
		for _, x := range r {
			if _, ok := index[x]; !ok && slices.Contains(c, x.J) {
				index[x] = len(index)
			}
		}
	}
	toVec := func(r grouping.Rep) []*big.Int {
		v := make([]*big.Int, len(index))
		for i := range v {
			v[i] = new(big.Int)
		}
		for _, x := range r {
			if i, ok := index[x]; ok {
				v[i].SetInt64(1)
			}
		}
		return v
	}
	var basis [][]*big.Int
	for _, r := range pass {
		basis = append(basis, toVec(r))
	}
	h := hermite(basis, len(index))
	for _, r := range fail {
		if inLattice(h, toVec(r)) { // also true for the zero vector
			return false
		}
	}
	return true
}

// hermite returns an echelon basis of the integer lattice spanned by rows:
// row n has its first non-zero entry, positive, in a column after row n-1's.
func hermite(rows [][]*big.Int, dim int) [][]*big.Int {
	var out [][]*big.Int
	for col := 0; col < dim && len(rows) > 0; col++ {
		// Euclid on column col until at most one row is non-zero there.
		for {
			p := -1
			for n, r := range rows {
				if r[col].Sign() != 0 && (p < 0 || cmpAbs(r[col], rows[p][col]) < 0) {
					p = n
				}
			}
			if p < 0 {
				break
			}
			done := true
			for n, r := range rows {
				if n == p || r[col].Sign() == 0 {
					continue
				}
				q := new(big.Int).Quo(r[col], rows[p][col])
				for i := range r {
					r[i].Sub(r[i], new(big.Int).Mul(q, rows[p][i]))
				}
				if r[col].Sign() != 0 {
					done = false
				}
			}
			if done {
				piv := rows[p]
				if piv[col].Sign() < 0 {
					for i := range piv {
						piv[i].Neg(piv[i])
					}
				}
				out = append(out, piv)
				rows = append(rows[:p:p], rows[p+1:]...)
				break
			}
		}
	}
	return out
}

func cmpAbs(a, b *big.Int) int { return new(big.Int).Abs(a).Cmp(new(big.Int).Abs(b)) }

// inLattice reports whether v is an integer combination of the echelon rows h.
func inLattice(h [][]*big.Int, v []*big.Int) bool {
	w := make([]*big.Int, len(v))
	for i := range v {
		w[i] = new(big.Int).Set(v[i])
	}
	for _, r := range h {
		col := 0
		for r[col].Sign() == 0 {
			col++
		}
		q, m := new(big.Int).QuoRem(w[col], r[col], new(big.Int))
		if m.Sign() != 0 {
			return false
		}
		for i := range w {
			w[i].Sub(w[i], new(big.Int).Mul(q, r[i]))
		}
	}
	for _, x := range w {
		if x.Sign() != 0 {
			return false
		}
	}
	return true
}
