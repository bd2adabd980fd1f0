package share

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
)

// Role is what a node does in the cluster.
type Role uint8

// The roles of the patent's online machines.
const (
	RoleDistributor Role = 1 // task distributor and output device ([0047], [0051])
	RoleCalculator  Role = 2 // secret share calculator ([0092])
	RoleCombiner    Role = 3 // secret share combiner ([0093])
)

func (r Role) String() string {
	switch r {
	case RoleDistributor:
		return "distributor"
	case RoleCalculator:
		return "calculator"
	case RoleCombiner:
		return "combiner"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// MarshalText encodes r as its name.
func (r Role) MarshalText() ([]byte, error) {
	if r < RoleDistributor || r > RoleCombiner {
		return nil, fmt.Errorf("share: unknown role %d", uint8(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText decodes a role name.
func (r *Role) UnmarshalText(b []byte) error {
	for _, x := range []Role{RoleDistributor, RoleCalculator, RoleCombiner} {
		if string(b) == x.String() {
			*r = x
			return nil
		}
	}
	return fmt.Errorf("share: unknown role %q", b)
}

// MaxDistributors bounds the task distributors of one dealing.
const MaxDistributors = 255

// maxCombiners bounds the combiners of one dealing.
const maxCombiners = 4096

// Node names one node: a role and a number (1-based).
type Node struct {
	Role   Role `json:"role"`
	Number int  `json:"number"`
}

func (n Node) String() string { return fmt.Sprintf("%v %d", n.Role, n.Number) }

// RosterEntry is a node and the Ed25519 public key its packets are signed with.
type RosterEntry struct {
	Node
	Key ed25519.PublicKey `json:"key"`
}

// Roster lists every node a node accepts packets from, with their public
// keys. The transport is not trusted: packets are authenticated per node.
type Roster []RosterEntry

// ErrNotInRoster is returned for a node the roster does not list.
var ErrNotInRoster = errors.New("share: node not in the roster")

// Lookup returns the public key of node n.
func (r Roster) Lookup(n Node) (ed25519.PublicKey, error) {
	for _, e := range r {
		if e.Node == n {
			return e.Key, nil
		}
	}
	return nil, fmt.Errorf("%w: %v", ErrNotInRoster, n)
}

// Verify checks sig over msg as signed by node n.
func (r Roster) Verify(n Node, msg, sig []byte) error {
	pub, err := r.Lookup(n)
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, msg, sig) {
		return fmt.Errorf("share: bad signature from %v", n)
	}
	return nil
}

func (r Roster) validate() error {
	seen := make(map[Node]bool, len(r))
	for _, e := range r {
		if e.Role < RoleDistributor || e.Role > RoleCombiner || e.Number < 1 || e.Number > maxCombiners {
			return fmt.Errorf("%w: roster entry %v", ErrMalformed, e.Node)
		}
		if len(e.Key) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: roster key of %v", ErrMalformed, e.Node)
		}
		if seen[e.Node] {
			return fmt.Errorf("%w: %v twice in the roster", ErrMalformed, e.Node)
		}
		seen[e.Node] = true
	}
	return nil
}

// NodeKey is a node's own Ed25519 signing key. It prints as its node only.
type NodeKey struct {
	Node
	Private ed25519.PrivateKey // secret
}

// Sign signs msg as this node.
func (k *NodeKey) Sign(msg []byte) []byte { return ed25519.Sign(k.Private, msg) }

// Public returns the node's public key.
func (k *NodeKey) Public() ed25519.PublicKey { return k.Private.Public().(ed25519.PublicKey) }

func (k *NodeKey) validate(want Role) error {
	if k == nil || k.Role != want || len(k.Private) != ed25519.PrivateKeySize {
		return fmt.Errorf("%w: node key", ErrMalformed)
	}
	return nil
}

type nodeKeyJSON struct {
	Seed []byte `json:"seed"`
}

func (k *NodeKey) seedJSON() nodeKeyJSON { return nodeKeyJSON{Seed: k.Private.Seed()} }

func parseNodeKey(n Node, in nodeKeyJSON) (*NodeKey, error) {
	if len(in.Seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%w: node key seed", ErrMalformed)
	}
	return &NodeKey{Node: n, Private: ed25519.NewKeyFromSeed(in.Seed)}, nil
}

// nodeKey derives node n's signing key from the dealer's node seed, so that
// the roster can be extended ([0054] point 2) without changing a node's key.
func (dl *Dealer) nodeKey(n Node) *NodeKey {
	info := fmt.Sprintf("tolerant node key v1 %s %d %s %d", dl.keyID, dl.epoch, n.Role, n.Number)
	seed, err := hkdf.Key(sha256.New, dl.secrets().nodeSeed, nil, info, ed25519.SeedSize)
	if err != nil {
		panic("share: hkdf: " + err.Error()) // cannot happen for 32 bytes
	}
	return &NodeKey{Node: n, Private: ed25519.NewKeyFromSeed(seed)}
}

// dealerKeyInfo labels the derivation of the dealer's signing key. It is
// distinct from every node key's label, so the dealer key is independent of
// all of them, and it names neither key id nor epoch, so that one dealer
// keeps one key over every dealing of its state.
const dealerKeyInfo = "tolerant dealer signing key v1"

// dealerSigContext is the Ed25519ctx context (RFC 8032 section 5.1) of every
// dealer signature: no packet signature of a node verifies as the dealer's.
const dealerSigContext = "tolerant dealer v1"

// dealerSigner derives the dealer's Ed25519 signing key from its node seed.
func (dl *Dealer) dealerSigner() ed25519.PrivateKey {
	seed, err := hkdf.Key(sha256.New, dl.secrets().nodeSeed, nil, dealerKeyInfo, ed25519.SeedSize)
	if err != nil {
		panic("share: hkdf: " + err.Error()) // cannot happen for 32 bytes
	}
	return ed25519.NewKeyFromSeed(seed)
}

// DealerKey returns the public half of the dealer's signing key, with which
// the dealer signs every bundle and public file it writes, and which every
// node pins. It is derived from the dealer's state, so it stays the same
// when the cluster is extended.
func (dl *Dealer) DealerKey() ed25519.PublicKey {
	return dl.dealerSigner().Public().(ed25519.PublicKey)
}

// SignAsDealer signs msg with the dealer's signing key (Ed25519ctx, RFC 8032
// section 5.1). Callers start msg with a label of what is signed.
func (dl *Dealer) SignAsDealer(msg []byte) []byte {
	sig, err := dl.dealerSigner().Sign(nil, msg, &ed25519.Options{Context: dealerSigContext})
	if err != nil {
		panic("share: ed25519: " + err.Error()) // cannot happen: the context is short
	}
	return sig
}

// VerifyDealer reports whether sig is a signature of msg by
// [Dealer.SignAsDealer] under the dealer key pub.
func VerifyDealer(pub ed25519.PublicKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize {
		return false
	}
	return ed25519.VerifyWithOptions(pub, msg, sig, &ed25519.Options{Context: dealerSigContext}) == nil
}

// Roster returns the public keys of every node of the dealing so far: the
// distributors, k calculators and the combiners dealt, except those taken
// out of service ([Dealer.RemoveCombiner]).
func (dl *Dealer) Roster() Roster {
	var r Roster
	add := func(role Role, count int) {
		for n := 1; n <= count; n++ {
			if role == RoleCombiner && dl.isRemoved(n) {
				continue
			}
			node := Node{Role: role, Number: n}
			r = append(r, RosterEntry{Node: node, Key: dl.nodeKey(node).Public()})
		}
	}
	add(RoleDistributor, dl.distributors)
	add(RoleCalculator, dl.k)
	add(RoleCombiner, dl.combiners)
	return r
}

// DistributorKey is the key material of a task distributor: the public key,
// the roster, and its own signing key. It holds no share of the CA key: a
// distributor never names calculators or combiners ([0036] point 5).
type DistributorKey struct {
	Meta
	NodeKey *NodeKey
}

// Distributor returns the key material of distributor n (1..Options.Distributors).
func (dl *Dealer) Distributor(n int) (*DistributorKey, error) {
	if n < 1 || n > dl.distributors {
		return nil, fmt.Errorf("%w: distributor %d, want 1..%d", ErrParameters, n, dl.distributors)
	}
	return &DistributorKey{Meta: dl.meta(), NodeKey: dl.nodeKey(Node{Role: RoleDistributor, Number: n})}, nil
}

// Validate checks the key material.
func (dk *DistributorKey) Validate() error {
	if err := dk.Meta.validate(); err != nil {
		return err
	}
	return dk.NodeKey.validate(RoleDistributor)
}

const distributorFormat = "tolerant distributor key v1"

type distributorJSON struct {
	metaJSON
	Number  int         `json:"number"`
	NodeKey nodeKeyJSON `json:"node_key"`
}

// Marshal encodes the key material as JSON. The result holds the node's signing key.
func (dk *DistributorKey) Marshal() ([]byte, error) {
	if err := dk.Validate(); err != nil {
		return nil, err
	}
	return json.MarshalIndent(distributorJSON{metaJSON: dk.toJSON(distributorFormat), Number: dk.NodeKey.Number, NodeKey: dk.NodeKey.seedJSON()}, "", "  ")
}

// ParseDistributorKey decodes and checks what [DistributorKey.Marshal] wrote.
func ParseDistributorKey(b []byte) (*DistributorKey, error) {
	var in distributorJSON
	m, nk, err := parseNodeJSON(b, &in, distributorFormat, RoleDistributor)
	if err != nil {
		return nil, err
	}
	dk := &DistributorKey{Meta: m, NodeKey: nk}
	return dk, dk.Validate()
}
