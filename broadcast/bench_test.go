package broadcast

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/testkeys"
)

// TestThousandTasksLossy is the acceptance test of the protocol: k=5, t=3, l=2, 1000
// concurrent tasks over a transport with 10% loss, duplicates and
// reordering. About 100 s under -race on two cores; skipped with -short.
func TestThousandTasksLossy(t *testing.T) {
	if testing.Short() {
		t.Skip("1000 tasks take minutes under -short")
	}
	// All 1000 tasks are stamped when they are submitted; on a loaded
	// machine under -race the last ones start more than the calculators'
	// default 10-minute window later and would be refused as stale. The
	// window is not what this test is about, so it spans the test's limit.
	const limit = 30 * time.Minute
	l := start(t, testcluster.Deal(t, 5, 3, 2, nil), &LocalOptions{
		Memory:     &MemoryOptions{Seed: 1000, Faults: Faults{Loss: 0.1, Duplicate: 0.1, Reorder: 0.1}},
		Calculator: &CalculatorOptions{Window: limit},
	})
	signMany(t, l, 1000, limit)
}

// BenchmarkThroughput measures signatures per second through an in-process
// (5,3,2) cluster with 64 tasks in flight, next to crypto/rsa in the same run:
// exps/sig is the full exponentiations per signature (partials computed plus
// combinations), ratio the cluster's rate over crypto/rsa's on all cores
// (the mean of its rates just before and just after, against the load of a
// shared machine), cpu-ratio the same per second of the process's CPU time,
// which the other processes of a shared machine change less.
func BenchmarkThroughput(b *testing.B) {
	b.Run("cluster-5-3-2-inflight64", func(b *testing.B) {
		l := start(b, testcluster.Deal(b, 5, 3, 2, nil), nil)
		cpu0 := cpuTime()
		before := rsaRate(b, 500)
		rsaCPU := cpuTime() - cpu0
		b.ResetTimer()
		cpu0 = cpuTime()
		signInFlight(b, l, 64)
		b.StopTimer()
		clusterCPU := cpuTime() - cpu0
		rate := float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(rate, "sig/s")
		b.ReportMetric(float64(exponentiations(l))/float64(b.N), "exps/sig")
		cpu0 = cpuTime()
		b.ReportMetric(rate/((before+rsaRate(b, 500))/2), "ratio")
		if rsaCPU += cpuTime() - cpu0; clusterCPU > 0 && rsaCPU > 0 {
			b.ReportMetric((float64(b.N)/clusterCPU.Seconds())/(1000/rsaCPU.Seconds()), "cpu-ratio")
		}
	})
	b.Run("crypto-rsa", func(b *testing.B) {
		key := testcluster.Key(testkeys.RSA2048)
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

// signInFlight signs b.N requests through l's distributor with inflight
// signing calls at a time; each goroutine stops at its first error.
func signInFlight(b *testing.B, l *Local, inflight int) {
	b.Helper()
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range inflight {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if _, err := l.Distributor().Sign(ctx, testcluster.Request(fmt.Sprint(i))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// exponentiations returns the partials the calculators of l computed and
// the combinations its combiners ran, once the work left has settled: the
// tasks still queued when the last signature verified are dropped.
func exponentiations(l *Local) uint64 {
	count := func() (n uint64) {
		for _, c := range l.calcs {
			n += c.Stats().Partials
		}
		for _, c := range l.combs {
			n += c.Stats().Combines
		}
		return n
	}
	last := count()
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		n := count()
		if n == last {
			break
		}
		last = n
	}
	return last
}

// rsaRate returns crypto/rsa's PKCS#1 v1.5 signatures per second on all
// cores, over n signatures.
func rsaRate(tb testing.TB, n int) float64 {
	key := testcluster.Key(testkeys.RSA2048)
	sum := sha256.Sum256([]byte("x"))
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:]); err != nil {
					tb.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}
