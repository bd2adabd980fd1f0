package seal

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/share"
)

// TestDealerRefusesTamperedPlan: a plan.json that disagrees with the plan
// kept in the dealer's state is refused when the state is opened.
func TestDealerRefusesTamperedPlan(t *testing.T) {
	tc := newTestCluster(t)
	dir := tc.writePlaintext(t)
	c, err := LoadPublic(dir, tc.trust())
	require.NoError(t, err)
	dl, err := c.Dealer("")
	require.NoError(t, err)
	require.Empty(t, cmp.Diff(c.Plan, dl.Plan(), cmpopts.EquateEmpty()), "the dealer's plan is not plan.json (-plan.json +dealer)")

	p := c.Plan.Clone()
	p.Combiners[0][0][0].I = 3 - p.Combiners[0][0][0].I // another share of the same calculator
	b, err := json.Marshal(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, PlanFile), b, 0o644))
	_, err = LoadPublic(dir, tc.trust())
	require.ErrorIs(t, err, ErrBadSignature, "the dealer's signature covers plan.json")

	// Even a plan.json the dealer's key signed (a stolen dealer key, or a
	// bug in the signing) must agree with the sealed state.
	resignPublic(t, tc.dl, dir)
	c, err = LoadPublic(dir, tc.trust())
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

// resignPublic signs the public files of dir again with dl's dealer key, so
// that a test can reach the checks behind the signature.
func resignPublic(t *testing.T, dl *share.Dealer, dir string) {
	t.Helper()
	var files []fileOut
	for _, n := range []string{InfoFile, PublicFile, PlanFile, RosterFile} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		require.NoError(t, err)
		files = append(files, fileOut{name: n, data: b})
	}
	var in Info
	b, err := os.ReadFile(filepath.Join(dir, InfoFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &in))
	sig, err := signPublic(dl, in.KeyID, in.Epoch, files)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, SignatureFile), sig.data, 0o644))
}
