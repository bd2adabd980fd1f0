// Package combine is the second layer of tolerant: the secret share combiner
// ([0042] step H, [0093], [00113]). Paragraph numbers refer to the patent
// application "Tolerant digital certificate distribute system and distribute
// method" (PCT/CN02/00684, CN 01136018.6).
//
// A [Combiner] holds representations a with their second sub-secret-keys c_a.
// Given partial results M^{d_ji} in any order, with duplicates and extras, it
// finds a stored representation whose t terms have all arrived ([0093]),
// multiplies them into R and finishes S = R · M^{c_a} mod N (with M^-1 when
// c_a < 0). Before S leaves, it checks S^e = M mod N with the public key
// ([0095]). When that check fails it tries every other satisfiable
// representation, and names the calculators whose partials it proved wrong.
//
// # What naming guarantees
//
// A verified representation proves only that the product of its partials
// is right, not each partial: two calculators sending X1 = P1·r and
// X2 = P2/r pass every representation that holds both and fail every one
// that holds one of them. So [Result.Inconsistent] names calculator j only
// when every coalition of at most t-1 calculators that could explain which
// representations verified and which failed contains j (the test is exact,
// over the integers, see blame). Hence, as long as at most t-1 calculators
// lie, collude and choose their partials knowing everything: an honest
// calculator is never named; a lone liar is named whenever the
// representations the combiner evaluated isolate it; and everything else
// the combiner saw goes to [Result.Suspects], a suspicion. When more than
// t-1 calculators would be needed to explain what was seen, nobody is
// named. The guarantee is the combiner's: a lying combiner can claim
// anything, which is why package broadcast's distributor requires several
// combiners to agree before it names a calculator.
//
// The package is pure: no goroutines, no clock, no transport.
package combine

import (
	"errors"
	"fmt"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/ctexp"
	"github.com/tolerantca/tolerant/internal/redact"
	"github.com/tolerantca/tolerant/share"
)

// Errors returned by [Combiner.Combine]. Results carry the detail.
var (
	// ErrNotEnough: fewer than t distinct calculators have usable partials.
	ErrNotEnough = errors.New("combine: not enough calculators")
	// ErrNoMatch: t or more calculators answered, but no stored
	// representation is satisfied by their partials (another combiner may be).
	ErrNoMatch = errors.New("combine: no stored representation matches the partials")
	// ErrNoValidSignature: every satisfiable representation gave a signature
	// that does not verify: some partials are wrong.
	ErrNoValidSignature = errors.New("combine: no combination verifies")
	// ErrUnknownShare: a partial names a calculator or share this key does not have.
	ErrUnknownShare = errors.New("combine: unknown calculator or share number")
	// ErrMalformedPartial: a partial value is not a number in [1, N) of the modulus size.
	ErrMalformedPartial = errors.New("combine: malformed partial value")
	// ErrDuplicate: a second partial for the same share.
	ErrDuplicate = errors.New("combine: duplicate partial")
	// ErrConflict: a second partial for the same share with another value.
	ErrConflict = errors.New("combine: conflicting duplicate partial")
)

// Ignored is a partial that was set aside, and why.
type Ignored struct {
	J, I   int
	Reason error
}

// Result tells what a combination did. It is returned, with whatever it
// learnt, even when Combine fails.
type Result struct {
	Signature []byte       // S = M^d, the modulus size in bytes; nil on failure
	Rep       grouping.Rep // the representation that produced Signature
	Tried     int          // representations evaluated (each costs one exponentiation)
	// Inconsistent lists, in ascending order, the calculators proven to
	// have sent a wrong partial, on evidence that holds against up to t-1
	// colluding calculators (see the package documentation).
	Inconsistent []int
	// Suspects lists, ascending, calculators that may have sent a wrong
	// partial but could also be honest while others lied: a suspicion,
	// never proof.
	Suspects []int
	Ignored  []Ignored // partials set aside, with reasons
}

// Options tune a [Combiner].
type Options struct {
	// Audit checks every received partial after a signature is found, so
	// that a lying calculator is named even when its partial was not needed.
	// It costs up to one extra exponentiation per partial.
	Audit bool
	// Approve is the operator's confirmation ([0093], [00113]), asked once
	// per request before the second sub-keys are used. nil approves.
	Approve share.ApproveFunc
}

// Combiner is one secret share combiner.
type Combiner struct {
	key     *share.CombinerKey
	mod     *ctexp.Modulus
	entries []entry
	opts    Options
}

type entry struct {
	rep grouping.Rep
	exp redact.Hidden[[]byte] // |c_a|, fixed length
	neg bool                  // c_a < 0: use M^-1
}

// New prepares key for combining. opts may be nil.
func New(key *share.CombinerKey, opts *Options) (*Combiner, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: nil key", share.ErrMalformed)
	}
	if err := key.Validate(); err != nil {
		return nil, err
	}
	mod, err := ctexp.NewModulus(key.PublicKey.N)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", share.ErrMalformed, err)
	}
	c := &Combiner{key: key, mod: mod}
	if opts != nil {
		c.opts = *opts
	}
	_, cb := key.ExponentBytes()
	for _, se := range key.Entries {
		exp, err := ctexp.FixedBytes(se.C, cb)
		if err != nil {
			return nil, fmt.Errorf("%w: second sub-key too long", share.ErrMalformed)
		}
		// The sign of c_a is public in practice: with full-length shares it
		// is negative for every representation, with half-length positive.
		c.entries = append(c.entries, entry{rep: se.Rep, exp: redact.Hide(exp), neg: se.C.Sign() < 0})
	}
	return c, nil
}

// Number returns the combiner's number.
func (c *Combiner) Number() int { return c.key.Number }

// Meta returns the public part of the combiner's key material.
func (c *Combiner) Meta() share.Meta { return c.key.Meta }

// Reps returns the representations this combiner serves.
func (c *Combiner) Reps() []grouping.Rep { return c.key.Reps() }

// Match reports the first stored representation whose terms all appear among
// partials ([0093], [00113]), without checking the values. It is cheap: the
// protocol calls it on every arrival to decide when to combine.
func (c *Combiner) Match(partials []share.Partial) (grouping.Rep, bool) {
	have := make(map[grouping.Term]bool, len(partials))
	for _, p := range partials {
		have[grouping.Term{J: p.J, I: p.I}] = true
	}
	for _, e := range c.entries {
		if covered(e.rep, have) {
			return e.rep, true
		}
	}
	return nil, false
}

func covered[V any](rep grouping.Rep, have map[grouping.Term]V) bool {
	for _, x := range rep {
		if _, ok := have[x]; !ok {
			return false
		}
	}
	return true
}
