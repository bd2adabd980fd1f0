package natsbus_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/natsbus"
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
