package seal_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// TestRegressionSentinelsSharedWithShare: seal's errors for a combiner taken
// out of service and for key material of another epoch are share's, so one
// errors.Is test catches them whether the dealer or a loader refused.
func TestRegressionSentinelsSharedWithShare(t *testing.T) {
	require.ErrorIs(t, seal.ErrRemovedCombiner, share.ErrCombinerRemoved)
	require.ErrorIs(t, share.ErrCombinerRemoved, seal.ErrRemovedCombiner)
	require.ErrorIs(t, seal.ErrWrongEpoch, share.ErrWrongEpoch)
	require.ErrorIs(t, share.ErrWrongEpoch, seal.ErrWrongEpoch)
}
