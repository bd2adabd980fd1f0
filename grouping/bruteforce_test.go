package grouping

import (
	"math/big"
)

// This file is an independent reference for the security condition of NOTES
// section 2, sharing no code with the package: the signed coefficient matrix
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
