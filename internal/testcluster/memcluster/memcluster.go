// Package memcluster runs a dealing's whole cluster in process on the
// in-memory broadcast for tests: it starts the cluster and stops it when
// the test ends, makes chosen calculators lie, and gives an x509sign
// Signer over it. It is for tests only.
//
// broadcast's in-package tests cannot import it (it imports broadcast);
// they use [github.com/tolerantca/tolerant/internal/testcluster] and
// broadcast.StartLocal directly.
package memcluster

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/faults"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

// Start starts d's cluster as opts says (broadcast.StartLocal) and closes
// it when the test ends.
func Start(tb testing.TB, d *share.Dealing, opts *broadcast.LocalOptions) *broadcast.Local {
	tb.Helper()
	l, err := broadcast.StartLocal(context.Background(), d, opts)
	require.NoError(tb, err, "broadcast.StartLocal")
	tb.Cleanup(func() { l.Close() })
	return l
}

// Deal deals (k, t, l) as dopts says (testcluster.Dealer) and starts the
// cluster as opts says (Start).
func Deal(tb testing.TB, k, t, l int, dopts *testcluster.Options, opts *broadcast.LocalOptions) (*broadcast.Local, *share.Dealer) {
	tb.Helper()
	dl, d := testcluster.Dealer(tb, k, t, l, dopts)
	return Start(tb, d, opts), dl
}

// Liars returns a copy of opts under which the calculators liars of d send
// wrong partials (faults.Liar) over the endpoints of a new Memory, every
// combiner checks every partial (LocalOptions.Audit) and the distributor
// waits linger for late results after a signature
// (DistributorOptions.Linger), so that the liars are named in the
// outcome. Without liars it returns opts unchanged. Call it before Start:
// the Memory is closed when the test ends, after the cluster.
func Liars(tb testing.TB, d *share.Dealing, opts *broadcast.LocalOptions, linger time.Duration, liars ...int) *broadcast.LocalOptions {
	tb.Helper()
	if len(liars) == 0 {
		return opts
	}
	var o broadcast.LocalOptions
	if opts != nil {
		o = *opts
	}
	var keys []*share.CalculatorKey
	for _, ck := range d.Calculators {
		if slices.Contains(liars, ck.Number) {
			keys = append(keys, ck)
		}
	}
	require.Len(tb, keys, len(liars), "liars %v among calculators 1..%d", liars, len(d.Calculators))
	mem := broadcast.NewMemory(nil)
	tb.Cleanup(func() { mem.Close() })
	var dist broadcast.DistributorOptions
	if o.Distributor != nil {
		dist = *o.Distributor
	}
	dist.Linger = linger
	o.Transport, o.Audit, o.Distributor = faults.Transport(mem, keys), true, &dist
	return &o
}

// Signer returns an x509sign.Signer for dl's key over c, e.g. a Local's
// distributor.
func Signer(tb testing.TB, dl *share.Dealer, c x509sign.Cluster, opts *x509sign.Options) *x509sign.Signer {
	tb.Helper()
	s, err := x509sign.New(dl.PublicKey(), dl.KeyID(), c, opts)
	require.NoError(tb, err, "x509sign.New")
	return s
}
