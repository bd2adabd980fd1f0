package grouping

import (
	"time"
)

// DefaultTimeLimit is the time limit of the exact search when
// Options.TimeLimit is 0.
const DefaultTimeLimit = 10 * time.Second

// exact is one run of the exact search for a fixed number of combiners.
type exact struct {
	s        *state
	sets     []uint64
	r, c     int
	maxPer   int   // sets one combiner can hold at most
	maxShare []int // per calculator, the largest share number used so far
	used     int   // combiners holding something (the others are interchangeable)
	nodes    int64
	deadline time.Time
	timedOut bool
}

// exactSearch decides, for c from the lower bound up to one less than the
// incumbent, whether c combiners can serve every calculator set r times
// (single-combiner security, integer check), by depth-first search over
// the sets in order, each given r combiners (ascending) and one equivalent
// combination per combiner. Symmetries: combiners are interchangeable, so a
// set may open only the first unused one; the share numbers of a
// calculator are interchangeable, so a share above the largest one used so
// far plus one is never tried ([0070]: the l^t equivalents). A branch is
// cut when the sets left need more room than the combiners have (each
// holds at most maxPer sets). It returns the best plan and the proven
// lower bound; a run that hits the deadline proves nothing.
func exactSearch(k, t, l int, o Options, st *Stats, best *Plan, maxPer int, deadline time.Time) (*Plan, int) {
	lb := max(st.LowerBound, o.Redundancy, 1)
	for c := lb; c < len(best.Combiners); c++ {
		s, err := newState(k, t, l, false, st)
		if err != nil {
			return best, lb
		}
		for range c {
			s.open()
		}
		e := &exact{s: s, sets: subsets(k, t), r: o.Redundancy, c: c, maxPer: maxPer, maxShare: make([]int, k+1), deadline: deadline}
		if e.dfs(0, 0, 0) {
			return s.plan(), lb
		}
		if e.timedOut {
			return best, lb
		}
		lb = c + 1
	}
	return best, lb
}

// dfs places slot q (0..r-1) of set n, with a combiner index of at least
// from.
func (e *exact) dfs(n, q, from int) bool {
	if n == len(e.sets) {
		return true
	}
	if q == e.r {
		return e.dfs(n+1, 0, 0)
	}
	e.nodes++
	if e.nodes&255 == 0 && time.Now().After(e.deadline) {
		e.timedOut = true
	}
	if e.timedOut {
		return false
	}
	room := 0
	for _, c := range e.s.combs {
		room += max(0, e.maxPer-len(c.reps))
	}
	if room < (len(e.sets)-n)*e.r-q {
		return false
	}
	m := e.sets[n]
	for a := from; a < min(e.c, e.used+1); a++ {
		if len(e.s.combs[a].reps) >= e.maxPer {
			continue
		}
		for _, rep := range equivalents(m, e.s.l) {
			if !e.symmetric(rep) {
				continue
			}
			if ok, _ := e.s.canAdd(a, rep, false); !ok {
				continue
			}
			saved, savedUsed := e.s.combs[a].clone(), e.used
			savedShare := e.raise(rep)
			e.s.commit(a, rep)
			e.used = max(e.used, a+1)
			if e.dfs(n, q+1, a+1) {
				return true
			}
			e.s.combs[a], e.used = saved, savedUsed
			for i, x := range rep {
				e.maxShare[x.J] = savedShare[i]
			}
			if e.timedOut {
				return false
			}
		}
	}
	return false
}

// symmetric reports whether every share of rep is at most one above the
// largest share of its calculator used so far.
func (e *exact) symmetric(rep Rep) bool {
	for _, x := range rep {
		if x.I > e.maxShare[x.J]+1 {
			return false
		}
	}
	return true
}

// raise records the shares of rep and returns the previous maxima.
func (e *exact) raise(rep Rep) []int {
	prev := make([]int, len(rep))
	for i, x := range rep {
		prev[i] = e.maxShare[x.J]
		e.maxShare[x.J] = max(e.maxShare[x.J], x.I)
	}
	return prev
}
