package broadcast

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha512"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/emsa"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/internal/wire"
	"github.com/tolerantca/tolerant/share"
)

func TestSignMatchesCryptoRSA(t *testing.T) {
	for _, p := range [][3]int{{3, 2, 1}, {5, 3, 2}} {
		t.Run(fmt.Sprintf("k%d_t%d_l%d", p[0], p[1], p[2]), func(t *testing.T) {
			l := start(t, testcluster.Deal(t, p[0], p[1], p[2], nil), nil)
			msg := "tbs certificate " + t.Name()
			out, err := l.Distributor().SignDetailed(testcluster.Timeout(t, 20*time.Second), testcluster.Request(msg))
			require.NoError(t, err)
			require.Equal(t, testcluster.Want(t, nil, msg), out.Signature, "signature differs from rsa.SignPKCS1v15")
			assert.GreaterOrEqual(t, out.Combiner, 1, "combiner, outcome %+v", out)
			assert.Len(t, out.Rep, p[1], "rep of t terms, outcome %+v", out)
			assert.GreaterOrEqual(t, len(out.Calculators), p[1], "at least t calculators, outcome %+v", out)
			assert.Empty(t, out.Inconsistent, "inconsistent calculators, outcome %+v", out)
			assert.Subset(t, out.Calculators, out.Rep.Calculators(), "rep %v uses calculators not in %v", out.Rep, out.Calculators)
			t.Logf("combiner %d rep %v calculators %v acks %v in %v", out.Combiner, out.Rep, out.Calculators, out.Acks, out.Elapsed)
		})
	}
}

func TestSignPSS(t *testing.T) {
	l := start(t, testcluster.Deal(t, 5, 3, 2, nil), nil)
	sum := sha512.Sum384([]byte("pss content"))
	pub := &testcluster.Key(testkeys.RSA2048).PublicKey
	// Encoded by the caller.
	em, err := emsa.PSSEncode(rand.NewChaCha8([32]byte{1}), crypto.SHA384, sum[:], emsa.SaltLengthEqualsHash, pub.N.BitLen())
	require.NoError(t, err)
	req := &share.Request{Hash: crypto.SHA384, Digest: sum[:], Scheme: share.PSS, Encoded: em, SaltLength: emsa.SaltLengthEqualsHash, Content: []byte("pss content")}
	sig, err := l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), req)
	require.NoError(t, err)
	require.NoError(t, rsa.VerifyPSS(pub, crypto.SHA384, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}), "signature of the caller's encoding")
	// Encoded by the distributor.
	req = &share.Request{Hash: crypto.SHA384, Digest: sum[:], Scheme: share.PSS}
	sig, err = l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), req)
	require.NoError(t, err)
	require.NoError(t, rsa.VerifyPSS(pub, crypto.SHA384, sum[:], sig, nil), "signature of the distributor's encoding")
	assert.Nil(t, req.Encoded, "the caller's request was modified")
}

func TestTwoCalculatorsDown(t *testing.T) {
	l := start(t, testcluster.Deal(t, 5, 3, 2, nil), &LocalOptions{Down: []int{1, 4}})
	out, err := l.Distributor().SignDetailed(testcluster.Timeout(t, 20*time.Second), testcluster.Request("two down"))
	require.NoError(t, err)
	require.Equal(t, testcluster.Want(t, nil, "two down"), out.Signature, "signature differs from rsa.SignPKCS1v15")
	assert.Equal(t, []int{2, 3, 5}, out.Calculators, "calculators")
}

func TestTwoCalculatorsAndOneCombinerDown(t *testing.T) {
	d := testcluster.Deal(t, 5, 3, 2, &testcluster.Options{Redundancy: 2}) // every calculator set served by two combiners
	for c := 1; c <= len(d.Combiners); c++ {
		l := start(t, d, &LocalOptions{Down: []int{2, 5}, CombinersDown: []int{c}})
		out, err := l.Distributor().SignDetailed(testcluster.Timeout(t, 20*time.Second), testcluster.Request("one combiner down"))
		require.NoError(t, err, "combiner %d down", c)
		assert.NotEqual(t, c, out.Combiner, "signed by combiner %d, which is down", c)
		l.Close()
	}
}

func TestThreeCalculatorsDown(t *testing.T) {
	l := start(t, testcluster.Deal(t, 5, 3, 2, nil), &LocalOptions{Down: []int{1, 3, 5}})
	begin := time.Now()
	_, err := l.Distributor().Sign(testcluster.Timeout(t, 700*time.Millisecond), testcluster.Request("three down"))
	assert.LessOrEqual(t, time.Since(begin), 2*time.Second, "returned after the 700 ms deadline")
	for _, target := range []error{ErrDeadline, ErrNotEnoughCalculators, context.DeadlineExceeded} {
		assert.ErrorIs(t, err, target)
	}
	var se *SignError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, []int{2, 4}, se.Acks, "acknowledged by")
	t.Log(err)
	l.Close() // goleak in TestMain checks that nothing is left behind
}

func TestCalculatorStoppedMidway(t *testing.T) {
	l := start(t, testcluster.Deal(t, 5, 3, 2, nil), nil)
	_, err := l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), testcluster.Request("before"))
	require.NoError(t, err)
	l.StopCalculator(2)
	l.StopCalculator(3)
	_, err = l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), testcluster.Request("after two crashes"))
	require.NoError(t, err)
	l.StopCalculator(4)
	_, err = l.Distributor().Sign(testcluster.Timeout(t, 500*time.Millisecond), testcluster.Request("after three"))
	require.ErrorIs(t, err, ErrNotEnoughCalculators)
}

func TestReplayNotComputedTwice(t *testing.T) {
	d := testcluster.Deal(t, 3, 2, 1, nil)
	l := start(t, d, nil)
	mem := l.Memory()
	sub, err := mem.Subscribe(B1)
	require.NoError(t, err)
	defer sub.Close()
	out, err := l.Distributor().SignDetailed(testcluster.Timeout(t, 20*time.Second), testcluster.Request("replay"))
	require.NoError(t, err)
	// Capture the task packet as it went over B1, then replay it.
	var task []byte
	for task == nil {
		msg := <-sub.C()
		if typ, _ := wire.PeekType(msg); typ == wire.TypeTask {
			task = msg
		}
	}
	// Every calculator finishes its own partial (t=2 others may have
	// sufficed for the signature).
	waitFor(t, func() bool {
		for j := 1; j <= 3; j++ {
			if l.Calculator(j).Stats().Partials != 1 {
				return false
			}
		}
		return true
	})
	before := map[int]CalculatorStats{}
	for j := 1; j <= 3; j++ {
		before[j] = l.Calculator(j).Stats()
	}
	for range 3 {
		require.NoError(t, mem.Publish(context.Background(), B1, task))
	}
	// A different request under the same task number: rejected unsigned,
	// and a conflict when the distributor itself signed it.
	p, err := unwrap(task)
	require.NoError(t, err)
	forged := p.(*wire.Task)
	forged.Request.Content = []byte("something else")
	forged.Request.Digest = bytes.Repeat([]byte{1}, 32)
	fb, _ := wire.Marshal(forged)
	mem.Publish(context.Background(), B1, fb)
	mem.Publish(context.Background(), B1, sealAs(t, d.Distributors[0].NodeKey, forged))
	waitFor(t, func() bool {
		for j := 1; j <= 3; j++ {
			s := l.Calculator(j).Stats()
			if s.Duplicates < before[j].Duplicates+3 || s.Conflicts < 1 || s.Rejected < 1 {
				return false
			}
		}
		return true
	})
	for j := 1; j <= 3; j++ {
		s := l.Calculator(j).Stats()
		assert.Equal(t, before[j].Tasks, s.Tasks, "calculator %d computed again: tasks, stats %+v", j, s)
		assert.Equal(t, before[j].Partials, s.Partials, "calculator %d computed again: partials, stats %+v", j, s)
	}
	_ = out
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, "condition not reached in 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestManyConcurrentTasks(t *testing.T) {
	n := 50
	if testing.Short() {
		n = 16
	}
	l := start(t, testcluster.Deal(t, 5, 3, 2, nil), nil)
	signMany(t, l, n, 60*time.Second)
}

func signMany(t *testing.T, l *Local, n int, limit time.Duration) {
	t.Helper()
	ctx := testcluster.Timeout(t, limit)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			msg := fmt.Sprintf("task %d", i)
			sig, err := l.Distributor().Sign(ctx, testcluster.Request(msg))
			if err == nil && !bytes.Equal(sig, testcluster.Want(t, nil, msg)) {
				err = errors.New("wrong signature")
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "task %d", i)
	}
	t.Logf("%d tasks: distributor %+v, transport %+v", n, l.Distributor().Stats(), l.Memory().Stats())
}

func TestFaultyTransport(t *testing.T) {
	n := 40
	if testing.Short() {
		n = 10
	}
	l := start(t, testcluster.Deal(t, 5, 3, 2, nil), &LocalOptions{
		Memory:      &MemoryOptions{Seed: 7, Faults: Faults{Loss: 0.1, Duplicate: 0.1, Reorder: 0.2, Jitter: time.Millisecond}},
		Distributor: &DistributorOptions{ResultTimeout: 300 * time.Millisecond, MaxRetransmit: time.Second},
	})
	signMany(t, l, n, 60*time.Second)
	st := l.Memory().Stats()
	assert.NotZero(t, st.Lost, "no loss injected: %+v", st)
	assert.NotZero(t, st.Duplicated, "no duplicate injected: %+v", st)
}

func TestDeclinedByCalculators(t *testing.T) {
	decline := errors.New("operator says no")
	l := start(t, testcluster.Deal(t, 5, 3, 2, nil), &LocalOptions{Approve: func(ctx context.Context, req *share.Request) error {
		if bytes.Contains(req.Content, []byte("evil")) {
			return decline
		}
		return nil
	}})
	begin := time.Now()
	_, err := l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), testcluster.Request("evil.example.com"))
	require.ErrorIs(t, err, ErrRefused)
	require.ErrorIs(t, err, share.ErrDeclined)
	assert.LessOrEqual(t, time.Since(begin), 5*time.Second, "refusal took longer than 5 s")
	_, err = l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), testcluster.Request("good.example.com"))
	require.NoError(t, err)
}

func TestDeclinedByCombiners(t *testing.T) {
	l := start(t, testcluster.Deal(t, 5, 3, 2, nil), &LocalOptions{CombinerApprove: func(ctx context.Context, req *share.Request) error {
		return errors.New("combiner operator says no")
	}})
	_, err := l.Distributor().Sign(testcluster.Timeout(t, 800*time.Millisecond), testcluster.Request("x"))
	require.ErrorIs(t, err, ErrNoCombiner)
	waitFor(t, func() bool { return l.Combiner(1).Stats().Illegal+l.Combiner(2).Stats().Illegal >= 1 })
}

func TestRequestCheckedBeforeSending(t *testing.T) {
	l := start(t, testcluster.Deal(t, 3, 2, 1, nil), nil)
	req := testcluster.Request("content")
	req.Content = []byte("other content")
	_, err := l.Distributor().Sign(testcluster.Timeout(t, time.Second), req)
	assert.ErrorIs(t, err, share.ErrContentMismatch)
	req = testcluster.Request("content")
	req.KeyID = "another-key"
	_, err = l.Distributor().Sign(testcluster.Timeout(t, time.Second), req)
	assert.ErrorIs(t, err, share.ErrWrongKey)
	assert.Zero(t, l.Distributor().Stats().Transmissions, "transmissions for refused requests")
}

// TestBadResultDiscarded: a wrong result never reaches the caller
// ([0116]), even when a genuine combiner signed it.
func TestBadResultDiscarded(t *testing.T) {
	d := testcluster.Deal(t, 5, 3, 2, nil)
	l := start(t, d, &LocalOptions{CombinersDown: []int{1, 2}})
	hostile := d.Combiners[0].NodeKey
	mem := l.Memory()
	sub, _ := mem.Subscribe(B1)
	defer sub.Close()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		// A fake combiner answers every task with garbage.
		for {
			select {
			case msg := <-sub.C():
				p, body, err := unwrapBody(msg)
				if err != nil {
					continue
				}
				if task, ok := p.(*wire.Task); ok {
					bad := sealAs(t, hostile, &wire.Result{Header: task.Header, TaskHash: wire.Fingerprint(body), Combiner: 1, Signature: make([]byte, 256)})
					mem.Publish(context.Background(), B3, bad)
				}
			case <-done:
				return
			}
		}
	})
	defer wg.Wait()
	defer close(done)
	_, err := l.Distributor().Sign(testcluster.Timeout(t, 500*time.Millisecond), testcluster.Request("x"))
	var se *SignError
	require.ErrorAs(t, err, &se)
	require.NotZero(t, se.BadResults, "bad results counted in %v", err)
	require.ErrorIs(t, err, ErrNoCombiner)
}

func TestMalformedPacketsIgnored(t *testing.T) {
	l := start(t, testcluster.Deal(t, 3, 2, 1, nil), nil)
	mem := l.Memory()
	rng := rand.New(rand.NewPCG(1, 2))
	good, _ := wire.Marshal(&wire.Partials{Header: wire.Header{KeyID: l.Distributor().KeyID()}, Calculator: 1, Shares: []wire.Share{{Index: 1, Value: []byte{1}}}})
	var junk [][]byte
	for range 200 {
		b := make([]byte, rng.IntN(64))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if len(b) >= 2 && rng.IntN(2) == 0 {
			b[0], b[1] = wire.Version, byte(1+rng.IntN(4))
		}
		junk = append(junk, b)
	}
	// Truncations and bit flips of a valid packet.
	for i := range good {
		junk = append(junk, good[:i])
		f := slices.Clone(good)
		f[i] ^= 0x41
		junk = append(junk, f)
	}
	for _, ch := range []Channel{B1, B2, B3} {
		for _, b := range junk {
			mem.Publish(context.Background(), ch, b)
		}
	}
	_, err := l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), testcluster.Request("after junk"))
	require.NoError(t, err)
	assert.NotZero(t, l.Calculator(1).Stats().Malformed, "malformed packets not counted by calculator 1")
	assert.NotZero(t, l.Combiner(1).Stats().Malformed, "malformed packets not counted by combiner 1")
	assert.NotZero(t, l.Distributor().Stats().Malformed, "malformed packets not counted by the distributor")
}

func TestResultsOnB1(t *testing.T) {
	l := start(t, testcluster.Deal(t, 3, 2, 1, nil), &LocalOptions{Combiner: &CombinerOptions{ResultChannel: B1}})
	sig, err := l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), testcluster.Request("b1"))
	require.NoError(t, err)
	require.Equal(t, testcluster.Want(t, nil, "b1"), sig, "signature differs from rsa.SignPKCS1v15")
}

func TestPartitionHeals(t *testing.T) {
	l := start(t, testcluster.Deal(t, 5, 3, 2, nil), &LocalOptions{Distributor: &DistributorOptions{Retransmit: 20 * time.Millisecond, MaxRetransmit: 100 * time.Millisecond}})
	mem := l.Memory()
	mem.Partition(
		[]string{DistributorEndpoint, CalculatorEndpoint(1), CalculatorEndpoint(2)},
		[]string{CalculatorEndpoint(3), CalculatorEndpoint(4), CalculatorEndpoint(5), CombinerEndpoint(1), CombinerEndpoint(2)},
	)
	done := make(chan error, 1)
	go func() {
		_, err := l.Distributor().Sign(testcluster.Timeout(t, 20*time.Second), testcluster.Request("partition"))
		done <- err
	}()
	time.Sleep(150 * time.Millisecond)
	select {
	case err := <-done:
		require.FailNow(t, "Sign returned across a partition", "err = %v", err)
	default:
	}
	mem.Heal()
	require.NoError(t, <-done)
}

func TestCloseEndsSigning(t *testing.T) {
	l := start(t, testcluster.Deal(t, 3, 2, 1, nil), &LocalOptions{Down: []int{1, 2}})
	done := make(chan error, 1)
	go func() {
		_, err := l.Distributor().Sign(context.Background(), testcluster.Request("never"))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	l.Close()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, ErrClosed)
	case <-time.After(5 * time.Second):
		require.FailNow(t, "Sign did not return in 5 s after Close")
	}
}
