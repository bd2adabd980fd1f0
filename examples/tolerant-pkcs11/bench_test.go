package main

import (
	"context"
	"crypto"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tolerantca/tolerant/x509sign"
)

// parallel16 runs n calls of f spread over 16 workers, each with its own
// worker number, and reports signatures per second.
func parallel16(b *testing.B, f func(worker, i int) error) {
	b.Helper()
	work := make(chan int)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range 16 {
		wg.Go(func() {
			for i := range work {
				if err := f(w, i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := 0; i < b.N; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sigs/s")
	select {
	case err := <-errs:
		require.NoError(b, err)
	default:
	}
}

// BenchmarkSign16Sessions signs with CKM_SHA256_RSA_PKCS through the
// module's token, 16 sessions at once, on an in-process (5,3,2) cluster.
func BenchmarkSign16Sessions(b *testing.B) {
	tt := newTestToken(b)
	tt.timeout = time.Minute
	var hs [16]uint
	for w := range hs {
		hs[w], _ = tt.openSession(slotID, ckfSerialSession)
	}
	require.Equal(b, uint(ckrOK), tt.login(hs[0], ckuUser, []byte(testPIN)), "login")
	b.ResetTimer()
	parallel16(b, func(w, i int) error {
		if rv := tt.signInit(hs[w], ckmSHA256RSAPKCS, pssParams{}, hPrivateKey); rv != ckrOK {
			return fmt.Errorf("init: %#x", rv)
		}
		if _, _, rv := tt.finish(context.Background(), hs[w], fmt.Appendf(nil, "tbs %d", i), true, 512); rv != ckrOK {
			return fmt.Errorf("sign: %#x", rv)
		}
		return nil
	})
}

// BenchmarkGoSigner16 is the same through x509sign's Signer directly,
// the path of a Go CA that imports the library.
func BenchmarkGoSigner16(b *testing.B) {
	tt := newTestToken(b)
	tt.timeout = time.Minute
	s, err := x509sign.New(&tt.key.PublicKey, tt.local.Distributor().KeyID(), tt.local.Distributor(), nil)
	require.NoError(b, err)
	b.ResetTimer()
	parallel16(b, func(_, i int) error {
		_, err := s.SignMessage(nil, fmt.Appendf(nil, "tbs %d", i), crypto.SHA256)
		return err
	})
}
