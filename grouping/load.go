package grouping

import (
	"fmt"
	"io"
	"strings"
)

// Load is how a plan spreads the work over its combiners ([0036] point 1:
// the working tasks of the key components should be basically equal).
// Tasks assumes that calculators answer in random order, so that the first
// t to answer are a uniformly random calculator set (in service), and
// that a set served by several combiners sends its tasks to each of them
// equally often.
type Load struct {
	// Sets and Reps count, per combiner, the calculator sets it serves and
	// the representations it holds.
	Sets []int `json:"sets"`
	Reps []int `json:"reps"`
	// Tasks is each combiner's expected share of the tasks (they sum to 1).
	Tasks []float64 `json:"tasks"`
	// Failover[a][b] is combiner b+1's share of the tasks once combiner a+1
	// is lost, and Lost[a] the share no combiner serves then (0 with
	// redundancy 2 or more, [0083] step 7).
	Failover [][]float64 `json:"failover"`
	Lost     []float64   `json:"lost"`
}

// Load computes the load of p. It does not validate p.
func (p *Plan) Load() *Load {
	c := len(p.Combiners)
	ld := &Load{Sets: make([]int, c), Reps: make([]int, c), Tasks: make([]float64, c),
		Failover: make([][]float64, c), Lost: make([]float64, c)}
	red := p.redundancy()
	for a, reps := range p.Combiners {
		ld.Reps[a] = len(reps)
		ld.Sets[a] = len(setsOf(reps))
	}
	if p.K > MaxCalculators || p.T < 1 || binom(p.K, p.T) > MaxSets {
		return ld
	}
	sets := p.activeSets()
	w := 1 / float64(max(len(sets), 1))
	for _, m := range sets {
		for _, a := range red[m] {
			ld.Tasks[a] += w / float64(len(red[m]))
		}
	}
	for a := range c {
		ld.Failover[a] = make([]float64, c)
		for _, m := range sets {
			var rest []int
			for _, b := range red[m] {
				if b != a {
					rest = append(rest, b)
				}
			}
			if len(rest) == 0 {
				ld.Lost[a] += w
				continue
			}
			for _, b := range rest {
				ld.Failover[a][b] += w / float64(len(rest))
			}
		}
	}
	return ld
}

// WriteText writes the load for people: per combiner its sets,
// representations and share of the tasks, and for each lost combiner where
// its tasks go.
func (ld *Load) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "load (calculators answering in random order):\n")
	lo, hi := -1, 0
	for a := range ld.Sets {
		fmt.Fprintf(&b, "  combiner %d: %d calculator sets, %d representations, %.1f%% of tasks\n", a+1, ld.Sets[a], ld.Reps[a], 100*ld.Tasks[a])
		if lo < 0 || ld.Sets[a] < lo {
			lo = ld.Sets[a]
		}
		hi = max(hi, ld.Sets[a])
	}
	fmt.Fprintf(&b, "  spread: %d calculator sets between the most and the least loaded combiner\n", hi-max(lo, 0))
	if len(ld.Sets) > 1 {
		fmt.Fprintf(&b, "if one combiner is lost:\n")
		for a, row := range ld.Failover {
			var parts []string
			for c, x := range row {
				if gain := x - ld.Tasks[c]; c != a && gain > 1e-9 {
					parts = append(parts, fmt.Sprintf("%d +%.1f%%", c+1, 100*gain))
				}
			}
			fmt.Fprintf(&b, "  combiner %d lost: %.1f%% of tasks unserved", a+1, 100*ld.Lost[a])
			if len(parts) > 0 {
				fmt.Fprintf(&b, "; its tasks go to %s", strings.Join(parts, ", "))
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
