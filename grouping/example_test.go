package grouping_test

import (
	"fmt"

	"github.com/tolerantca/tolerant/grouping"
)

// ExampleSearch plans which representations each combiner of a cluster of
// k=5 calculators, threshold t=3 and l=2 shares per calculator stores, then
// audits the plan with Check.
func ExampleSearch() {
	plan, _, err := grouping.Search(5, 3, 2, nil)
	if err != nil {
		fmt.Println("search:", err)
		return
	}
	report, err := grouping.Check(plan)
	if err != nil {
		fmt.Println("check:", err)
		return
	}
	for a, reps := range plan.Combiners {
		fmt.Println("combiner", a+1, reps)
	}
	fmt.Println("calculator sets served:", report.Covered, "of", report.Sets)
	fmt.Println("secure:", report.Secure)
	fmt.Println("verdict:", report.Verdict())
	// Output:
	// combiner 1 [(11,21,31) (11,31,41) (12,32,52) (11,41,51) (22,32,42)]
	// combiner 2 [(12,22,42) (11,21,51) (22,32,52) (21,41,51) (31,41,51)]
	// calculator sets served: 10 of 10
	// secure: true
	// verdict: <nil>
}

// ExamplePatentPlan audits the patent's own (5, 3, 2) plan of
// [0084]-[0087]: three combiners of five representations each.
func ExamplePatentPlan() {
	plan := grouping.PatentPlan()
	report, err := grouping.Check(plan)
	if err != nil {
		fmt.Println("check:", err)
		return
	}
	for _, c := range report.Combiners {
		fmt.Println("combiner", c.Index, c.Reps)
	}
	fmt.Println("calculator sets served:", report.Covered, "of", report.Sets)
	fmt.Println("secure:", report.Secure)
	fmt.Println("pair-secure:", report.PairsSecure)
	// Output:
	// combiner 1 [(11,22,31) (21,32,41) (31,42,51) (11,41,52) (12,21,51)]
	// combiner 2 [(11,21,42) (22,41,51) (21,31,52) (11,32,51) (12,31,41)]
	// combiner 3 [(11,32,41) (12,21,31) (11,22,51) (21,41,52) (31,42,51)]
	// calculator sets served: 10 of 10
	// secure: true
	// pair-secure: false
}
