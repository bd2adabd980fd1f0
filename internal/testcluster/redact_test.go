package testcluster

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/redact/redacttest"
	"github.com/tolerantca/tolerant/internal/testkeys"
)

// TestRedactOptions: Options and WholeKey hold a private key; printed in any
// way, by value or by pointer, it shows none of d, p or q.
func TestRedactOptions(t *testing.T) {
	key := Key(testkeys.RSA2048)
	forms := redacttest.Forms(t, key.D, key.Primes[0], key.Primes[1])
	o := Options{Key: key, Seed: 7, Search: true}
	redacttest.NoLeak(t, "Options", o, forms)
	redacttest.NoLeak(t, "*Options", &o, forms)
	w := WholeKey{Key: key}
	redacttest.NoLeak(t, "WholeKey", w, forms)
	redacttest.NoLeak(t, "*WholeKey", &w, forms)
	require.Contains(t, redacttest.Known, "testcluster.Options")
	require.Contains(t, redacttest.Known, "testcluster.WholeKey")
}
