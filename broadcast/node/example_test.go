package node_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"time"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/node"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

// Calculator 3 of a (5,3,2) cluster, run inside another program. Here the
// rest of the cluster runs in memory without calculators 3 to 5, so that
// every signature needs this one; in production the transport is a
// natsbus.Bus and the key comes from the node's sealed bundle
// (seal.LoadCalculator). Approve is the calculator's policy: here it
// signs only PKCS#1 v1.5 requests that carry their content; a node
// without one is refused (node.ErrNoApproval).
func ExampleNewCalculator() {
	dealing, cluster := exampleCluster(&broadcast.LocalOptions{Down: []int{3, 4, 5}})
	defer cluster.Close()

	approve := func(_ context.Context, req *share.Request) error {
		if req.Scheme != share.PKCS1v15 || len(req.Content) == 0 {
			return errors.New("refused by this calculator's policy")
		}
		return nil
	}
	calc, err := node.NewCalculator(cluster.Memory().Endpoint("calculator-3"), dealing.Calculators[2],
		&node.Options{Approve: approve})
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- calc.Run(ctx) }() // runs until ctx ends, then drains

	fmt.Println("signed:", exampleSign(cluster.Distributor()))
	stop()
	fmt.Println("drained:", <-done)
	// Output:
	// signed: true
	// drained: <nil>
}

// A crypto.Signer for x509.CreateCertificate from a distributor's key
// material: the public key and the key id come with it.
func ExampleNewDistributor() {
	dealing, cluster := exampleCluster(&broadcast.LocalOptions{NoDistributor: true})
	defer cluster.Close()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	dist, _ := node.NewDistributor(cluster.Memory().Endpoint("distributor-1"), dealing.Distributors[0], nil)
	go dist.Run(ctx)
	signer, _ := x509sign.FromCluster(dist.Distributor(), nil)
	digest := sha256.Sum256([]byte("tbsCertificate"))
	sig, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)

	fmt.Println(err, rsa.VerifyPKCS1v15(signer.Public().(*rsa.PublicKey), crypto.SHA256, digest[:], sig) == nil)
	// Output: <nil> true
}

// exampleCluster deals the test key of testdata (deterministically: use
// crypto/rand.Reader in production) and runs every node but those
// nodes opts leaves out in memory.
func exampleCluster(opts *broadcast.LocalOptions) (*share.Dealing, *broadcast.Local) {
	b, err := os.ReadFile("testdata/ca-key.pem")
	if err != nil {
		panic(err)
	}
	block, _ := pem.Decode(b)
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		panic(err)
	}
	dealer, err := share.NewDealer(mrand.NewChaCha8([32]byte{}), key.(*rsa.PrivateKey), 5, 3, 2, nil)
	if err != nil {
		panic(err)
	}
	dealing, err := dealer.Deal(grouping.PatentPlan()) // the patent's plan ([0084]-[0087])
	if err != nil {
		panic(err)
	}
	cluster, err := broadcast.StartLocal(context.Background(), dealing, opts)
	if err != nil {
		panic(err)
	}
	return dealing, cluster
}

// exampleSign signs a request through d and reports whether the signature verifies.
func exampleSign(d *broadcast.Distributor) bool {
	content := []byte("to be signed")
	digest := sha256.Sum256(content)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sig, err := d.Sign(ctx, &share.Request{Hash: crypto.SHA256, Digest: digest[:], Scheme: share.PKCS1v15, Content: content})
	return err == nil && rsa.VerifyPKCS1v15(d.PublicKey(), crypto.SHA256, digest[:], sig) == nil
}
