package grouping

// maxPerCombiner computes exactly the largest number of calculator sets of
// (k, t, l) one combiner can serve securely, by exhaustive search with
// symmetry breaking: calculators can be renumbered, so the first set
// {1..t} may be assumed taken; share numbers inside each calculator can be
// renumbered, so a calculator whose shares 1..s are in use only tries
// shares 1..s+1, and the first set uses share 1 everywhere. It reports
// exact=false when the node budget ran out.
func maxPerCombiner(k, t, l, budget int) (best int, exact bool) {
	var st Stats
	s, err := newState(k, t, l, false, &st)
	if err != nil {
		return 0, false
	}
	// The bound is computed for the rational rank test, which accepts every
	// set of equations the integer check accepts (and more): its maximum is
	// at least the integer one, so the lower bounds derived from it hold for
	// integer-secure plans as well.
	s.arith = chooseArithmetic(t, (k-t+1)*l+1, (k-t+1)*l+1)
	sets := subsets(k, t)
	s.open()
	first := equivalents(sets[0], l)[0]
	s.commit(0, first)
	maxShare := make([]int, k+1)
	for _, x := range first {
		maxShare[x.J] = 1
	}
	best = 1
	nodes := 0
	var dfs func(idx, cur int)
	dfs = func(idx, cur int) {
		nodes++
		if nodes > budget {
			return
		}
		best = max(best, cur)
		if idx == len(sets) || cur+len(sets)-idx <= best {
			return
		}
		m := sets[idx]
		for _, e := range equivalents(m, l) {
			sym := true
			for _, x := range e {
				if x.I > maxShare[x.J]+1 {
					sym = false
					break
				}
			}
			if !sym {
				continue
			}
			if ok, _ := s.canAdd(0, e, false); !ok {
				continue
			}
			saved := s.combs[0].clone()
			savedShare := make([]int, len(e))
			for n, x := range e {
				savedShare[n] = maxShare[x.J]
				maxShare[x.J] = max(maxShare[x.J], x.I)
			}
			s.commit(0, e)
			dfs(idx+1, cur+1)
			s.combs[0] = saved
			for n, x := range e {
				maxShare[x.J] = savedShare[n]
			}
			if nodes > budget {
				return
			}
		}
		dfs(idx+1, cur)
	}
	dfs(1, 1)
	return best, nodes <= budget
}

// provenMaxPerCombiner returns M(u,t,l), the largest number of calculator
// sets one combiner can serve securely, for the cases computed exactly by
// maxPerCombiner without a budget (TestProvenMaxPerCombiner recomputes the
// cheap ones; `MAXPER=k,t,l go test -run ScratchMax` recomputes any).
func provenMaxPerCombiner(u, t, l int) (int, bool) {
	type key struct{ u, t, l int }
	var m int
	switch (key{u, t, l}) {
	case key{3, 2, 1}:
		m = 2
	case key{3, 2, 2}:
		m = 3
	case key{4, 2, 1}:
		m = 4
	case key{4, 2, 2}:
		m = 6
	case key{5, 2, 1}:
		m = 6
	case key{6, 2, 2}:
		m = 13
	case key{4, 3, 1}:
		m = 2
	case key{5, 3, 1}:
		m = 4
	case key{6, 3, 1}:
		m = 8
	case key{4, 3, 2}:
		m = 4
	case key{5, 3, 2}:
		m = 8
	case key{5, 3, 3}:
		m = 10
	case key{5, 4, 1}:
		m = 2
	case key{6, 4, 1}:
		m = 4
	case key{5, 4, 2}:
		m = 4
	case key{6, 4, 2}:
		m = 12
	case key{6, 5, 2}:
		m = 4
	case key{7, 6, 2}:
		m = 4
	default:
		return 0, false
	}
	return m, true
}

// lowerBound returns a proven lower bound on the number of combiners and,
// when it is known exactly, the largest number of calculator sets one
// combiner can hold securely for (k, t, l).
//
// If one combiner can hold at most M(u) of the C(u,t) sets inside any u
// calculators (M(u) computed exactly by maxPerCombiner: see
// provenMaxPerCombiner), then by averaging over the C(k,u) choices of u
// calculators (each t-set lies in C(k-t,u-t) of them, and a subset of a
// secure set of equations is secure) it holds at most
// floor(C(k,t) * M(u) / C(u,t)) of all sets. With redundancy r the C(k,t)
// sets need r*C(k,t) placements: at least ceil(r*C(k,t) / M) combiners, and
// at least r. In pair mode every combiner is in particular secure, so the
// same bound holds, and so does the stronger pairLowerBound.
func lowerBound(k, t, l int, o Options) (lb, maxPer int) {
	total := binom(k, t)
	bound, maxPer := setsBound(k, t, l)
	lb = (o.Redundancy*total + bound - 1) / bound
	lb = max(lb, o.Redundancy)
	if o.Pairs {
		lb = max(lb, pairLowerBound(total, bound, o.Redundancy))
	}
	return lb, maxPer
}

// setsBound returns the averaging bound of lowerBound on the number of
// calculator sets one combiner of (k, t, l) can serve securely, and that
// number when it is known exactly (0 otherwise).
func setsBound(k, t, l int) (bound, maxPer int) {
	total := binom(k, t)
	bound = total
	for u := t + 1; u <= k; u++ {
		m, ok := provenMaxPerCombiner(u, t, l)
		if !ok {
			continue
		}
		if u == k {
			maxPer = m
		}
		bound = min(bound, total*m/binom(u, t))
	}
	return max(bound, 1), maxPer
}
