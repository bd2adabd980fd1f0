package share

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	mbits "math/bits"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/redact"
)

// ShareLength selects how long the first sub-secret-keys d_ji are.
type ShareLength int

const (
	// FullLength draws every d_ji with |N|+128 bits, so that no c_a tells
	// anything about d. It is the default.
	FullLength ShareLength = iota
	// HalfLength draws every d_ji with |N|/2 bits, as the patent does ([0063]).
	// Every c_a then reveals the top half of d, which is only tolerable when
	// that half is public anyway: it is refused for e > 2^32.
	HalfLength
)

func (s ShareLength) String() string {
	switch s {
	case FullLength:
		return "full (|N|+128 bits)"
	case HalfLength:
		return "half (|N|/2 bits, patent)"
	}
	return fmt.Sprintf("ShareLength(%d)", int(s))
}

// Limits on the dealer's parameters. k and l are those of the grouping
// package, which also bounds the sizes (k, t, l) imply: see
// [grouping.CheckParams].
const (
	MaxCalculators = grouping.MaxCalculators // k
	MaxShares      = grouping.MaxShares      // l
	MinKeyBits     = 2048
	MaxKeyBits     = 4096
	minTestKeyBits = 512
)

// Options tune a [Dealer]. The zero value is the safe default.
type Options struct {
	// Length of every d_ji. Default FullLength.
	Length ShareLength
	// KeyID names the key in every request and every piece of key material
	// (the patent's enterprise code, [0124]). Default: [KeyIDFor] the public key.
	KeyID string
	// Epoch numbers this dealing of the key, so that material of two dealings
	// is never mixed.
	Epoch uint32
	// Distributors is the number of task distributors that get a signing key
	// in the roster. Default 1.
	Distributors int
	// InsecureAllowSmallKeysForTests accepts keys below 2048 bits (down to
	// 512). Use it only to keep tests fast.
	InsecureAllowSmallKeysForTests bool
	// Redundancy, when nonzero, is the least number of distinct combiners
	// that must serve every calculator set of every plan dealt ([0083]
	// step 7), so that any Redundancy-1 combiners may be lost. It is kept
	// in the dealer's state and through every later dealing.
	Redundancy int
	// Pairs requires that no two combiners, with everything ever dealt to
	// them in this epoch, recover d together with t-1 calculators. It is
	// kept in the dealer's state and through every later dealing.
	Pairs bool
	// InsecureSkipSecurityCheckForTests deals combiners even when one of
	// them, with t-1 calculators, recovers d. It is not kept in the
	// dealer's state. Use it only for test fixtures.
	InsecureSkipSecurityCheckForTests bool
}

// Errors returned by the dealer.
var (
	ErrKeySize    = errors.New("share: unsupported RSA key size")
	ErrParameters = errors.New("share: invalid (k, t, l)")
	ErrExponent   = errors.New("share: half-length shares need a public exponent of at most 2^32")
)

// Dealer holds a CA private key split into first sub-secret-keys. It lives on
// the offline secret key distributor ([0046], [0062]); nothing it holds may
// reach an online machine except through [Dealer.Calculator] and
// [Dealer.Combiner].
type Dealer struct {
	pub       *rsa.PublicKey
	sec       redact.Hidden[*dealerSecrets]
	k, t, l   int
	shareBits int
	keyID     string
	epoch     uint32

	distributors int
	combiners    int // highest combiner number dealt so far

	// plan is the plan of the last Deal (nil before it). history[a] lists
	// every representation dealt to combiner a+1 in this epoch, in the
	// order dealt; len(history) == combiners. noHistory marks a state that
	// recorded neither: such a dealer deals no combiner.
	plan       *grouping.Plan
	history    [][]grouping.Rep
	noHistory  bool
	redundancy int
	pairs      bool
	skipCheck  bool

	// removed lists the combiners taken out of service, ascending; past
	// keeps the histories of the epochs before this one.
	removed []int
	past    []EpochHistory
}

// dealerSecrets is everything secret a dealer holds. It sits behind
// [redact.Hidden], so that no fmt verb reaches it even when a Dealer is
// held by value inside another struct, where fmt prints fields without
// calling their methods.
type dealerSecrets struct {
	d        *big.Int
	shares   [][]*big.Int // shares[j-1][i-1] = d_ji
	nodeSeed []byte       // derives every node's Ed25519 key
}

// secrets returns what dl keeps secret.
func (dl *Dealer) secrets() *dealerSecrets { return dl.sec.Value() }

// KeyIDFor returns the default key id of pub: the first 8 bytes of the
// SHA-256 of its PKIX encoding, in hex.
func KeyIDFor(pub *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:8])
}

// NewDealer splits key over k calculators with l shares each, for threshold t
// ([0041] step C, [0067]). random is read for k·l shares; pass crypto/rand.Reader
// in production and a seeded reader in tests.
func NewDealer(random io.Reader, key *rsa.PrivateKey, k, t, l int, opts *Options) (*Dealer, error) {
	if opts == nil {
		opts = &Options{}
	}
	if key == nil || key.N == nil || key.D == nil || key.D.Sign() <= 0 {
		return nil, fmt.Errorf("%w: missing key", ErrKeySize)
	}
	bits := key.N.BitLen()
	minBits := MinKeyBits
	if opts.InsecureAllowSmallKeysForTests {
		minBits = minTestKeyBits
	}
	if bits < minBits || bits > MaxKeyBits {
		return nil, fmt.Errorf("%w: %d bits (want %d to %d)", ErrKeySize, bits, minBits, MaxKeyBits)
	}
	if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("share: invalid RSA key: %w", err)
	}
	if err := checkParams(k, t, l); err != nil {
		return nil, err
	}
	var shareBits int
	switch opts.Length {
	case FullLength:
		shareBits = bits + 128
	case HalfLength:
		if key.E > 1<<32 || key.E < 0 {
			return nil, ErrExponent
		}
		shareBits = bits / 2
	default:
		return nil, fmt.Errorf("share: unknown share length %d", int(opts.Length))
	}
	keyID := opts.KeyID
	if keyID == "" {
		keyID = KeyIDFor(&key.PublicKey)
	}
	if err := CheckKeyID(keyID); err != nil {
		return nil, err
	}
	distributors := opts.Distributors
	if distributors == 0 {
		distributors = 1
	}
	if distributors < 1 || distributors > MaxDistributors {
		return nil, fmt.Errorf("%w: %d distributors, want 1..%d", ErrParameters, distributors, MaxDistributors)
	}
	if opts.Redundancy < 0 || opts.Redundancy > grouping.MaxRedundancy {
		return nil, fmt.Errorf("%w: redundancy %d, want 0..%d", ErrParameters, opts.Redundancy, grouping.MaxRedundancy)
	}
	dl := &Dealer{
		distributors: distributors,
		pub:          &rsa.PublicKey{N: new(big.Int).Set(key.N), E: key.E},
		sec:          redact.Hide(&dealerSecrets{d: new(big.Int).Set(key.D)}),
		k:            k,
		t:            t,
		l:            l,
		shareBits:    shareBits,
		keyID:        keyID,
		epoch:        opts.Epoch,
		redundancy:   opts.Redundancy,
		pairs:        opts.Pairs,
		skipCheck:    opts.InsecureSkipSecurityCheckForTests,
	}
	dl.secrets().nodeSeed = make([]byte, 32)
	if _, err := io.ReadFull(random, dl.secrets().nodeSeed); err != nil {
		return nil, fmt.Errorf("share: reading randomness: %w", err)
	}
	for j := 1; j <= k; j++ {
		row, err := drawShares(random, l, shareBits)
		if err != nil {
			return nil, err
		}
		dl.secrets().shares = append(dl.secrets().shares, row)
	}
	return dl, nil
}

// drawShares reads l uniformly random integers in [0, 2^bits) ([0067]).
func drawShares(random io.Reader, l, bits int) ([]*big.Int, error) {
	buf := make([]byte, (bits+7)/8)
	row := make([]*big.Int, l)
	for i := range row {
		if _, err := io.ReadFull(random, buf); err != nil {
			return nil, fmt.Errorf("share: reading randomness: %w", err)
		}
		if extra := len(buf)*8 - bits; extra > 0 {
			buf[0] &= 0xff >> extra
		}
		row[i] = new(big.Int).SetBytes(buf)
	}
	clear(buf)
	return row, nil
}

var (
	// ErrKeyID is returned by CheckKeyID.
	ErrKeyID = errors.New("share: invalid key id")
	// ErrPublicKey is returned by CheckPublicKey.
	ErrPublicKey = errors.New("share: unacceptable RSA public key")
)

// checkParams validates (k, t, l) with [grouping.CheckParams], so that the
// dealer and the grouping package accept the same parameters.
func checkParams(k, t, l int) error {
	if err := grouping.CheckParams(k, t, l); err != nil {
		return fmt.Errorf("%w: %w", ErrParameters, err)
	}
	return nil
}

// CheckKeyID reports whether id is a valid key id ([0124]): 1 to 64 bytes
// of printable ASCII without spaces. Errors wrap ErrKeyID.
func CheckKeyID(id string) error {
	if len(id) == 0 || len(id) > 64 {
		return fmt.Errorf("%w: must be 1 to 64 bytes", ErrKeyID)
	}
	for _, r := range id {
		if r < 0x21 || r > 0x7e {
			return fmt.Errorf("%w: must be printable ASCII without spaces", ErrKeyID)
		}
	}
	return nil
}

// CheckPublicKey reports whether pub is a CA public key this package
// accepts: an odd modulus of 512 (tests only) to MaxKeyBits bits and an odd
// public exponent of at least 3. Errors wrap ErrPublicKey.
func CheckPublicKey(pub *rsa.PublicKey) error {
	if pub == nil || pub.N == nil {
		return fmt.Errorf("%w: missing", ErrPublicKey)
	}
	n := pub.N
	if n.Sign() <= 0 || n.Bit(0) == 0 || n.BitLen() < minTestKeyBits || n.BitLen() > MaxKeyBits {
		return fmt.Errorf("%w: modulus of %d bits", ErrPublicKey, n.BitLen())
	}
	if e := pub.E; e < 3 || e&1 == 0 {
		return fmt.Errorf("%w: public exponent %d", ErrPublicKey, e)
	}
	return nil
}

// PublicKey returns the CA's public key.
func (dl *Dealer) PublicKey() *rsa.PublicKey { return dl.pub }

// KeyID returns the key id written into all key material.
func (dl *Dealer) KeyID() string { return dl.keyID }

// Params returns (k, t, l).
func (dl *Dealer) Params() (k, t, l int) { return dl.k, dl.t, dl.l }

// ShareBits returns the length in bits of every d_ji.
func (dl *Dealer) ShareBits() int { return dl.shareBits }

// Calculator returns the key material of calculator j (1..k): its l shares
// d_j1 … d_jl ([0067], [00100]).
func (dl *Dealer) Calculator(j int) (*CalculatorKey, error) {
	if j < 1 || j > dl.k {
		return nil, fmt.Errorf("%w: calculator %d, want 1..%d", ErrParameters, j, dl.k)
	}
	shares := make([]*big.Int, dl.l)
	for i, s := range dl.secrets().shares[j-1] {
		shares[i] = new(big.Int).Set(s)
	}
	return &CalculatorKey{Meta: dl.meta(), Number: j, Shares: shares, NodeKey: dl.nodeKey(Node{Role: RoleCalculator, Number: j})}, nil
}

func (dl *Dealer) meta() Meta {
	return Meta{
		KeyID:     dl.keyID,
		Epoch:     dl.epoch,
		PublicKey: &rsa.PublicKey{N: new(big.Int).Set(dl.pub.N), E: dl.pub.E},
		K:         dl.k, T: dl.t, L: dl.l,
		ShareBits: dl.shareBits,
		Roster:    dl.Roster(),
		DealerKey: dl.DealerKey(),
	}
}

// SecondKey returns c_a = d − Σ d_ji for the representation rep ([0069],
// [00101]). It is computed over the integers and may be negative. It deals
// nothing: it neither checks nor records rep in any combiner's history, so
// hand second sub-keys to combiners only through [Dealer.Deal] and
// [Dealer.Combiner], which do.
func (dl *Dealer) SecondKey(rep grouping.Rep) (*big.Int, error) {
	if err := rep.Validate(dl.k, dl.t, dl.l); err != nil {
		return nil, err
	}
	c := new(big.Int).Set(dl.secrets().d)
	for _, x := range rep {
		c.Sub(c, dl.secrets().shares[x.J-1][x.I-1])
	}
	return c, nil
}

// Combiner returns the key material of combiner number n (1..m): the given
// representations with their c_a ([0041] step E, [00103]). It refuses, with
// an error wrapping [grouping.ErrInsecure] that names the combiner and the
// coalition, representations that together with everything dealt to
// combiner n before in this epoch let t-1 calculators recover d ([0073]),
// and with [Options.Pairs] those that do so for combiner n and any other
// combiner's history. On success they join combiner n's history; the
// dealer's plan ([Dealer.Plan]) is left as it is.
func (dl *Dealer) Combiner(n int, reps []grouping.Rep) (*CombinerKey, error) {
	if n < 1 || n > maxCombiners {
		return nil, fmt.Errorf("%w: combiner number %d", ErrParameters, n)
	}
	if dl.isRemoved(n) {
		return nil, fmt.Errorf("%w: combiner %d", ErrCombinerRemoved, n)
	}
	if err := dl.checkReps(n, reps); err != nil {
		return nil, err
	}
	add := make([][]grouping.Rep, n)
	add[n-1] = reps
	merged, err := dl.checkHistory(add)
	if err != nil {
		return nil, err
	}
	dl.record(merged) // before the key material: its roster lists combiner n
	return dl.combinerKey(n, reps)
}

// checkReps checks that reps is a non-empty list of distinct
// representations that fit the dealer's (k, t, l).
func (dl *Dealer) checkReps(n int, reps []grouping.Rep) error {
	if len(reps) == 0 {
		return fmt.Errorf("%w: combiner %d has no representation", ErrParameters, n)
	}
	seen := make(map[string]bool)
	for _, rep := range reps {
		if seen[rep.String()] {
			return fmt.Errorf("%w: combiner %d lists %v twice", grouping.ErrInvalidRep, n, rep)
		}
		seen[rep.String()] = true
		if err := rep.Validate(dl.k, dl.t, dl.l); err != nil {
			return err
		}
	}
	return nil
}

// combinerKey computes combiner n's key material for reps, which passed
// checkReps, without any security check.
func (dl *Dealer) combinerKey(n int, reps []grouping.Rep) (*CombinerKey, error) {
	ck := &CombinerKey{Meta: dl.meta(), Number: n, NodeKey: dl.nodeKey(Node{Role: RoleCombiner, Number: n})}
	for _, rep := range reps {
		c, err := dl.SecondKey(rep)
		if err != nil {
			return nil, err
		}
		ck.Entries = append(ck.Entries, SecondKey{Rep: append(grouping.Rep(nil), rep...), C: c})
	}
	return ck, nil
}

// Dealing is everything the dealer hands out for one plan.
type Dealing struct {
	Plan         *grouping.Plan
	Distributors []*DistributorKey // Distributors[n-1] is distributor n
	Calculators  []*CalculatorKey  // Calculators[j-1] is calculator j
	// Combiners are the combiners in service, ascending by number:
	// Combiners[a] is combiner a+1 unless a combiner was removed
	// ([Dealer.RemoveCombiner]), whose entry in the plan is empty.
	Combiners []*CombinerKey
}

// Deal produces key material for every calculator and for every combiner of
// plan ([0041] steps C-E). The plan must match the dealer's (k, t, l). Deal
// refuses a plan under which some combiner, with everything dealt to it
// before in this epoch, and t-1 calculators recover d (an error wrapping
// [grouping.ErrInsecure] names the combiner and the coalition), under
// which two combiners do so when the dealer keeps pairs safe
// ([Options.Pairs]), or which serves some calculator set by fewer than
// [Options.Redundancy] combiners ([grouping.ErrIncomplete]). On success
// plan becomes the dealer's plan and its representations join the
// combiners' histories. Combiners in the history beyond the plan keep
// their numbers and are dealt nothing.
func (dl *Dealer) Deal(plan *grouping.Plan) (*Dealing, error) {
	if plan == nil || plan.K != dl.k || plan.T != dl.t || plan.L != dl.l {
		return nil, fmt.Errorf("%w: plan does not match the dealer's k=%d t=%d l=%d", ErrParameters, dl.k, dl.t, dl.l)
	}
	if len(plan.Combiners) > maxCombiners {
		return nil, fmt.Errorf("%w: %d combiners", ErrParameters, len(plan.Combiners))
	}
	if err := plan.ValidateStructure(); err != nil {
		return nil, err
	}
	for a, reps := range plan.Combiners {
		if dl.isRemoved(a + 1) {
			if len(reps) > 0 {
				return nil, fmt.Errorf("%w: combiner %d", ErrCombinerRemoved, a+1)
			}
			continue
		}
		if err := dl.checkReps(a+1, reps); err != nil {
			return nil, err
		}
	}
	merged, err := dl.checkHistory(plan.Combiners)
	if err != nil {
		return nil, err
	}
	if err := dl.checkRedundancy(plan); err != nil {
		return nil, err
	}
	// Record first: every node's material carries the roster, which lists
	// every combiner number dealt.
	dl.record(merged)
	dl.plan = plan.Clone()
	out := &Dealing{Plan: plan}
	for n := 1; n <= dl.distributors; n++ {
		dk, err := dl.Distributor(n)
		if err != nil {
			return nil, err
		}
		out.Distributors = append(out.Distributors, dk)
	}
	for j := 1; j <= dl.k; j++ {
		ck, err := dl.Calculator(j)
		if err != nil {
			return nil, err
		}
		out.Calculators = append(out.Calculators, ck)
	}
	for a, reps := range plan.Combiners {
		if dl.isRemoved(a + 1) {
			continue
		}
		ck, err := dl.combinerKey(a+1, reps)
		if err != nil {
			return nil, err
		}
		out.Combiners = append(out.Combiners, ck)
	}
	return out, nil
}

// AddCalculator draws l fresh shares for a new calculator k+1 ([0054] point 2)
// and returns its key material. Existing shares and every c_a already dealt
// stay valid; representations that use the new calculator are then dealt with
// [Dealer.Combiner].
func (dl *Dealer) AddCalculator(random io.Reader) (*CalculatorKey, error) {
	if err := checkParams(dl.k+1, dl.t, dl.l); err != nil {
		return nil, err
	}
	row, err := drawShares(random, dl.l, dl.shareBits)
	if err != nil {
		return nil, err
	}
	dl.secrets().shares = append(dl.secrets().shares, row)
	dl.k++
	return dl.Calculator(dl.k)
}

// expBytes is the fixed length in bytes of every secret exponent of a key:
// shares have shareBits bits; |c_a| < max(d, t·2^shareBits) < 2^max(|N|, shareBits+bitlen(t)).
func expBytes(nBits, shareBits, t int) (share, second int) {
	cb := max(nBits, shareBits+mbits.Len(uint(t)))
	return (shareBits + 7) / 8, (cb + 7) / 8
}
