package grouping

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func benchSearch(b *testing.B, k, t, l int) {
	b.ReportAllocs()
	combiners := 0
	for b.Loop() {
		p, _, err := Search(k, t, l, nil)
		if err != nil {
			b.Fatal(err)
		}
		combiners = len(p.Combiners)
	}
	b.ReportMetric(float64(combiners), "combiners")
	if hwm := peakRSS(); hwm > 0 {
		// The whole test process's peak resident memory: an upper bound on the
		// search's (issue 3 target: under 1 GiB).
		b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MiB")
	}
}

// peakRSS returns VmHWM from /proc/self/status in bytes, or 0 where there is none.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

func BenchmarkSearch_5_3_2(b *testing.B)  { benchSearch(b, 5, 3, 2) }
func BenchmarkSearch_7_3_2(b *testing.B)  { benchSearch(b, 7, 3, 2) }
func BenchmarkSearch_7_4_2(b *testing.B)  { benchSearch(b, 7, 4, 2) }
func BenchmarkSearch_10_5_2(b *testing.B) { benchSearch(b, 10, 5, 2) }
func BenchmarkSearch_12_6_2(b *testing.B) { benchSearch(b, 12, 6, 2) }

func BenchmarkFirstFit_7_4_2(b *testing.B) {
	for b.Loop() {
		if _, err := FirstFit(7, 4, 2, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheck_10_5_2(b *testing.B) {
	p, _, err := Search(10, 5, 2, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Check(p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTable prints the table of the package documentation:
//
//	GROUPING_TABLE=1 go test -run TestTable -v ./grouping/
func TestTable(t *testing.T) {
	if os.Getenv("GROUPING_TABLE") == "" {
		t.Skip("set GROUPING_TABLE=1")
	}
	for _, c := range [][3]int{{5, 3, 2}, {6, 3, 2}, {7, 3, 2}, {7, 4, 2}, {10, 5, 2}} {
		for _, r := range []int{1, 2} {
			p, st, err := Search(c[0], c[1], c[2], &Options{Redundancy: r})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Check(p)
			if err != nil || rep.Verdict() != nil || rep.MinRedundancy < r {
				t.Fatalf("%v r=%d: %v %v", c, r, err, rep.Verdict())
			}
			fmt.Printf("| (%d,%d,%d) | %d | %d | %d | %d | %v |\n", c[0], c[1], c[2], r, st.FirstFitCombiners, len(p.Combiners), st.LowerBound, st.Duration.Round(1e6))
		}
	}
}
