package combine

import (
	"bytes"
	"context"
	"fmt"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/emsa"
	"github.com/tolerantca/tolerant/share"
)

// Combine finds a stored representation satisfied by partials and returns
// the verified signature S = M^d ([0093], [00113]). partials may arrive in
// any order, with duplicates and extras; unusable ones are set aside with a
// reason in Result.Ignored. req is checked exactly as a calculator checks it,
// and M is rebuilt here from req: a combiner, too, never exponentiates a
// value it did not encode or verify.
//
// The returned Result is never nil. The error is nil exactly when
// Result.Signature is set, and otherwise wraps one of ErrNotEnough, ErrNoMatch,
// ErrNoValidSignature, share.ErrWrongKey, share.ErrDeclined or a request error.
func (c *Combiner) Combine(ctx context.Context, req *share.Request, partials []share.Partial) (*Result, error) {
	res := &Result{}
	if req == nil || req.KeyID != c.key.KeyID {
		return res, share.ErrWrongKey
	}
	em, err := req.Encode(c.key.PublicKey)
	if err != nil {
		return res, err
	}
	have := c.sanitize(partials, res)
	calcs := make(map[int]bool)
	for x := range have {
		calcs[x.J] = true
	}
	if len(calcs) < c.key.T {
		return res, fmt.Errorf("%w: %d distinct calculators, need t=%d", ErrNotEnough, len(calcs), c.key.T)
	}
	var cands []*entry
	for n := range c.entries {
		if covered(c.entries[n].rep, have) {
			cands = append(cands, &c.entries[n])
		}
	}
	if len(cands) == 0 {
		return res, fmt.Errorf("%w: %d calculators answered", ErrNoMatch, len(calcs))
	}
	if c.opts.Approve != nil {
		if err := c.opts.Approve(ctx, req); err != nil {
			return res, fmt.Errorf("%w: %v", share.ErrDeclined, err)
		}
	}
	f := &finisher{c: c, em: em, have: have, res: res}
	var pass, fail []grouping.Rep
	for n, e := range cands {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if res.Signature != nil && len(fail) == 0 && !c.opts.Audit {
			break
		}
		sig, err := f.try(e)
		if err != nil {
			return res, err
		}
		if sig == nil {
			fail = append(fail, e.rep)
			continue
		}
		pass = append(pass, e.rep)
		if res.Signature == nil {
			res.Signature, res.Rep = sig, append(grouping.Rep(nil), cands[n].rep...)
		}
	}
	if res.Signature == nil {
		return res, fmt.Errorf("%w: %d representations tried", ErrNoValidSignature, res.Tried)
	}
	res.Inconsistent, res.Suspects = blame(c.key.T, pass, fail)
	return res, nil
}

// sanitize keeps the first well-formed partial of every known share.
func (c *Combiner) sanitize(partials []share.Partial, res *Result) map[grouping.Term][]byte {
	have := make(map[grouping.Term][]byte, len(partials))
	for _, p := range partials {
		x := grouping.Term{J: p.J, I: p.I}
		ignore := func(reason error) { res.Ignored = append(res.Ignored, Ignored{J: p.J, I: p.I, Reason: reason}) }
		switch prev, seen := have[x]; {
		case p.J < 1 || p.J > c.key.K || p.I < 1 || p.I > c.key.L:
			ignore(ErrUnknownShare)
		case c.mod.Check(p.Value) != nil:
			ignore(ErrMalformedPartial)
		case seen && bytes.Equal(prev, p.Value):
			ignore(ErrDuplicate)
		case seen:
			ignore(ErrConflict)
		default:
			have[x] = p.Value
		}
	}
	return have
}

// finisher evaluates representations for one request.
type finisher struct {
	c     *Combiner
	em    []byte
	emInv []byte
	have  map[grouping.Term][]byte
	res   *Result
}

// try computes S = R · M^{c_a} for e and returns S when S^e = M, nil when
// not. A verified representation proves only the product of its partials.
func (f *finisher) try(e *entry) ([]byte, error) {
	f.res.Tried++
	values := make([][]byte, 0, len(e.rep)+1)
	for _, x := range e.rep {
		values = append(values, f.have[x])
	}
	base := f.em
	if e.neg {
		if f.emInv == nil {
			inv, err := f.c.mod.Inverse(f.em)
			if err != nil {
				return nil, fmt.Errorf("combine: encoded message shares a factor with N: %w", err)
			}
			f.emInv = inv
		}
		base = f.emInv
	}
	mc, err := f.c.mod.Exp(base, e.exp.Value()) // M^{c_a}, constant time in c_a
	if err != nil {
		return nil, err
	}
	s, err := f.c.mod.Mul(append(values, mc)...) // R · M^{c_a}, [0093]
	if err != nil {
		return nil, err
	}
	if !f.verify(s) { // [0095]
		return nil, nil
	}
	return s, nil
}

// verify checks S^e = M mod N with the public key.
func (f *finisher) verify(s []byte) bool { return emsa.Verify(f.c.key.PublicKey, s, f.em) }
