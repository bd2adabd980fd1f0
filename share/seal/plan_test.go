package seal

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDealerRefusesTamperedPlan: a plan.json that disagrees with the plan
// kept in the dealer's state is refused when the state is opened.
func TestDealerRefusesTamperedPlan(t *testing.T) {
	tc := newTestCluster(t)
	dir := filepath.Join(t.TempDir(), "c")
	require.NoError(t, WritePlaintextCluster(dir, tc.dl, tc.d))
	c, err := LoadPublic(dir)
	require.NoError(t, err)
	dl, err := c.Dealer("")
	require.NoError(t, err)
	require.True(t, dl.Plan().Equal(c.Plan))

	p := c.Plan.Clone()
	p.Combiners[0][0][0].I = 3 - p.Combiners[0][0][0].I // another share of the same calculator
	b, err := json.Marshal(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, PlanFile), b, 0o644))
	c, err = LoadPublic(dir)
	require.NoError(t, err)
	_, err = c.Dealer("")
	require.ErrorIs(t, err, ErrPlanMismatch)
}

// TestWriteRefusesForeignPlan: a dealing whose plan is not the dealer's
// last one is not written, so that plan.json always agrees with the state.
func TestWriteRefusesForeignPlan(t *testing.T) {
	tc := newTestCluster(t)
	d := *tc.d
	d.Plan = tc.d.Plan.Clone()
	d.Plan.Combiners[0][0][0].I = 3 - d.Plan.Combiners[0][0][0].I
	err := WritePlaintextCluster(filepath.Join(t.TempDir(), "c"), tc.dl, &d)
	require.ErrorIs(t, err, ErrPlanMismatch)

}
