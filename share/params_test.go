package share

import (
	"crypto/rsa"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tolerantca/tolerant/grouping"
)

// TestRegressionShareGroupingLimitsDiffer: share allowed l=16 and grouping
// l=64, and share accepted (k,t,l) whose plan grouping refuses. Both now
// use grouping.CheckParams.
func TestRegressionShareGroupingLimitsDiffer(t *testing.T) {
	require.Equal(t, grouping.MaxShares, MaxShares)
	require.Equal(t, grouping.MaxCalculators, MaxCalculators)
	for _, c := range [][3]int{{5, 3, 2}, {64, 3, 1}, {11, 10, 3}, {6, 5, 16}, {5, 3, 17}, {65, 2, 1}, {5, 5, 1}, {64, 2, 8}} {
		g := grouping.CheckParams(c[0], c[1], c[2])
		s := checkParams(c[0], c[1], c[2])
		require.Equal(t, g == nil, s == nil, "%v: grouping %v, share %v", c, g, s)
		if s != nil {
			require.ErrorIs(t, s, ErrParameters)
		}
	}
}

func TestCheckKeyID(t *testing.T) {
	require.NoError(t, CheckKeyID("ca-2026"))
	for _, id := range []string{"", "a b", "é", string(make([]byte, 65)), "tab\t"} {
		require.ErrorIs(t, CheckKeyID(id), ErrKeyID, "%q", id)
	}
}

func TestCheckPublicKey(t *testing.T) {
	n := new(big.Int).Lsh(big.NewInt(1), 2047)
	n.Add(n, big.NewInt(1)) // odd, 2048 bits
	require.NoError(t, CheckPublicKey(&rsa.PublicKey{N: n, E: 65537}))
	even := new(big.Int).Lsh(big.NewInt(1), 2047)
	huge := new(big.Int).Lsh(big.NewInt(1), MaxKeyBits)
	huge.Add(huge, big.NewInt(1))
	for i, pub := range []*rsa.PublicKey{nil, {}, {N: big.NewInt(-3), E: 3}, {N: even, E: 3}, {N: huge, E: 3}, {N: n, E: 2}, {N: n, E: 1}, {N: n, E: -65537}} {
		err := CheckPublicKey(pub)
		require.ErrorIs(t, err, ErrPublicKey, "bad key %d", i)
	}
}
