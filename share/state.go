package share

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/redact"
)

// The dealer's own state: d, every d_ji and the node seed. It is what the
// offline secret key distributor keeps ([0046], [0062]) to add calculators
// later ([0054] point 2). It is the most secret file of a cluster: seal it.
// Version 2 adds the plan, every combiner's history and the guarantees
// (redundancy, pairs); a version 1 state is still read, but deals no
// combiner ([ErrNoHistory]): nothing says what its combiners hold.
// Version 3 adds the combiners taken out of service and the histories of
// past epochs ([Dealer.RemoveCombiner], [Dealer.Refresh]); a version 2
// state is read as one with neither.
const (
	dealerFormat   = "tolerant dealer state v3"
	dealerFormatV2 = "tolerant dealer state v2"
	dealerFormatV1 = "tolerant dealer state v1"
)

type dealerJSON struct {
	metaJSON
	D            string     `json:"d"`
	Shares       [][]string `json:"shares"`
	NodeSeed     []byte     `json:"node_seed"`
	Distributors int        `json:"distributors"`
	Combiners    int        `json:"combiners"`

	Plan       *grouping.Plan   `json:"plan,omitempty"`
	History    [][]grouping.Rep `json:"history,omitempty"`
	Redundancy int              `json:"redundancy,omitempty"`
	Pairs      bool             `json:"pairs,omitempty"`

	Removed    []int          `json:"removed_combiners,omitempty"`
	PastEpochs []EpochHistory `json:"past_epochs,omitempty"`
}

// MarshalState encodes everything the dealer holds, secrets included, and
// its plan, every combiner's history and its guarantees. A dealer read from
// a version 1 state is written as version 1 again.
func (dl *Dealer) MarshalState() ([]byte, error) {
	m := dl.meta()
	format := dealerFormat
	if dl.noHistory {
		format = dealerFormatV1
	}
	out := dealerJSON{metaJSON: m.toJSON(format), D: dl.secrets().d.Text(16), NodeSeed: dl.secrets().nodeSeed,
		Distributors: dl.distributors, Combiners: dl.combiners,
		Plan: dl.plan, History: dl.history, Redundancy: dl.redundancy, Pairs: dl.pairs,
		Removed: dl.removed, PastEpochs: dl.past}
	out.Roster = nil    // derived from the node seed
	out.DealerKey = nil // likewise
	for _, row := range dl.secrets().shares {
		var r []string
		for _, s := range row {
			r = append(r, s.Text(16))
		}
		out.Shares = append(out.Shares, r)
	}
	return json.MarshalIndent(out, "", "  ")
}

// ParseDealerState decodes what [Dealer.MarshalState] wrote and checks it:
// the shares fit, and d is the private exponent of the public key.
func ParseDealerState(b []byte) (*Dealer, error) {
	var in dealerJSON
	if err := decodeStrict(b, &in); err != nil {
		return nil, err
	}
	v1 := in.Format == dealerFormatV1
	format := dealerFormat
	switch in.Format {
	case dealerFormatV1, dealerFormatV2:
		format = in.Format
	}
	m, err := in.meta(format)
	if err != nil {
		return nil, err
	}
	d, err := parseHex(in.D, MaxKeyBits)
	if err != nil || d.Sign() <= 0 || d.Cmp(m.PublicKey.N) >= 0 {
		return nil, fmt.Errorf("%w: private exponent", ErrMalformed)
	}
	// 2^(e·d) = 2 mod N holds for the private exponent of (N, e).
	two := big.NewInt(2)
	ed := new(big.Int).Mul(d, big.NewInt(int64(m.PublicKey.E)))
	if new(big.Int).Exp(two, ed, m.PublicKey.N).Cmp(two) != 0 {
		return nil, fmt.Errorf("%w: private exponent does not match the public key", ErrMalformed)
	}
	if len(in.Shares) != m.K || len(in.NodeSeed) != 32 ||
		in.Distributors < 1 || in.Distributors > MaxDistributors || in.Combiners < 0 || in.Combiners > maxCombiners {
		return nil, fmt.Errorf("%w: dealer state", ErrMalformed)
	}
	dl := &Dealer{
		pub: &rsa.PublicKey{N: m.PublicKey.N, E: m.PublicKey.E},
		sec: redact.Hide(&dealerSecrets{d: d, nodeSeed: in.NodeSeed}),
		k:   m.K, t: m.T, l: m.L, shareBits: m.ShareBits, keyID: m.KeyID, epoch: m.Epoch,
		distributors: in.Distributors, combiners: in.Combiners,
		noHistory: v1,
	}
	for j, row := range in.Shares {
		if len(row) != m.L {
			return nil, fmt.Errorf("%w: calculator %d has %d shares", ErrMalformed, j+1, len(row))
		}
		var r []*big.Int
		for i, s := range row {
			x, err := parseHex(s, m.ShareBits)
			if err != nil || x.Sign() < 0 || x.BitLen() > m.ShareBits {
				return nil, fmt.Errorf("%w: share %d of calculator %d", ErrMalformed, i+1, j+1)
			}
			r = append(r, x)
		}
		dl.secrets().shares = append(dl.secrets().shares, r)
	}
	if err := dl.parseHistory(&in, v1); err != nil {
		return nil, err
	}
	if format != dealerFormat && (in.Removed != nil || in.PastEpochs != nil) {
		return nil, fmt.Errorf("%w: %s has no removed combiners or past epochs", ErrMalformed, format)
	}
	if err := dl.parseMembership(&in); err != nil {
		return nil, err
	}
	return dl, nil
}

// parseMembership checks and takes the removed combiners (distinct,
// ascending, dealt, with nothing in the plan) and the past epochs (before
// this one, ascending, every representation fitting (k, t, l)).
func (dl *Dealer) parseMembership(in *dealerJSON) error {
	for n, a := range in.Removed {
		if a < 1 || a > dl.combiners || (n > 0 && in.Removed[n-1] >= a) ||
			(dl.plan != nil && a <= len(dl.plan.Combiners) && len(dl.plan.Combiners[a-1]) > 0) {
			return fmt.Errorf("%w: removed combiners", ErrMalformed)
		}
	}
	total := 0
	for n, e := range in.PastEpochs {
		if e.Epoch >= dl.epoch || (n > 0 && in.PastEpochs[n-1].Epoch >= e.Epoch) || len(e.History) > maxCombiners {
			return fmt.Errorf("%w: past epochs", ErrMalformed)
		}
		for _, reps := range e.History {
			total += len(reps)
			if total > grouping.MaxReps*8 {
				return fmt.Errorf("%w: past epochs too long", ErrMalformed)
			}
			for _, r := range reps {
				if r.Validate(dl.k, dl.t, dl.l) != nil {
					return fmt.Errorf("%w: history of epoch %d", ErrMalformed, e.Epoch)
				}
			}
		}
	}
	dl.removed, dl.past = in.Removed, in.PastEpochs
	return nil
}

// parseHistory checks and takes the plan, the histories and the guarantees
// of a state: a version 1 state has none; in version 2 there is one
// history per combiner number dealt, every representation fits (k, t, l),
// and the plan's representations are in their combiners' histories.
func (dl *Dealer) parseHistory(in *dealerJSON, v1 bool) error {
	if v1 {
		if in.Plan != nil || in.History != nil || in.Redundancy != 0 || in.Pairs {
			return fmt.Errorf("%w: a version 1 dealer state has no history", ErrMalformed)
		}
		return nil
	}
	if len(in.History) != in.Combiners || in.Redundancy < 0 || in.Redundancy > grouping.MaxRedundancy {
		return fmt.Errorf("%w: dealer history", ErrMalformed)
	}
	seen := make([]map[string]bool, len(in.History))
	total := 0
	for a, reps := range in.History {
		total += len(reps)
		if total > grouping.MaxReps {
			return fmt.Errorf("%w: dealer history too long", ErrMalformed)
		}
		seen[a] = map[string]bool{}
		for _, r := range reps {
			if r.Validate(dl.k, dl.t, dl.l) != nil || seen[a][r.String()] {
				return fmt.Errorf("%w: history of combiner %d", ErrMalformed, a+1)
			}
			seen[a][r.String()] = true
		}
	}
	if p := in.Plan; p != nil {
		if p.K != dl.k || p.T != dl.t || p.L != dl.l || p.ValidateStructure() != nil || len(p.Combiners) > len(in.History) {
			return fmt.Errorf("%w: dealer plan", ErrMalformed)
		}
		for a, reps := range p.Combiners {
			for _, r := range reps {
				if !seen[a][r.String()] {
					return fmt.Errorf("%w: the plan gives combiner %d %v, which its history lacks", ErrMalformed, a+1, r)
				}
			}
		}
	}
	dl.plan, dl.history, dl.redundancy, dl.pairs = in.Plan, in.History, in.Redundancy, in.Pairs
	return nil
}
