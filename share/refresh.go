package share

import (
	"errors"
	"io"
	"math"
	"math/big"
	"slices"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/redact"
)

// ErrEpochs is returned by [Dealer.Refresh] when the epoch counter cannot
// be advanced.
var ErrEpochs = errors.New("share: no epoch left to refresh into")

// EpochHistory is what the dealer dealt to each combiner in one past epoch
// (History[a] for combiner a+1). It is kept for the record: equations of
// one epoch tell nothing about the shares of another (see [Dealer.Refresh]).
type EpochHistory struct {
	Epoch   uint32           `json:"epoch"`
	History [][]grouping.Rep `json:"history"`
}

// Epoch returns the epoch the dealer deals in now.
func (dl *Dealer) Epoch() uint32 { return dl.epoch }

// PastEpochs returns the combiners' histories of every epoch before the
// current one, oldest first.
func (dl *Dealer) PastEpochs() []EpochHistory {
	out := make([]EpochHistory, len(dl.past))
	for n, e := range dl.past {
		out[n] = EpochHistory{Epoch: e.Epoch, History: cloneHistory(e.History)}
	}
	return out
}

func cloneHistory(h [][]grouping.Rep) [][]grouping.Rep {
	out := make([][]grouping.Rep, len(h))
	for a, reps := range h {
		out[a] = make([]grouping.Rep, len(reps))
		for n, r := range reps {
			out[a][n] = slices.Clone(r)
		}
	}
	return out
}

// Refresh starts the next epoch of the same key: it draws new shares d_ji
// for every calculator (retired ones too, whose bundles are not deployed),
// deals the current plan again with new second sub-keys c_a = d − Σ d_ji,
// and returns the dealing of the new epoch. The public key, the key id,
// the plan, the retired calculators, the removed combiners, the guarantees
// and the dealer key stay; every node key changes (it is derived with the
// epoch), so the nodes of two epochs never accept each other's packets.
// The combiners' history of the new epoch starts with the plan; the old
// one is kept in [Dealer.PastEpochs]. random is read for k·l shares. On
// error the dealer is left as it was.
//
// Why the epochs are independent: a combiner that keeps its material of
// both epochs, with t-1 calculators that keep theirs, holds the equations
// c_a = d − Σ_{(j,i)∈a} d_ji of epoch e and c'_b = d − Σ_{(j,i)∈b} d'_ji of
// epoch e+1. Its unknowns are d, the shares U of epoch e and the shares U'
// of epoch e+1 outside the coalition; U and U' are disjoint, and every
// equation holds d and unknowns of one epoch only. An integer combination
// Σ λ_a c_a + Σ μ_b c'_b cancels U and U' (exactly, or modulo g) only when
// Σ λ_a (x_a) cancels U and Σ μ_b (x'_b) cancels U' separately, and its
// coefficient of d is Σλ + Σμ; if that is non-zero (modulo g), then Σλ or
// Σμ is non-zero (modulo the same g), and the equations of that epoch
// alone recover d (or d mod g), which [grouping.Check] of each epoch's
// history excludes ([0073]). Beyond that
// linear algebra, the fresh shares are drawn independently of everything
// before, so the view of both epochs given d is the product of the two
// views: whatever d-dependent bias the full-length shares leave in one
// epoch (|N|+128 bits, [FullLength]), two epochs show at most twice it.
func (dl *Dealer) Refresh(random io.Reader) (*Dealing, error) {
	if dl.noHistory || dl.plan == nil {
		return nil, ErrNoHistory
	}
	if dl.epoch == math.MaxUint32 {
		return nil, ErrEpochs
	}
	var shares [][]*big.Int
	for range dl.k {
		row, err := drawShares(random, dl.l, dl.shareBits)
		if err != nil {
			return nil, err
		}
		shares = append(shares, row)
	}
	saved := *dl
	dl.past = append(slices.Clip(dl.past), EpochHistory{Epoch: dl.epoch, History: cloneHistory(dl.history)})
	dl.epoch++
	old := dl.secrets()
	dl.sec = redact.Hide(&dealerSecrets{d: old.d, shares: shares, nodeSeed: old.nodeSeed})
	dl.history = nil
	d, err := dl.Deal(dl.plan)
	if err != nil {
		*dl = saved
		return nil, err
	}
	return d, nil
}
