package share

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/tolerantca/tolerant/grouping"
)

// Meta is the public part of every node's key material.
type Meta struct {
	KeyID     string         // the key id, [0124]
	Epoch     uint32         // which dealing of the key
	PublicKey *rsa.PublicKey // the CA's public key; N always comes from here
	K, T, L   int            // calculators, threshold, shares per calculator
	ShareBits int            // length in bits of every d_ji
	Roster    Roster         // every node's packet-signing public key
	// DealerKey is the public key of the dealer that dealt the material
	// ([Dealer.DealerKey]); package seal checks the bundle's signature
	// against it. Empty only in material written before dealers signed.
	DealerKey ed25519.PublicKey
}

// ExponentBytes returns the fixed lengths in bytes to which every d_ji and
// every |c_a| of this key are encoded before exponentiation, so that the
// time of an exponentiation never depends on a secret's value.
func (m *Meta) ExponentBytes() (share, second int) {
	return expBytes(m.PublicKey.N.BitLen(), m.ShareBits, m.T)
}

// ErrMalformed is returned when key material cannot be parsed or fails its checks.
var ErrMalformed = errors.New("share: malformed key material")

func (m *Meta) validate() error {
	if err := CheckPublicKey(m.PublicKey); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	n := m.PublicKey.N
	if err := checkParams(m.K, m.T, m.L); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := CheckKeyID(m.KeyID); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if m.ShareBits < n.BitLen()/2 || m.ShareBits > n.BitLen()+256 {
		return fmt.Errorf("%w: share length %d bits for a %d-bit modulus", ErrMalformed, m.ShareBits, n.BitLen())
	}
	if len(m.DealerKey) != 0 && len(m.DealerKey) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: dealer key of %d bytes", ErrMalformed, len(m.DealerKey))
	}
	return m.Roster.validate()
}

// checkOwn verifies that nk is a node key of role and that the roster lists
// its public key.
func (m *Meta) checkOwn(nk *NodeKey, role Role) error {
	if err := nk.validate(role); err != nil {
		return err
	}
	pub, err := m.Roster.Lookup(nk.Node)
	if err != nil || !pub.Equal(nk.Public()) {
		return fmt.Errorf("%w: the roster does not list this node's key", ErrMalformed)
	}
	return nil
}

// CalculatorKey is the key material of one secret share calculator: its
// number j and its shares d_j1 … d_jl ([0064]).
type CalculatorKey struct {
	Meta
	Number  int        // calculator number, 1..K
	Shares  []*big.Int // Shares[i-1] is d_ji; secret
	NodeKey *NodeKey   // signs this calculator's packets; secret
}

// Validate checks the key material without revealing anything about the shares.
func (ck *CalculatorKey) Validate() error {
	if err := ck.Meta.validate(); err != nil {
		return err
	}
	if ck.Number < 1 || ck.Number > ck.K {
		return fmt.Errorf("%w: calculator number %d of %d", ErrMalformed, ck.Number, ck.K)
	}
	if ck.NodeKey == nil || ck.NodeKey.Number != ck.Number {
		return fmt.Errorf("%w: node key", ErrMalformed)
	}
	if err := ck.checkOwn(ck.NodeKey, RoleCalculator); err != nil {
		return err
	}
	if len(ck.Shares) != ck.L {
		return fmt.Errorf("%w: %d shares, want l=%d", ErrMalformed, len(ck.Shares), ck.L)
	}
	for i, s := range ck.Shares {
		if s == nil || s.Sign() < 0 || s.BitLen() > ck.ShareBits {
			return fmt.Errorf("%w: share %d out of range", ErrMalformed, i+1)
		}
	}
	return nil
}

// SecondKey is one entry of a combiner: a representation and its c_a.
type SecondKey struct {
	Rep grouping.Rep
	C   *big.Int // secret; may be negative
}

// CombinerKey is the key material of one secret share combiner: the
// representations it serves and their second sub-secret-keys ([0071]).
type CombinerKey struct {
	Meta
	Number  int // combiner number, 1..m
	Entries []SecondKey
	NodeKey *NodeKey // signs this combiner's packets; secret
}

// Reps returns the combiner's representations, with no secret.
func (ck *CombinerKey) Reps() []grouping.Rep {
	out := make([]grouping.Rep, len(ck.Entries))
	for n, e := range ck.Entries {
		out[n] = e.Rep
	}
	return out
}

// Validate checks the key material without revealing any c_a.
func (ck *CombinerKey) Validate() error {
	if err := ck.Meta.validate(); err != nil {
		return err
	}
	if ck.Number < 1 {
		return fmt.Errorf("%w: combiner number %d", ErrMalformed, ck.Number)
	}
	if ck.NodeKey == nil || ck.NodeKey.Number != ck.Number {
		return fmt.Errorf("%w: node key", ErrMalformed)
	}
	if err := ck.checkOwn(ck.NodeKey, RoleCombiner); err != nil {
		return err
	}
	if len(ck.Entries) == 0 {
		return fmt.Errorf("%w: no representation", ErrMalformed)
	}
	_, cb := ck.ExponentBytes()
	seen := make(map[string]bool, len(ck.Entries))
	for n, e := range ck.Entries {
		if err := e.Rep.Validate(ck.K, ck.T, ck.L); err != nil {
			return fmt.Errorf("%w: entry %d: %v", ErrMalformed, n+1, err)
		}
		if seen[e.Rep.String()] {
			return fmt.Errorf("%w: %v listed twice", ErrMalformed, e.Rep)
		}
		seen[e.Rep.String()] = true
		if e.C == nil || (e.C.BitLen()+7)/8 > cb {
			return fmt.Errorf("%w: second sub-key of %v out of range", ErrMalformed, e.Rep)
		}
	}
	return nil
}

// On-disk formats. Plain JSON with hexadecimal integers; sealing it is the
// caller's business. The format string doubles as a version.
const (
	calculatorFormat = "tolerant calculator key v1"
	combinerFormat   = "tolerant combiner key v1"
	maxKeyFileSize   = 1 << 22
)

type metaJSON struct {
	Format    string `json:"format"`
	KeyID     string `json:"key_id"`
	Epoch     uint32 `json:"epoch"`
	N         string `json:"n"`
	E         int    `json:"e"`
	K         int    `json:"k"`
	T         int    `json:"t"`
	L         int    `json:"l"`
	ShareBits int    `json:"share_bits"`
	Roster    Roster `json:"roster"`
	DealerKey []byte `json:"dealer_key,omitempty"`
}

type calculatorJSON struct {
	metaJSON
	J       int         `json:"j"`
	Shares  []string    `json:"shares"`
	NodeKey nodeKeyJSON `json:"node_key"`
}

type entryJSON struct {
	Rep grouping.Rep `json:"rep"`
	C   string       `json:"c"`
}

type combinerJSON struct {
	metaJSON
	Number  int         `json:"number"`
	Entries []entryJSON `json:"entries"`
	NodeKey nodeKeyJSON `json:"node_key"`
}

// nodeJSON is the JSON of a node's key material: its metadata, its
// number and its node key.
type nodeJSON interface {
	head() (*metaJSON, int, nodeKeyJSON)
}

func (c *calculatorJSON) head() (*metaJSON, int, nodeKeyJSON) { return &c.metaJSON, c.J, c.NodeKey }
func (c *combinerJSON) head() (*metaJSON, int, nodeKeyJSON)   { return &c.metaJSON, c.Number, c.NodeKey }
func (d *distributorJSON) head() (*metaJSON, int, nodeKeyJSON) {
	return &d.metaJSON, d.Number, d.NodeKey
}

// parseNodeJSON decodes b into in, then parses its metadata (of format)
// and its node key (of the node of role and in's number).
func parseNodeJSON(b []byte, in nodeJSON, format string, role Role) (Meta, *NodeKey, error) {
	if err := decodeStrict(b, in); err != nil {
		return Meta{}, nil, err
	}
	mj, number, nkj := in.head()
	m, err := mj.meta(format)
	if err != nil {
		return Meta{}, nil, err
	}
	nk, err := parseNodeKey(Node{Role: role, Number: number}, nkj)
	if err != nil {
		return Meta{}, nil, err
	}
	return m, nk, nil
}

func (m *Meta) toJSON(format string) metaJSON {
	return metaJSON{Format: format, KeyID: m.KeyID, Epoch: m.Epoch, N: m.PublicKey.N.Text(16), E: m.PublicKey.E,
		K: m.K, T: m.T, L: m.L, ShareBits: m.ShareBits, Roster: m.Roster, DealerKey: m.DealerKey}
}

func (mj *metaJSON) meta(format string) (Meta, error) {
	if mj.Format != format {
		return Meta{}, fmt.Errorf("%w: format %q, want %q", ErrMalformed, mj.Format, format)
	}
	n, err := parseHex(mj.N, MaxKeyBits)
	if err != nil {
		return Meta{}, fmt.Errorf("%w: modulus: %v", ErrMalformed, err)
	}
	m := Meta{KeyID: mj.KeyID, Epoch: mj.Epoch, PublicKey: &rsa.PublicKey{N: n, E: mj.E},
		K: mj.K, T: mj.T, L: mj.L, ShareBits: mj.ShareBits, Roster: mj.Roster, DealerKey: mj.DealerKey}
	return m, m.validate()
}

// parseHex parses a signed hexadecimal integer of at most maxBits bits.
func parseHex(s string, maxBits int) (*big.Int, error) {
	if len(s) == 0 || len(s) > maxBits/4+2 {
		return nil, errors.New("bad length")
	}
	x, ok := new(big.Int).SetString(s, 16)
	if !ok {
		return nil, errors.New("not hexadecimal")
	}
	return x, nil
}

func decodeStrict(b []byte, v any) error {
	if len(b) > maxKeyFileSize {
		return fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// Marshal encodes the key material as JSON. The result holds secrets.
func (ck *CalculatorKey) Marshal() ([]byte, error) {
	if err := ck.Validate(); err != nil {
		return nil, err
	}
	out := calculatorJSON{metaJSON: ck.toJSON(calculatorFormat), J: ck.Number, NodeKey: ck.NodeKey.seedJSON()}
	for _, s := range ck.Shares {
		out.Shares = append(out.Shares, s.Text(16))
	}
	return json.MarshalIndent(out, "", "  ")
}

// ParseCalculatorKey decodes and checks what [CalculatorKey.Marshal] wrote.
func ParseCalculatorKey(b []byte) (*CalculatorKey, error) {
	var in calculatorJSON
	m, nk, err := parseNodeJSON(b, &in, calculatorFormat, RoleCalculator)
	if err != nil {
		return nil, err
	}
	ck := &CalculatorKey{Meta: m, Number: in.J, NodeKey: nk}
	if len(in.Shares) > MaxShares {
		return nil, fmt.Errorf("%w: %d shares", ErrMalformed, len(in.Shares))
	}
	for i, s := range in.Shares {
		x, err := parseHex(s, m.ShareBits)
		if err != nil {
			return nil, fmt.Errorf("%w: share %d: %v", ErrMalformed, i+1, err)
		}
		ck.Shares = append(ck.Shares, x)
	}
	if err := ck.Validate(); err != nil {
		return nil, err
	}
	return ck, nil
}

// Marshal encodes the key material as JSON. The result holds secrets.
func (ck *CombinerKey) Marshal() ([]byte, error) {
	if err := ck.Validate(); err != nil {
		return nil, err
	}
	out := combinerJSON{metaJSON: ck.toJSON(combinerFormat), Number: ck.Number, NodeKey: ck.NodeKey.seedJSON()}
	for _, e := range ck.Entries {
		out.Entries = append(out.Entries, entryJSON{Rep: e.Rep, C: e.C.Text(16)})
	}
	return json.MarshalIndent(out, "", "  ")
}

// ParseCombinerKey decodes and checks what [CombinerKey.Marshal] wrote.
func ParseCombinerKey(b []byte) (*CombinerKey, error) {
	var in combinerJSON
	m, nk, err := parseNodeJSON(b, &in, combinerFormat, RoleCombiner)
	if err != nil {
		return nil, err
	}
	ck := &CombinerKey{Meta: m, Number: in.Number, NodeKey: nk}
	for _, e := range in.Entries {
		c, err := parseHex(e.C, m.ShareBits+MaxKeyBits)
		if err != nil {
			return nil, fmt.Errorf("%w: second sub-key of %v: %v", ErrMalformed, e.Rep, err)
		}
		ck.Entries = append(ck.Entries, SecondKey{Rep: e.Rep, C: c})
	}
	if err := ck.Validate(); err != nil {
		return nil, err
	}
	return ck, nil
}
