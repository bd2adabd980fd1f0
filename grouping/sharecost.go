package grouping

import "fmt"

// ShareCost is one row of the trade-off between the shares per calculator
// and the combiners: with L shares each calculator makes L modular
// exponentiations per task (one partial result per share, since any of its
// representations may be the one a combiner uses, [0064]), and the plan
// needs Combiners combiners (found by Search; LowerBound is proven).
type ShareCost struct {
	L           int  `json:"l"`
	Combiners   int  `json:"combiners"`
	LowerBound  int  `json:"lower_bound"`
	Proven      bool `json:"proven"`
	ExpsPerTask int  `json:"exps_per_task"`
}

// ShareCosts runs Search for l = 1, 2, ... up to maxL and stops at the
// first l with which one combiner serves every calculator set: the
// smallest such l when the rows before it have a lower bound above 1.
// Parameters outside CheckParams (for any l tried) are refused.
func ShareCosts(k, t, maxL int, opts *Options) ([]ShareCost, error) {
	if maxL < 1 || maxL > MaxShares {
		return nil, fmt.Errorf("%w: shares up to %d (1..%d)", ErrParams, maxL, MaxShares)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	var out []ShareCost
	for l := 1; l <= maxL; l++ {
		p, st, err := Search(k, t, l, &o)
		if err != nil {
			return out, err
		}
		out = append(out, ShareCost{L: l, Combiners: len(p.Combiners), LowerBound: st.LowerBound, Proven: st.Proven, ExpsPerTask: l})
		if len(p.Combiners) <= max(o.Redundancy, 1) {
			break
		}
	}
	return out, nil
}
