package testplan

import (
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/grouping"
)

// TestSeededIsTheOldSeeds: Seeded(n) is the stream the tests seeded by
// hand before ([32]byte{n} and [32]byte{k, t, l}), so that their dealings
// stay the same.
func TestSeededIsTheOldSeeds(t *testing.T) {
	for seed, key := range map[uint64][32]byte{
		1:          {1},
		42:         {42},
		0x020305:   {5, 3, 2},
		0x02010203: {3, 2, 1, 2},
	} {
		a, b := Seeded(seed), rand.NewChaCha8(key)
		for range 4 {
			require.Equal(t, b.Uint64(), a.Uint64(), "seed %#x", seed)
		}
	}
}

func TestSubsetsAndEquivalents(t *testing.T) {
	require.Equal(t, [][]int{{1, 2}, {1, 3}, {2, 3}}, Subsets(3, 2))
	require.Len(t, Subsets(5, 3), 10)
	if diff := cmp.Diff([]grouping.Rep{Rep(11, 21), Rep(11, 22), Rep(12, 21), Rep(12, 22)}, Equivalents([]int{1, 2}, 2)); diff != "" {
		t.Errorf("Equivalents (-want +got):\n%s", diff)
	}
}

// TestPatentFirstTwo: the two combiners of [0085] and [0086] serve all ten
// triples, each secure alone.
func TestPatentFirstTwo(t *testing.T) {
	p := PatentFirstTwo()
	require.Equal(t, Rep(11, 22, 31), p.Combiners[0][0])
	require.Equal(t, Rep(12, 31, 41), p.Combiners[1][4])
	r, err := grouping.Check(p)
	require.NoError(t, err)
	require.True(t, r.Secure, "each combiner secure alone")
	require.Equal(t, 10, r.Covered, "triples served")
}
