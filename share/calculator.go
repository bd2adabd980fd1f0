package share

import (
	"context"
	"fmt"

	"github.com/tolerantca/tolerant/internal/ctexp"
	"github.com/tolerantca/tolerant/internal/redact"
)

// ApproveFunc is the operator's confirmation ([0092], [0110], [0113]): it is
// called with a checked request before any secret is used, and declines the
// request by returning an error. It may block (waiting for a person) and
// should honour ctx.
type ApproveFunc func(ctx context.Context, req *Request) error

// Partial is one calculator's result for one of its shares: Value = M^{d_ji}
// mod N, big-endian, exactly the modulus size in bytes ([0042] step G).
type Partial struct {
	J     int // calculator number
	I     int // share number inside the calculator
	Value []byte
}

// Calculator is a secret share calculator: it holds l shares of one key and
// exponentiates checked requests with them ([0092]).
type Calculator struct {
	key     *CalculatorKey
	mod     *ctexp.Modulus
	exps    redact.Hidden[[][]byte] // exps[i-1] = d_ji as fixed-length bytes
	approve ApproveFunc
}

// NewCalculator prepares key for signing. approve may be nil, which approves
// every well-formed request.
func NewCalculator(key *CalculatorKey, approve ApproveFunc) (*Calculator, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: nil key", ErrMalformed)
	}
	if err := key.Validate(); err != nil {
		return nil, err
	}
	mod, err := ctexp.NewModulus(key.PublicKey.N)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	sb, _ := key.ExponentBytes()
	var exps [][]byte
	for _, s := range key.Shares {
		e, err := ctexp.FixedBytes(s, sb)
		if err != nil {
			return nil, fmt.Errorf("%w: share too long", ErrMalformed)
		}
		exps = append(exps, e)
	}
	return &Calculator{key: key, mod: mod, exps: redact.Hide(exps), approve: approve}, nil
}

// Number returns the calculator's number j.
func (c *Calculator) Number() int { return c.key.Number }

// Meta returns the public part of the calculator's key material.
func (c *Calculator) Meta() Meta { return c.key.Meta }

// Prepared is a request that passed every check and the approval hook.
type Prepared struct {
	c  *Calculator
	em []byte
}

// Prepare checks req ([0110]: key id, digest, content hash, encoding) and asks
// the approval hook. Only a Prepared request can be exponentiated.
func (c *Calculator) Prepare(ctx context.Context, req *Request) (*Prepared, error) {
	if req == nil || req.KeyID != c.key.KeyID {
		return nil, ErrWrongKey
	}
	em, err := req.Encode(c.key.PublicKey)
	if err != nil {
		return nil, err
	}
	if c.approve != nil {
		if err := c.approve(ctx, req); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDeclined, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &Prepared{c: c, em: em}, nil
}

// Shares returns l, the number of partials this calculator produces.
func (p *Prepared) Shares() int { return len(p.c.exps.Value()) }

// Partial computes M^{d_ji} for share i (1..l) in constant time ([0092]).
// Each result may be sent as soon as it is ready.
func (p *Prepared) Partial(i int) (Partial, error) {
	exps := p.c.exps.Value()
	if i < 1 || i > len(exps) {
		return Partial{}, fmt.Errorf("share: no share %d", i)
	}
	v, err := p.c.mod.Exp(p.em, exps[i-1])
	if err != nil {
		return Partial{}, err
	}
	return Partial{J: p.c.key.Number, I: i, Value: v}, nil
}

// Compute checks req, asks for approval, and returns the partials for all of
// the calculator's shares ([0092]).
func (c *Calculator) Compute(ctx context.Context, req *Request) ([]Partial, error) {
	p, err := c.Prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make([]Partial, 0, p.Shares())
	for i := 1; i <= p.Shares(); i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		part, err := p.Partial(i)
		if err != nil {
			return nil, err
		}
		out = append(out, part)
	}
	return out, nil
}
