package grouping

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func benchSearch(b *testing.B, k, t, l int) { benchSearchOpts(b, k, t, l, nil) }

func benchSearchOpts(b *testing.B, k, t, l int, opts *Options) {
	b.ReportAllocs()
	combiners := 0
	for b.Loop() {
		p, _, err := Search(k, t, l, opts)
		if err != nil {
			b.Fatal(err)
		}
		combiners = len(p.Combiners)
	}
	b.ReportMetric(float64(combiners), "combiners")
	if hwm := peakRSS(); hwm > 0 {
		// The whole test process's peak resident memory: an upper bound on the
		// search's (the target: under 1 GiB).
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

// BenchmarkTableRows runs Search on every row of the package doc's table
// (time targets: (5,3,2) < 5 ms, (7,4,2) < 100 ms, (10,5,2) < 5 s,
// (12,6,2) < 60 s):
//
//	go test -run '^$' -bench TableRows -benchtime 1x ./grouping/
func BenchmarkTableRows(b *testing.B) {
	for _, row := range tableRows {
		name := fmt.Sprintf("k%d_t%d_l%d_r%d_pairs%v", row.k, row.t, row.l, row.r, row.pairs)
		b.Run(name, func(b *testing.B) {
			benchSearchOpts(b, row.k, row.t, row.l, row.opts())
		})
	}
}

func BenchmarkSearch_6_4_2(b *testing.B) { benchSearch(b, 6, 4, 2) }

func BenchmarkFirstFit_7_4_2(b *testing.B) {
	for b.Loop() {
		if _, err := FirstFit(7, 4, 2, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheck_10_5_2(b *testing.B) {
	p, _, err := Search(10, 5, 2, nil)
	require.NoError(b, err)
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
	for _, row := range tableRows {
		o := row.opts()
		start := time.Now()
		ff, err := FirstFit(row.k, row.t, row.l, o)
		require.NoError(t, err)
		ffTime := time.Since(start)
		p, st, err := Search(row.k, row.t, row.l, o)
		require.NoError(t, err)
		ex := *o
		ex.Optimal, ex.TimeLimit = true, 10*time.Second
		q, sx, err := Search(row.k, row.t, row.l, &ex)
		require.NoError(t, err)
		requireChecked(t, p, row.r, row.pairs)
		fmt.Printf("(%d,%d,%d) %d %v | %d %v | %d %v %v | %d %d %v | found %d\n", row.k, row.t, row.l, row.r, row.pairs,
			len(ff.Combiners), ffTime.Round(time.Millisecond), len(p.Combiners), p.Load().Sets, st.Duration.Round(time.Millisecond),
			len(q.Combiners), sx.LowerBound, sx.ExactDuration.Round(time.Millisecond), row.found)
	}
}
