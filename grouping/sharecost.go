package grouping

import (
	"errors"
	"fmt"
	"time"
)

// ShareCostTimeLimit is the exact search's time limit per l in ShareCosts
// when Options.TimeLimit is 0.
const ShareCostTimeLimit = 2 * time.Second

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

// ShareCosts runs Search with the exact search (Options.Optimal, within
// opts.TimeLimit per l, ShareCostTimeLimit when 0) for l = 1, 2, ... up to
// maxL, and stops at the first l with which r combiners serve every
// calculator set (one, without redundancy): the smallest such l when the
// rows before it have a lower bound above r. It also stops, without an
// error, at the first l outside the package limits. Other parameters
// outside CheckParams are refused.
func ShareCosts(k, t, maxL int, opts *Options) ([]ShareCost, error) {
	if maxL < 1 || maxL > MaxShares {
		return nil, fmt.Errorf("%w: shares up to %d (1..%d)", ErrParams, maxL, MaxShares)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Optimal = !o.Pairs
	if o.TimeLimit == 0 {
		o.TimeLimit = ShareCostTimeLimit
	}
	var out []ShareCost
	for l := 1; l <= maxL; l++ {
		p, st, err := Search(k, t, l, &o)
		if errors.Is(err, ErrLimits) && l > 1 {
			return out, nil
		}
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
