package broadcast

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// serve is the Run of a calculator or combiner node: it runs loop once
// (ran guards a second call) with a context that ends when Run returns and
// a WaitGroup for the goroutines loop starts; when loop returns it
// cancels that context, closes the node, waits for the goroutines and
// then calls after, if not nil.
func serve(ctx context.Context, ran *atomic.Bool, role string, closeNode func() error, after func(),
	loop func(context.Context, *sync.WaitGroup) error) error {
	if !ran.CompareAndSwap(false, true) {
		return fmt.Errorf("broadcast: %s node already ran", role)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		closeNode()
		wg.Wait()
		if after != nil {
			after()
		}
	}()
	return loop(ctx, &wg)
}
