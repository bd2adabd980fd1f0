package grouping

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBalancedPairSearch632 finds a pair-secure (6,3,2) plan of 4
// combiners with 4 to 6 sets each, checked by Check.
func TestBalancedPairSearch632(t *testing.T) {
	var st Stats
	start := time.Now()
	q := balancedPairSearch(6, 3, 2, 4, 4, 6, &st, time.Now().Add(time.Minute))
	require.NotNil(t, q)
	t.Logf("split %v, %v, %d candidates", q.Load().Sets, time.Since(start), st.Candidates)
	rep, err := Check(q)
	require.NoError(t, err)
	require.True(t, rep.Secure)
	require.True(t, rep.PairsSecure)
	require.LessOrEqual(t, spread(q), 2, "split %v", q.Load().Sets)
}
