package grouping

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func TestScratchRows(t *testing.T) {
	if os.Getenv("ROWS") == "" {
		t.Skip()
	}
	type row struct{ k, t, l, r int; pairs bool }
	rows := []row{{5,3,2,1,false},{6,3,2,1,false},{6,4,2,1,false},{5,2,2,1,false},{7,3,2,1,false},{8,4,2,1,false},{9,4,2,1,false},{10,5,2,1,false},
	{6,3,2,2,false},{6,4,2,2,false},{7,3,2,2,false},{7,4,2,2,false},{8,4,2,2,false},{9,4,2,2,false},{10,5,2,2,false},{5,3,2,1,true},{6,3,2,1,true},{6,4,2,1,true},{12,6,2,1,false}}
	for _, x := range rows {
		st0 := time.Now()
		p, st, err := Search(x.k, x.t, x.l, &Options{Redundancy: x.r, Pairs: x.pairs})
		if err != nil { t.Fatal(err) }
		d := time.Since(st0)
		var loads []int
		for _, c := range p.Combiners { loads = append(loads, len(setsOf(c))) }
		sec := "-"
		if x.k <= 10 {
			rep, _ := Check(p)
			sec = fmt.Sprint(rep.Verdict() == nil, rep.PairsSecure, rep.MinRedundancy)
		}
		fmt.Printf("%v m=%d lb=%d ff=%d loads=%v %v %v\n", x, len(p.Combiners), st.LowerBound, st.FirstFitCombiners, loads, sec, d)
	}
}
