package grouping

import (
	"math/big"
)

// This file is an independent reference for the rational security
// condition, sharing no code with the package: the signed coefficient matrix
// (d column +1, share columns -1) over big.Rat, rank by plain Gaussian
// elimination, and e_d in the row space iff appending it keeps the rank.

func refRank(rows [][]*big.Rat) int {
	m := make([][]*big.Rat, len(rows))
	for i, r := range rows {
		m[i] = make([]*big.Rat, len(r))
		for j, v := range r {
			m[i][j] = new(big.Rat).Set(v)
		}
	}
	rank := 0
	if len(m) == 0 {
		return 0
	}
	cols := len(m[0])
	for c := 0; c < cols && rank < len(m); c++ {
		p := -1
		for i := rank; i < len(m); i++ {
			if m[i][c].Sign() != 0 {
				p = i
				break
			}
		}
		if p < 0 {
			continue
		}
		m[rank], m[p] = m[p], m[rank]
		for i := 0; i < len(m); i++ {
			if i == rank || m[i][c].Sign() == 0 {
				continue
			}
			f := new(big.Rat).Quo(m[i][c], m[rank][c])
			for j := c; j < cols; j++ {
				m[i][j].Sub(m[i][j], new(big.Rat).Mul(f, m[rank][j]))
			}
		}
		rank++
	}
	return rank
}

// refLeaks reports whether equations reps, with the calculators in
// coalition known, determine d.
func refLeaks(k, l int, reps []Rep, coalition map[int]bool) bool {
	// Column 0 is d; then (j,i) for j outside the coalition.
	index := map[[2]int]int{}
	n := 1
	for j := 1; j <= k; j++ {
		if coalition[j] {
			continue
		}
		for i := 1; i <= l; i++ {
			index[[2]int{j, i}] = n
			n++
		}
	}
	var rows [][]*big.Rat
	for _, r := range reps {
		row := make([]*big.Rat, n)
		for c := range row {
			row[c] = new(big.Rat)
		}
		row[0].SetInt64(1)
		for _, x := range r {
			if !coalition[x.J] {
				row[index[[2]int{x.J, x.I}]].SetInt64(-1)
			}
		}
		rows = append(rows, row)
	}
	ed := make([]*big.Rat, n)
	for c := range ed {
		ed[c] = new(big.Rat)
	}
	ed[0].SetInt64(1)
	return refRank(append(rows, ed)) == refRank(rows)
}

// refCoalitions lists every size-subset of 1..k.
func refCoalitions(k, size int) []map[int]bool {
	var out []map[int]bool
	for m := 0; m < 1<<k; m++ {
		cnt := 0
		for j := 0; j < k; j++ {
			if m&(1<<j) != 0 {
				cnt++
			}
		}
		if cnt != size {
			continue
		}
		c := map[int]bool{}
		for j := 0; j < k; j++ {
			if m&(1<<j) != 0 {
				c[j+1] = true
			}
		}
		out = append(out, c)
	}
	return out
}

// refSecure reports whether no coalition of t-1 calculators recovers d.
func refSecure(k, t, l int, reps []Rep) bool {
	for _, c := range refCoalitions(k, t-1) {
		if refLeaks(k, l, reps, c) {
			return false
		}
	}
	return true
}

// refG is an independent integer reference, sharing no code with
// lattice.go: with V the 0/1 matrix of the equations (rows) on the shares
// outside the coalition (columns), the equations fix exactly d mod g for
// the least g > 0 with g*(1,...,1) in the integer column lattice of V
// (g = 0 when there is none). It diagonalises V by unimodular row and
// column operations, U V W = D, tracking u = U*(1,...,1); then
// y*(1,...,1) is in the lattice iff y*u is in D*Z^n: u must vanish below
// the rank, and g is the lcm of s_i/gcd(s_i, u_i).
func refG(k, l int, reps []Rep, coalition map[int]bool) *big.Int {
	var colsOf []map[int]bool
	index := map[[2]int]int{}
	for j := 1; j <= k; j++ {
		for i := 1; i <= l && !coalition[j]; i++ {
			index[[2]int{j, i}] = len(index)
		}
	}
	for _, r := range reps {
		m := map[int]bool{}
		for _, x := range r {
			if !coalition[x.J] {
				m[index[[2]int{x.J, x.I}]] = true
			}
		}
		colsOf = append(colsOf, m)
	}
	rows, cols := len(reps), len(index)
	a := make([][]*big.Int, rows)
	u := make([]*big.Int, rows)
	for i := range a {
		u[i] = big.NewInt(1)
		a[i] = make([]*big.Int, cols)
		for j := range a[i] {
			a[i][j] = new(big.Int)
			if colsOf[i][j] {
				a[i][j].SetInt64(1)
			}
		}
	}
	rank := 0
	for p := 0; p < min(rows, cols); p++ {
		if !refPivot(a, u, p) {
			break
		}
		rank++
	}
	for i := rank; i < rows; i++ {
		if u[i].Sign() != 0 {
			return new(big.Int)
		}
	}
	g := big.NewInt(1)
	for i := range rank {
		s := new(big.Int).Abs(a[i][i])
		f := new(big.Int).Quo(s, new(big.Int).GCD(nil, nil, s, new(big.Int).Abs(u[i])))
		// lcm(g, f) = g*f/gcd(g, f)
		gf := new(big.Int).GCD(nil, nil, g, f)
		g.Mul(g, f).Quo(g, gf)
	}
	return g
}

// refPivot makes a[p][p] the only non-zero entry of row p and column p
// (below and right of p), or reports that the rest is zero.
func refPivot(a [][]*big.Int, u []*big.Int, p int) bool {
	rows, cols := len(a), len(a[0])
	for {
		// Smallest non-zero entry of the lower right block to (p,p).
		bi, bj := -1, -1
		for i := p; i < rows; i++ {
			for j := p; j < cols; j++ {
				if a[i][j].Sign() != 0 && (bi < 0 || a[i][j].CmpAbs(a[bi][bj]) < 0) {
					bi, bj = i, j
				}
			}
		}
		if bi < 0 {
			return false
		}
		a[p], a[bi] = a[bi], a[p]
		u[p], u[bi] = u[bi], u[p]
		for i := range a {
			a[i][p], a[i][bj] = a[i][bj], a[i][p]
		}
		clean := true
		q := new(big.Int)
		for i := p + 1; i < rows; i++ {
			q.Quo(a[i][p], a[p][p])
			for j := p; j < cols; j++ {
				a[i][j].Sub(a[i][j], new(big.Int).Mul(q, a[p][j]))
			}
			u[i].Sub(u[i], new(big.Int).Mul(q, u[p]))
			clean = clean && a[i][p].Sign() == 0
		}
		for j := p + 1; j < cols; j++ {
			q.Quo(a[p][j], a[p][p])
			for i := p; i < rows; i++ {
				a[i][j].Sub(a[i][j], new(big.Int).Mul(q, a[i][p]))
			}
			clean = clean && a[p][j].Sign() == 0
		}
		if clean {
			return true
		}
	}
}
