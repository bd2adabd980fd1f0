package seal

import (
	"io/fs"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
)

// TestRemovedCombinerLayout: a cluster with a combiner taken out of
// service has no bundle, no recipient and no roster entry for it; loading
// its bundle fails with ErrRemovedCombiner and fs.ErrNotExist; a recipient
// for it is refused; the other combiners load.
func TestRemovedCombinerLayout(t *testing.T) {
	tc := newTestCluster(t)
	plan := tc.dl.Plan()
	// Copy combiner 1 so that removing it keeps every set served.
	_, err := tc.dl.AddCombiner(plan.Combiners[0])
	require.NoError(t, err)
	d, err := tc.dl.RemoveCombiner(1, nil)
	require.NoError(t, err)
	m := len(d.Plan.Combiners)
	require.Equal(t, 2, InService(d.Plan)[0])

	// The recipients of the test cluster name combiner 1 and lack the new one.
	err = WriteClusterWithOptions(filepath.Join(t.TempDir(), "x"), tc.dl, d, tc.rc, testPassphrase, &Options{InsecureScryptWorkFactorForTests: 2})
	require.ErrorIs(t, err, ErrRecipients)
	require.ErrorContains(t, err, "no recipient for combiner "+strconv.Itoa(m))
	require.ErrorContains(t, err, "recipient for combiner 1,")

	dir := filepath.Join(t.TempDir(), "removed")
	require.NoError(t, WritePlaintextCluster(dir, tc.dl, d))
	c, err := LoadPublic(dir, tc.trust())
	require.NoError(t, err)
	_, err = c.Combiner(1, nil)
	require.ErrorIs(t, err, ErrRemovedCombiner)
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = c.Roster.Lookup(share.Node{Role: share.RoleCombiner, Number: 1})
	require.ErrorIs(t, err, share.ErrNotInRoster)
	for _, a := range InService(c.Plan) {
		ck, err := c.Combiner(a, nil)
		require.NoError(t, err)
		require.Equal(t, a, ck.Number)
	}
	dl, err := c.Dealer("")
	require.NoError(t, err)
	require.Equal(t, []int{1}, dl.RemovedCombiners())
	require.Equal(t, []grouping.Rep{}, c.Plan.Combiners[0])
}
