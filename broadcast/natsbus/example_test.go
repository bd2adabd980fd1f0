package natsbus_test

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
	"github.com/tolerantca/tolerant/broadcast/natsbus"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
)

// Example starts an embedded NATS server on a random port, connects two
// buses of one signing cluster to it, as two nodes on two hosts would, and
// broadcasts a message on channel B1: every subscriber receives it, the
// publisher included.
func Example() {
	srv, err := natsbus.StartServer(natsbus.ServerOptions{Port: -1})
	if err != nil {
		fmt.Println("server:", err)
		return
	}
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dial := func(name string) *natsbus.Bus {
		b, err := natsbus.Dial(ctx, natsbus.Options{URL: srv.URL(), Cluster: "example-key", Name: name})
		if err != nil {
			fmt.Println("dial:", err)
			return nil
		}
		return b
	}
	distributor, calculator := dial("distributor-1"), dial("calculator-1")
	if distributor == nil || calculator == nil {
		return
	}
	defer distributor.Close()
	defer calculator.Close()

	subject, _ := natsbus.Subject(distributor.Cluster(), broadcast.B1)
	fmt.Println("subject:", subject)

	// A subscription receives what is published after Subscribe returned.
	sub, err := calculator.SubscribeContext(ctx, broadcast.B1)
	if err != nil {
		fmt.Println("subscribe:", err)
		return
	}
	defer sub.Close()
	if err := distributor.Publish(ctx, broadcast.B1, []byte("task")); err != nil {
		fmt.Println("publish:", err)
		return
	}
	select {
	case msg := <-sub.C():
		fmt.Printf("calculator received %q\n", msg)
	case <-ctx.Done():
		fmt.Println("nothing received")
	}
	// Output:
	// subject: tolerant.example-key.b1
	// calculator received "task"
}

// A (5,3,2) cluster whose nodes each have their own NATS connection, as on
// their own hosts, with calculators 2 and 4 down: the distributor's request
// goes out on B1, partials on B2, the signature comes back on B3.
func ExampleStartCluster() {
	srv, err := natsbus.StartServer(natsbus.ServerOptions{Port: -1})
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	// Offline: split the CA key (crypto/rand.Reader in production).
	key, err := rsa.GenerateKey(rand.Reader, 2048) // in production: the CA's own key
	if err != nil {
		panic(err)
	}
	dealer, err := share.NewDealer(mrand.NewChaCha8([32]byte{}), key, 5, 3, 2, &share.Options{KeyID: "example-ca"})
	if err != nil {
		panic(err)
	}
	dealing, err := dealer.Deal(grouping.PatentPlan()) // the patent's plan ([0084]-[0087])
	if err != nil {
		panic(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cluster, err := natsbus.StartCluster(ctx, srv.URL(), dealing, &natsbus.ClusterOptions{Down: []int{2, 4}})
	if err != nil {
		panic(err)
	}
	defer cluster.Close()

	content := []byte("to be signed")
	digest := sha256.Sum256(content)
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
