package broadcast

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tolerantca/tolerant/share"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start starts d's cluster in process (StartLocal) and closes it when the
// test ends; the dealings come from package internal/testcluster, whose
// plan by default is the patent's first-fit greedy (grouping.FirstFit,
// [0076]-[0083]): its first combiner holds many representations, so that
// the tests can see a lone liar proven and named.
func start(tb testing.TB, d *share.Dealing, opts *LocalOptions) *Local {
	tb.Helper()
	l, err := StartLocal(context.Background(), d, opts)
	require.NoError(tb, err, "StartLocal")
	tb.Cleanup(func() { l.Close() })
	return l
}
