package testcluster

import (
	"context"
	"crypto/rsa"
	"math/big"

	"github.com/tolerantca/tolerant/share"
)

// WholeKey signs with the whole key: a stand-in for a cluster that
// exponentiates exactly the encoding a calculator builds or checks
// (Request.Encode), so that code above a cluster can be tested without one.
type WholeKey struct{ Key *rsa.PrivateKey }

// Sign returns req's encoding raised to the private exponent (RFC 8017
// section 5.2.1, RSASP1), as many bytes as the modulus.
func (w WholeKey) Sign(_ context.Context, req *share.Request) ([]byte, error) {
	em, err := req.Encode(&w.Key.PublicKey)
	if err != nil {
		return nil, err
	}
	m := new(big.Int).SetBytes(em)
	return m.Exp(m, w.Key.D, w.Key.N).FillBytes(make([]byte, w.Key.Size())), nil
}
