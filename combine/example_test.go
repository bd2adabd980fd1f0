package combine_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/tolerantca/tolerant/combine"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
)

// exampleCluster deals a key with the patent's (5, 3, 2) plan and returns
// the calculators, the first combiner and a request.
func exampleCluster() (*rsa.PrivateKey, []*share.Calculator, *combine.Combiner, *share.Request) {
	key, err := rsa.GenerateKey(rand.Reader, 2048) // in production: the CA's own key
	if err != nil {
		panic(err)
	}
	dl, err := share.NewDealer(rand.Reader, key, 5, 3, 2, nil)
	if err != nil {
		panic(err)
	}
	dealing, err := dl.Deal(grouping.PatentPlan())
	if err != nil {
		panic(err)
	}
	var calcs []*share.Calculator
	for _, ck := range dealing.Calculators {
		c, err := share.NewCalculator(ck, nil)
		if err != nil {
			panic(err)
		}
		calcs = append(calcs, c)
	}
	comb, err := combine.New(dealing.Combiners[0], &combine.Options{Audit: true})
	if err != nil {
		panic(err)
	}
	msg := []byte("TBSCertificate bytes")
	sum := sha256.Sum256(msg)
	req := &share.Request{KeyID: dl.KeyID(), Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15, Content: msg}
	return key, calcs, comb, req
}

// Calculators 2, 3 and 4 answer; combiner 1 ([0085]) finds its stored
// representation (21,32,41) among their partials and finishes the signature,
// which is exactly the one the whole key makes ([0093]).
func ExampleCombiner_Combine() {
	key, calcs, comb, req := exampleCluster()
	ctx := context.Background()
	var partials []share.Partial
	for _, j := range []int{4, 2, 3} { // any order
		p, err := calcs[j-1].Compute(ctx, req)
		if err != nil {
			panic(err)
		}
		partials = append(partials, p...)
	}
	res, err := comb.Combine(ctx, req, partials)
	if err != nil {
		panic(err)
	}
	want, _ := rsa.SignPKCS1v15(nil, key, crypto.SHA256, req.Digest)
	fmt.Println("representation:", res.Rep)
	fmt.Println("same as rsa.SignPKCS1v15:", bytes.Equal(res.Signature, want))

	// With only two calculators there is nothing to combine.
	_, err = comb.Combine(ctx, req, partials[:4])
	fmt.Println(errors.Is(err, combine.ErrNotEnough))
	// Output:
	// representation: (21,32,41)
	// same as rsa.SignPKCS1v15: true
	// true
}

// A calculator that returns a wrong partial is suspected (this plan cannot
// tell it from two colluders, so it is not named), and the signature still
// comes out of the honest ones.
func ExampleResult_Inconsistent() {
	_, calcs, comb, req := exampleCluster()
	ctx := context.Background()
	var partials []share.Partial
	for _, c := range calcs {
		p, err := c.Compute(ctx, req)
		if err != nil {
			panic(err)
		}
		if c.Number() == 1 {
			for n := range p {
				p[n].Value[100] ^= 0x40 // calculator 1 lies
			}
		}
		partials = append(partials, p...)
	}
	res, err := comb.Combine(ctx, req, partials)
	if err != nil {
		panic(err)
	}
	fmt.Println("representation:", res.Rep)
	fmt.Println("inconsistent calculators:", res.Inconsistent)
	fmt.Println("suspects:", res.Suspects)
	// Output:
	// representation: (21,32,41)
	// inconsistent calculators: []
	// suspects: [1 2 3 4 5]
}
