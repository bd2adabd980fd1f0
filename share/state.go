package share

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"math/big"
)

// The dealer's own state: d, every d_ji and the node seed. It is what the
// offline secret key distributor keeps ([0046], [0062]) to add calculators
// later ([0054] point 2). It is the most secret file of a cluster: seal it.
const dealerFormat = "tolerant dealer state v1"

type dealerJSON struct {
	metaJSON
	D            string     `json:"d"`
	Shares       [][]string `json:"shares"`
	NodeSeed     []byte     `json:"node_seed"`
	Distributors int        `json:"distributors"`
	Combiners    int        `json:"combiners"`
}

// MarshalState encodes everything the dealer holds, secrets included.
func (dl *Dealer) MarshalState() ([]byte, error) {
	m := dl.meta()
	out := dealerJSON{metaJSON: m.toJSON(dealerFormat), D: dl.d.Text(16), NodeSeed: dl.nodeSeed,
		Distributors: dl.distributors, Combiners: dl.combiners}
	out.Roster = nil    // derived from the node seed
	out.DealerKey = nil // likewise
	for _, row := range dl.shares {
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
	m, err := in.meta(dealerFormat)
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
		pub: &rsa.PublicKey{N: m.PublicKey.N, E: m.PublicKey.E}, d: d,
		k: m.K, t: m.T, l: m.L, shareBits: m.ShareBits, keyID: m.KeyID, epoch: m.Epoch,
		nodeSeed: in.NodeSeed, distributors: in.Distributors, combiners: in.Combiners,
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
		dl.shares = append(dl.shares, r)
	}
	return dl, nil
}
