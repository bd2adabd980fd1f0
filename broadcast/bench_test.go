package broadcast

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestThousandTasksLossy is issue 4's acceptance test: k=5, t=3, l=2, 1000
// concurrent tasks over a transport with 10% loss, duplicates and
// reordering. About 100 s under -race on two cores; skipped with -short.
func TestThousandTasksLossy(t *testing.T) {
	if testing.Short() {
		t.Skip("1000 tasks take minutes under -short")
	}
	l := start(t, dealing(t, 5, 3, 2, 1), &LocalOptions{
		Memory: &MemoryOptions{Seed: 1000, Faults: Faults{Loss: 0.1, Duplicate: 0.1, Reorder: 0.1}},
	})
	signMany(t, l, 1000, 30*time.Minute)
}

// BenchmarkThroughput measures signatures per second through an in-process
// (5,3,2) cluster with 64 tasks in flight, next to crypto/rsa in the same run.
func BenchmarkThroughput(b *testing.B) {
	b.Run("cluster-5-3-2-inflight64", func(b *testing.B) {
		l := start(b, dealing(b, 5, 3, 2, 1), nil)
		ctx := context.Background()
		var next atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		for range 64 {
			wg.Go(func() {
				for {
					i := next.Add(1)
					if i > int64(b.N) {
						return
					}
					if _, err := l.Distributor().Sign(ctx, request(fmt.Sprint(i))); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sig/s")
	})
	b.Run("crypto-rsa", func(b *testing.B) {
		key := testKey()
		sum := sha256.Sum256([]byte("x"))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:]); err != nil {
					b.Error(err)
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sig/s")
	})
}
