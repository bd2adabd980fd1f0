package grouping

// PatentSubgroups returns the three subgroups printed in [0085], [0086] and
// [0087] for k=5 calculators, t=3 and l=2 shares: a fresh copy on every
// call.
func PatentSubgroups() [][]Rep {
	r := func(ts ...int) Rep {
		out := make(Rep, len(ts))
		for n, v := range ts {
			out[n] = Term{J: v / 10, I: v % 10}
		}
		return out
	}
	return [][]Rep{
		// [0085] the first subgroup.
		{r(11, 22, 31), r(21, 32, 41), r(31, 42, 51), r(11, 41, 52), r(12, 21, 51)},
		// [0086] the second subgroup.
		{r(11, 21, 42), r(22, 41, 51), r(21, 31, 52), r(11, 32, 51), r(12, 31, 41)},
		// [0087] the third subgroup.
		{r(11, 32, 41), r(12, 21, 31), r(11, 22, 51), r(21, 41, 52), r(31, 42, 51)},
	}
}

// PatentPlan returns the patent's (5, 3, 2) plan of [0084]-[0087].
func PatentPlan() *Plan {
	return &Plan{K: 5, T: 3, L: 2, Combiners: PatentSubgroups()}
}
