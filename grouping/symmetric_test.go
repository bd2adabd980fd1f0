package grouping

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSymmetricPairSearch checks the symmetric pair search on the rows it
// exists for: pair-safe (6,4,2) in 5 combiners (a 5-cycle), (6,3,2) in 4
// ((1 2)(3 4), the longest) and (5,3,2) in 3, every plan with Check and
// with the independent references, and twice with the same result.
func TestSymmetricPairSearch(t *testing.T) {
	for _, c := range [][4]int{{6, 4, 2, 5}, {5, 3, 2, 3}, {6, 3, 2, 4}} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			if c[3] == 4 && (testing.Short() || raceEnabled) {
				t.Skip("long: run without -short and -race")
			}
			var st Stats
			deadline := time.Now().Add(time.Hour)
			p := symmetricPairSearch(c[0], c[1], c[2], c[3], &st, deadline)
			require.NotNil(t, p)
			require.Len(t, p.Combiners, c[3])
			rep, err := Check(p)
			require.NoError(t, err)
			require.NoError(t, rep.Verdict())
			require.True(t, rep.Secure)
			require.True(t, rep.PairsSecure)
			refCheckPlan(t, p, 1, true)
			q := symmetricPairSearch(c[0], c[1], c[2], c[3], &st, deadline)
			require.True(t, p.Equal(q), "deterministic")
		})
	}
}

// TestPermuteRep checks the renaming of calculators used by the symmetric
// search.
func TestPermuteRep(t *testing.T) {
	perm := cyclePerm(5, 3) // (1 2 3)
	require.Equal(t, []int{0, 2, 3, 1, 4, 5}, perm)
	r := Rep{{J: 1, I: 2}, {J: 3, I: 1}, {J: 5, I: 2}}
	require.Equal(t, Rep{{J: 1, I: 1}, {J: 2, I: 2}, {J: 5, I: 2}}, permuteRep(r, perm))
	require.Equal(t, uint64(0b10011), permuteMask(r.mask(), perm))
	orbits := symOrbits(5, 3, perm)
	n := 0
	for _, o := range orbits {
		n += len(o)
		for i, m := range o {
			require.Equal(t, o[(i+1)%len(o)], permuteMask(m, perm))
		}
	}
	require.Equal(t, 10, n)
}
