package share

import (
	"errors"
	"math/big"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testplan"
)

// shifted returns rep with every calculator j renamed k+j: the shares of
// another epoch are other unknowns.
func shifted(r grouping.Rep, k int) grouping.Rep {
	out := make(grouping.Rep, len(r))
	for n, x := range r {
		out[n] = grouping.Term{J: x.J + k, I: x.I}
	}
	return out
}

// twoEpochLeaks returns the coalitions of t-1 real calculators that, with
// a combiner holding reps1 of one epoch and reps2 of the next and their
// shares of both epochs, learn d or d mod g > 2. The shares of the second
// epoch are modeled as calculators k+1..2k; a real calculator j of the
// coalition holds both j and k+j. The exact integer check
// (grouping.CoalitionLeaks) runs over every coalition of 2(t-1) virtual
// calculators, and the leaks that are real coalitions are returned.
func twoEpochLeaks(t *testing.T, k, tt, l int, reps1, reps2 []grouping.Rep, shift bool) [][]int {
	t.Helper()
	union := append([]grouping.Rep(nil), reps1...)
	for _, r := range reps2 {
		if shift {
			r = shifted(r, k)
		}
		union = append(union, r)
	}
	kk, size := k, tt-1
	if shift {
		kk, size = 2*k, 2*(tt-1)
	}
	leaks, _, err := grouping.CoalitionLeaks(kk, tt, l, union, size)
	require.NoError(t, err)
	var real [][]int
	for _, c := range leaks {
		if !shift {
			real = append(real, c)
			continue
		}
		half := len(c) / 2
		ok := true
		for n := range half {
			ok = ok && c[n] <= k && c[half+n] == c[n]+k
		}
		if ok {
			real = append(real, c[:half])
		}
	}
	return real
}

// TestRefreshEpochsIndependent: for (6,3,2), every seed's plan and every
// calculator retired in epoch 0, a combiner that keeps all it was dealt in
// epochs 0 and 1 (the refresh), with any two calculators that keep their
// shares of both epochs, learns neither d nor d mod g > 2: the exact
// integer check over the unknowns of both epochs finds no leak. The shares
// are all new. The control: the same second plan over the old shares (new
// c_a without new shares) does leak for some of them.
func TestRefreshEpochsIndependent(t *testing.T) {
	const k, tt, l = 6, 3, 2
	controlLeaks := 0
	for seed := uint64(1); seed <= 3; seed++ {
		p, _, err := grouping.Search(k, tt, l, &grouping.Options{Seed: seed})
		require.NoError(t, err)
		for j := 1; j <= k; j += 2 {
			dl := smallDealer(t, byte(seed), k, tt, l, Options{})
			_, err := dl.Deal(p)
			require.NoError(t, err)
			q, _, err := dl.Plan().RemoveCalculator(j)
			require.NoError(t, err)
			q, _, err = q.FillEmpty(&grouping.Options{History: dl.History()})
			require.NoError(t, err)
			_, err = dl.Deal(q)
			require.NoError(t, err)
			old := dl.History()
			oldShares := dl.secrets().shares
			d1, err := dl.Refresh(testplan.Seeded(uint64(byte(40 + seed))))
			require.NoError(t, err)
			require.Equal(t, uint32(1), dl.Epoch())
			for jj := range k {
				for i := range l {
					require.NotEqual(t, 0, oldShares[jj][i].Cmp(dl.secrets().shares[jj][i]), "share %d,%d not refreshed", jj+1, i+1)
				}
			}
			// Another plan in epoch 1, as later changes may make it.
			other, _, err := grouping.Search(k, tt, l, &grouping.Options{Seed: seed + 7})
			require.NoError(t, err)
			other, _, err = other.RemoveCalculator(j)
			require.NoError(t, err)
			for a := range old {
				var reps2 []grouping.Rep
				for _, ck := range d1.Combiners {
					if ck.Number == a+1 {
						reps2 = ck.Reps()
						// The second sub-keys are those of the new shares.
						for _, e := range ck.Entries {
							c, err := dl.SecondKey(e.Rep)
							require.NoError(t, err)
							require.Empty(t, cmp.Diff(c, e.C, bigIntEqual), "second sub-key of %v (-dealer +combiner key)", e.Rep)
						}
					}
				}
				require.Empty(t, twoEpochLeaks(t, k, tt, l, old[a], reps2, true), "seed %d, retired %d, combiner %d", seed, j, a+1)
				if a < len(other.Combiners) {
					require.Empty(t, twoEpochLeaks(t, k, tt, l, old[a], other.Combiners[a], true))
					controlLeaks += len(twoEpochLeaks(t, k, tt, l, old[a], other.Combiners[a], false))
				}
			}
		}
	}
	require.Positive(t, controlLeaks, "the control found no leak: the check would not tell")
	// The model finds a leak of one epoch: (1,2,3), (1,2,4), (1,3,4) with
	// l=1 and calculators {1,2}, in either epoch.
	leaky := []grouping.Rep{testplan.Rep(11, 21, 31), testplan.Rep(11, 21, 41), testplan.Rep(11, 31, 41)}
	require.Contains(t, twoEpochLeaks(t, 4, 3, 1, leaky, nil, true), []int{1, 2})
	require.Contains(t, twoEpochLeaks(t, 4, 3, 1, leaky[:1], leaky, true), []int{1, 2})
}

// TestRefresh: the refreshed dealing has the same public key, key id,
// plan and dealer key, epoch e+1, new node keys, and its second sub-keys
// sum with the new shares to d; the old history is kept; a failed refresh
// leaves the dealer as it was; the state keeps the past epochs.
func TestRefresh(t *testing.T) {
	dl := smallDealer(t, 3, 5, 3, 2, Options{Epoch: 4, Redundancy: 1})
	p, _, err := grouping.Search(5, 3, 2, nil)
	require.NoError(t, err)
	d0, err := dl.Deal(p)
	require.NoError(t, err)
	_, err = dl.Refresh(failingReader{})
	require.Error(t, err)
	require.Equal(t, uint32(4), dl.Epoch())
	require.Empty(t, dl.PastEpochs())
	before := dl.History()

	d1, err := dl.Refresh(testplan.Seeded(7))
	require.NoError(t, err)
	require.Equal(t, uint32(5), dl.Epoch())
	require.Empty(t, cmp.Diff(p, d1.Plan, cmpopts.EquateEmpty()), "the refresh changed the plan (-before +after)")
	require.Equal(t, []EpochHistory{{Epoch: 4, History: before}}, dl.PastEpochs())
	require.Equal(t, p.Combiners, dl.History(), "the history of the new epoch starts with the plan")
	c0, c1 := d0.Calculators[0], d1.Calculators[0]
	require.True(t, c0.PublicKey.Equal(c1.PublicKey))
	require.Equal(t, c0.KeyID, c1.KeyID)
	require.Equal(t, uint32(5), c1.Epoch)
	require.True(t, c0.DealerKey.Equal(c1.DealerKey))
	require.False(t, c0.NodeKey.Public().Equal(c1.NodeKey.Public()), "node keys must change with the epoch")
	for _, ck := range d1.Combiners {
		for _, e := range ck.Entries {
			sum := new(big.Int).Set(e.C)
			for _, x := range e.Rep {
				sum.Add(sum, d1.Calculators[x.J-1].Shares[x.I-1])
			}
			require.Empty(t, cmp.Diff(dl.secrets().d, sum, bigIntEqual), "c_a + sum of the new shares is d (-d +sum) for %v", e.Rep)
		}
	}

	b, err := dl.MarshalState()
	require.NoError(t, err)
	back, err := ParseDealerState(b)
	require.NoError(t, err)
	require.Equal(t, dl.PastEpochs(), back.PastEpochs())
	require.Equal(t, uint32(5), back.Epoch())
	// A past epoch that is not before the current one is refused.
	back.past = append(back.past, EpochHistory{Epoch: 5})
	b, err = back.MarshalState()
	require.NoError(t, err)
	_, err = ParseDealerState(b)
	require.ErrorIs(t, err, ErrMalformed)
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no randomness") }
