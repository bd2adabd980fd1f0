package seal

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRegressionLoadRefusesPlaintext: the loaders of sealed key material
// refuse a plaintext (.json) file, pointing at the function named for it;
// only InsecureLoadPlaintext... loads plaintext.
func TestRegressionLoadRefusesPlaintext(t *testing.T) {
	tc := newTestCluster(t)
	dir := tc.writePlaintext(t)
	calc, comb, dist, dealer := filepath.Join(dir, "calculator-1.json"), filepath.Join(dir, "combiner-1.json"),
		filepath.Join(dir, "distributor-1.json"), filepath.Join(dir, "dealer.json")

	_, err := LoadCalculator(calc, nil, tc.trust())
	require.ErrorIs(t, err, ErrPlaintext)
	require.ErrorContains(t, err, "InsecureLoadPlaintext")
	_, err = LoadCombiner(comb, nil, tc.trust())
	require.ErrorIs(t, err, ErrPlaintext)
	_, err = LoadDistributor(dist, nil, tc.trust())
	require.ErrorIs(t, err, ErrPlaintext)
	_, err = LoadDealer(dealer, "")
	require.ErrorIs(t, err, ErrPlaintext)
	require.ErrorContains(t, err, "InsecureLoadPlaintextDealer")

	ck, err := InsecureLoadPlaintextCalculator(calc, tc.trust())
	require.NoError(t, err)
	require.Equal(t, 1, ck.Number)
	cb, err := InsecureLoadPlaintextCombiner(comb, tc.trust())
	require.NoError(t, err)
	require.Equal(t, 1, cb.Number)
	dk, err := InsecureLoadPlaintextDistributor(dist, tc.trust())
	require.NoError(t, err)
	require.Equal(t, 1, dk.NodeKey.Number)
	_, err = InsecureLoadPlaintextDealer(dealer)
	require.NoError(t, err)

	// The insecure loaders still bind a bundle to its canonical name.
	_, err = InsecureLoadPlaintextCalculator(comb, tc.trust())
	require.Error(t, err)
}
