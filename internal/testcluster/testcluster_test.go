package testcluster

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
)

// TestDealDefaults: a nil Options deals the 2048-bit test key with the
// seed k, t, l over grouping.FirstFit's plan; Search takes
// grouping.Search's; both dealings are the same every run.
func TestDealDefaults(t *testing.T) {
	d := Deal(t, 3, 2, 1, nil)
	again := Deal(t, 3, 2, 1, &Options{Key: Key(testkeys.RSA2048), Seed: 0x010203, Redundancy: 1})
	first, err := grouping.FirstFit(3, 2, 1, nil)
	require.NoError(t, err)
	require.True(t, first.Equal(d.Plan), "plan %v, want FirstFit's %v", d.Plan, first)
	require.True(t, Key(testkeys.RSA2048).PublicKey.Equal(d.Calculators[0].PublicKey))
	require.Zero(t, d.Calculators[0].Shares[0].Cmp(again.Calculators[0].Shares[0]), "the defaults are seed k, t, l and the 2048-bit key")

	s := Deal(t, 3, 2, 1, &Options{Search: true})
	searched, _, err := grouping.Search(3, 2, 1, nil)
	require.NoError(t, err)
	require.True(t, searched.Equal(s.Plan), "plan %v, want Search's %v", s.Plan, searched)
}

// TestRequestSigns: the in-process calculators and Want agree with
// crypto/rsa on a Request.
func TestRequestSigns(t *testing.T) {
	d := Deal(t, 3, 2, 1, nil)
	calcs := Calculators(t, d)
	require.Len(t, calcs, 3)
	req := Request("m")
	req.KeyID = d.Calculators[0].KeyID
	parts := Partials(t, calcs, req, 1, 3)
	require.Len(t, parts, 2)
	require.Equal(t, 1, parts[0].J)
	require.Equal(t, 3, parts[1].J)
	want := Want(t, nil, "m")
	require.NoError(t, rsa.VerifyPKCS1v15(&Key(testkeys.RSA2048).PublicKey, req.Hash, req.Digest, want))
	require.True(t, bytes.Equal(want, Want(t, Key(testkeys.RSA2048), "m")))
}

func TestLoggerBuffer(t *testing.T) {
	log, buf := Logger()
	log.Debug("hello", "n", 1)
	require.Contains(t, buf.String(), "msg=hello n=1")
}

func TestLoopCounts(t *testing.T) {
	bad := errors.New("odd")
	loop := StartLoop(context.Background(), func(i int) error {
		if i%2 == 1 {
			return bad
		}
		return nil
	})
	require.Eventually(t, func() bool { return loop.Signed() >= 3 && loop.Failed() >= 3 }, 5*time.Second, time.Millisecond)
	loop.Stop()
	signed, failed, errs := loop.Signed(), loop.Failed(), loop.Errors()
	require.InDelta(t, signed, failed, 1, "every other call fails")
	require.Len(t, errs, int(failed), "one error kept per failure")
	for _, err := range errs {
		require.ErrorIs(t, err, bad)
	}
	time.Sleep(10 * time.Millisecond)
	require.Equal(t, signed, loop.Signed(), "no signing after Stop")
}
