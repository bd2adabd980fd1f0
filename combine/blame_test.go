package combine

import (
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testplan"
)

func TestBlame(t *testing.T) {
	// Nothing failed: nobody is named or suspected.
	named, suspects := blame(3, []grouping.Rep{testplan.Rep(11, 21, 31)}, nil)
	require.Empty(t, named)
	require.Empty(t, suspects)

	// Calculator 1 fails alone in a representation with proven company,
	// and no other pair explains it.
	named, _ = blame(3,
		[]grouping.Rep{testplan.Rep(21, 31, 41), testplan.Rep(21, 32, 51), testplan.Rep(31, 42, 52)},
		[]grouping.Rep{testplan.Rep(11, 21, 31), testplan.Rep(11, 41, 51), testplan.Rep(12, 22, 32)})
	require.Equal(t, []int{1}, named)

	// One failure with two unknown terms: either calculator can be the
	// liar, so both are suspects and nobody is named.
	named, suspects = blame(3, nil, []grouping.Rep{testplan.Rep(11, 21, 31)})
	require.Empty(t, named)
	require.Equal(t, []int{1, 2, 3}, suspects)
}

// TestBlameTorsion: colluders may use partials of order 2 (X = -P), so
// the test is over the integers, not the rationals. Passing a+b, b+c and
// a+c forces a = b = c = 0 over the rationals but allows a = b = c = 1
// mod 2: the three can make a representation that holds only a fail, and
// the honest calculator 6 beside it must not be named.
func TestBlameTorsion(t *testing.T) {
	named, suspects := blame(4,
		[]grouping.Rep{testplan.Rep(11, 21, 41, 51), testplan.Rep(21, 31, 41, 51), testplan.Rep(11, 31, 41, 51)},
		[]grouping.Rep{testplan.Rep(11, 41, 51, 61)})
	require.Empty(t, named)
	require.Contains(t, suspects, 6)
	require.Contains(t, suspects, 1)
}

func TestLattice(t *testing.T) {
	v := vec
	h := hermite([][]*big.Int{v(1, 1, 0), v(0, 1, 1), v(1, 0, 1)}, 3)
	require.True(t, inLattice(h, v(2, 0, 0)))
	require.False(t, inLattice(h, v(1, 0, 0)))
	require.True(t, inLattice(h, v(0, 0, 0)))
	require.True(t, inLattice(h, v(1, 2, 1)))
}

func vec(x ...int64) []*big.Int {
	out := make([]*big.Int, len(x))
	for i, v := range x {
		out[i] = big.NewInt(v)
	}
	return out
}
