package share_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
)

// Split a CA key with the patent's (k=5, t=3, l=2) plan ([0084]-[0087]) and
// hand each node its key material.
func ExampleDealer_Deal() {
	key, err := rsa.GenerateKey(rand.Reader, 2048) // in production: the CA's own key
	if err != nil {
		panic(err)
	}
	dl, err := share.NewDealer(rand.Reader, key, 5, 3, 2, &share.Options{KeyID: "example-ca"})
	if err != nil {
		panic(err)
	}
	dealing, err := dl.Deal(grouping.PatentPlan())
	if err != nil {
		panic(err)
	}
	fmt.Println(dl)
	for _, c := range dealing.Calculators[:2] {
		fmt.Println(c) // key material prints without its secrets
	}
	for _, c := range dealing.Combiners {
		fmt.Println(c, c.Reps()[0])
	}
	// Output:
	// share.Dealer{key example-ca, epoch 0, k=5 t=3 l=2, 2176-bit shares}
	// calculator 1 of key example-ca (epoch 0, k=5 t=3 l=2)
	// calculator 2 of key example-ca (epoch 0, k=5 t=3 l=2)
	// combiner 1 of key example-ca (epoch 0, k=5 t=3 l=2, 5 representations) (11,22,31)
	// combiner 2 of key example-ca (epoch 0, k=5 t=3 l=2, 5 representations) (11,21,42)
	// combiner 3 of key example-ca (epoch 0, k=5 t=3 l=2, 5 representations) (11,32,41)
}

// The second sub-secret-key of a representation completes its t shares to d
// over the integers ([0069]): d = d_11 + d_22 + d_31 + c_(11,22,31).
func ExampleDealer_SecondKey() {
	key, err := rsa.GenerateKey(rand.Reader, 2048) // in production: the CA's own key
	if err != nil {
		panic(err)
	}
	for _, length := range []share.ShareLength{share.FullLength, share.HalfLength} {
		dl, err := share.NewDealer(rand.Reader, key, 3, 2, 2, &share.Options{Length: length})
		if err != nil {
			panic(err)
		}
		rep := grouping.Rep{{J: 1, I: 1}, {J: 2, I: 2}}
		c, err := dl.SecondKey(rep)
		if err != nil {
			panic(err)
		}
		sum := new(big.Int).Set(c)
		for _, x := range rep {
			ck, _ := dl.Calculator(x.J)
			sum.Add(sum, ck.Shares[x.I-1])
		}
		fmt.Printf("%v shares: c%v is %s, sum equals d: %v\n", length, rep, map[int]string{-1: "negative", 1: "positive"}[c.Sign()], sum.Cmp(key.D) == 0)
	}
	// Output:
	// full (|N|+128 bits) shares: c(11,22) is negative, sum equals d: true
	// half (|N|/2 bits, patent) shares: c(11,22) is positive, sum equals d: true
}

// A calculator checks every request before it uses a share ([0092], [0110]):
// it recomputes the content's hash and builds the PKCS #1 v1.5 encoding
// itself, then asks its approval hook.
func ExampleCalculator_Compute() {
	key, err := rsa.GenerateKey(rand.Reader, 2048) // in production: the CA's own key
	if err != nil {
		panic(err)
	}
	dl, err := share.NewDealer(rand.Reader, key, 3, 2, 2, nil)
	if err != nil {
		panic(err)
	}
	ck, _ := dl.Calculator(1)
	approve := func(_ context.Context, req *share.Request) error {
		if string(req.Content) == "forbidden" {
			return errors.New("not on today's list")
		}
		return nil
	}
	calc, err := share.NewCalculator(ck, approve)
	if err != nil {
		panic(err)
	}
	request := func(content string) *share.Request {
		sum := sha256.Sum256([]byte(content))
		return &share.Request{KeyID: dl.KeyID(), Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15, Content: []byte(content)}
	}
	ctx := context.Background()

	parts, err := calc.Compute(ctx, request("TBSCertificate bytes"))
	if err != nil {
		panic(err)
	}
	for _, p := range parts {
		fmt.Printf("partial of share %d.%d: %d bytes\n", p.J, p.I, len(p.Value))
	}

	tampered := request("TBSCertificate bytes")
	tampered.Content = []byte("something else")
	_, err = calc.Compute(ctx, tampered)
	fmt.Println(errors.Is(err, share.ErrContentMismatch))

	_, err = calc.Compute(ctx, request("forbidden"))
	fmt.Println(errors.Is(err, share.ErrDeclined))
	// Output:
	// partial of share 1.1: 256 bytes
	// partial of share 1.2: 256 bytes
	// true
	// true
}

// Key material goes to disk as JSON (plaintext: seal it before it leaves
// the dealer) and is checked when it is read back.
func ExampleParseCalculatorKey() {
	key, err := rsa.GenerateKey(rand.Reader, 2048) // in production: the CA's own key
	if err != nil {
		panic(err)
	}
	dl, err := share.NewDealer(rand.Reader, key, 3, 2, 1, &share.Options{KeyID: "example-ca", Epoch: 2})
	if err != nil {
		panic(err)
	}
	ck, _ := dl.Calculator(3)
	b, err := ck.Marshal()
	if err != nil {
		panic(err)
	}
	back, err := share.ParseCalculatorKey(b)
	if err != nil {
		panic(err)
	}
	fmt.Println(back)
	_, err = share.ParseCalculatorKey(b[:len(b)/2])
	fmt.Println(errors.Is(err, share.ErrMalformed))
	// Output:
	// calculator 3 of key example-ca (epoch 2, k=3 t=2 l=1)
	// true
}
