package broadcast_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
)

// A whole (5,3,2) cluster in one process, with two calculators down.
func ExampleStartLocal() {
	key, err := rsa.GenerateKey(rand.Reader, 2048) // in production: the CA's own key
	if err != nil {
		panic(err)
	}
	dealer, err := share.NewDealer(mrand.NewChaCha8([32]byte{}), key, 5, 3, 2, nil) // crypto/rand.Reader in production
	if err != nil {
		panic(err)
	}
	dealing, err := dealer.Deal(grouping.PatentPlan()) // the patent's plan ([0084]-[0087])
	if err != nil {
		panic(err)
	}

	cluster, err := broadcast.StartLocal(context.Background(), dealing, &broadcast.LocalOptions{Down: []int{2, 4}})
	if err != nil {
		panic(err)
	}
	defer cluster.Close()

	content := []byte("to be signed")
	digest := sha256.Sum256(content)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := cluster.Distributor().SignDetailed(ctx, &share.Request{
		Hash: crypto.SHA256, Digest: digest[:], Scheme: share.PKCS1v15, Content: content,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("verifies:", rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], out.Signature) == nil)
	fmt.Println("calculators used:", out.Rep.Calculators())
	// Output:
	// verifies: true
	// calculators used: [1 3 5]
}
