package broadcast_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/testcluster/memcluster"
)

// nopObserver observes nothing.
type nopObserver struct{}

func (nopObserver) Observe(*broadcast.Event) {}

// failingRecorder records nothing and fails once told to.
type failingRecorder struct{ failed atomic.Bool }

func (r *failingRecorder) Observe(*broadcast.Event) {}

func (r *failingRecorder) Err() error {
	if r.failed.Load() {
		return errors.New("disk full")
	}
	return nil
}

// TestRegressionSignatureWithheldWhenNotRecorded: a distributor whose audit
// log failed went on releasing signatures, so a CA's signature could leave
// without its record. Once its Recorder has failed it withholds them, also
// behind Observers.
func TestRegressionSignatureWithheldWhenNotRecorded(t *testing.T) {
	for _, wrap := range []bool{false, true} {
		rec := &failingRecorder{}
		var obs broadcast.Observer = rec
		if wrap {
			obs = broadcast.Observers(nopObserver{}, rec)
		}
		l := memcluster.Start(t, testcluster.Deal(t, 5, 3, 2, nil), &broadcast.LocalOptions{
			Distributor: &broadcast.DistributorOptions{Observer: obs},
		})
		sig, err := l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), testcluster.Request("recorded"))
		require.NoError(t, err)
		require.Equal(t, testcluster.Want(t, nil, "recorded"), sig)

		rec.failed.Store(true)
		sig, err = l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), testcluster.Request("not recorded"))
		require.ErrorIs(t, err, broadcast.ErrNotRecorded, "behind Observers: %v", wrap)
		require.Nil(t, sig, "no signature leaves without its record")
	}
}
