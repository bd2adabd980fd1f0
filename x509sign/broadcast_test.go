package x509sign_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/faults"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

// startLocal deals key over (k, t, l) with a searched plan and runs the
// whole cluster in-process on the in-memory broadcast.
func startLocal(t testing.TB, key *rsa.PrivateKey, k, tt, l int, opts *broadcast.LocalOptions) (*broadcast.Local, *share.Dealer) {
	t.Helper()
	return startLocalLiars(t, key, k, tt, l, opts, nil)
}

// startLocalLiars is startLocal with the calculators of liars sending wrong
// partials (internal/faults), every combiner auditing and the distributor
// lingering so that they are named.
func startLocalLiars(t testing.TB, key *rsa.PrivateKey, k, tt, l int, opts *broadcast.LocalOptions, liars []int) (*broadcast.Local, *share.Dealer) {
	t.Helper()
	plan, _, err := grouping.Search(k, tt, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := share.NewDealer(seeded(42), key, k, tt, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	dealing, err := dl.Deal(plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(liars) > 0 {
		o := *opts
		var keys []*share.CalculatorKey
		for _, ck := range dealing.Calculators {
			if slices.Contains(liars, ck.Number) {
				keys = append(keys, ck)
			}
		}
		mem := broadcast.NewMemory(nil)
		t.Cleanup(func() { mem.Close() }) // after local.Close
		o.Transport, o.Audit = faults.Transport(mem, keys), true
		o.Distributor = &broadcast.DistributorOptions{Linger: 500 * time.Millisecond}
		opts = &o
	}
	local, err := broadcast.StartLocal(context.Background(), dealing, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	return local, dl
}

// The same guarantees through the real in-process protocol.
func TestBroadcast(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	key := testkeys.Must(testkeys.RSA2048)
	local, dl := startLocal(t, key, 5, 3, 2, nil)
	s, err := x509sign.New(dl.PublicKey(), dl.KeyID(), local.Distributor(), nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("through broadcast")
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		got, err := s.SignMessage(nil, msg, h)
		if err != nil {
			t.Fatalf("%v: %v", h, err)
		}
		want, _ := rsa.SignPKCS1v15(nil, key, h, digestOf(h, msg))
		if !bytes.Equal(got, want) {
			t.Fatalf("%v: differs from rsa.SignPKCS1v15", h)
		}
		pss := &rsa.PSSOptions{Hash: h, SaltLength: rsa.PSSSaltLengthEqualsHash}
		got, err = s.Sign(rand.Reader, digestOf(h, msg), pss)
		if err != nil {
			t.Fatalf("%v PSS: %v", h, err)
		}
		if err := rsa.VerifyPSS(&key.PublicKey, h, digestOf(h, msg), got, pss); err != nil {
			t.Fatalf("%v PSS: %v", h, err)
		}
	}
	root, leaf, _ := issue(t, s, x509.SHA256WithRSA, x509.SHA384WithRSAPSS)
	pool := x509.NewCertPool()
	pool.AddCert(root)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "leaf.example.com"}); err != nil {
		t.Fatalf("x509.Verify: %v", err)
	}
	if err := local.Close(); err != nil {
		t.Fatal(err)
	}
}

// outcomes is a Cluster that keeps the broadcast outcome of each signature.
type outcomes struct {
	d    *broadcast.Distributor
	last *broadcast.Outcome
}

func (o *outcomes) Sign(ctx context.Context, req *share.Request) ([]byte, error) {
	out, err := o.d.SignDetailed(ctx, req)
	if err != nil {
		return nil, err
	}
	o.last = out
	return out.Signature, nil
}

// With k-t calculators down the cluster still signs; a lying calculator is
// set aside and named; with a liar among only t answering calculators no
// signature comes out, and nothing unverified is returned.
func TestBroadcastFaults(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048b)
	msg := []byte("degraded cluster")
	want, _ := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digestOf(crypto.SHA256, msg))
	cases := []struct {
		name        string
		down, liars []int
		ok          bool
	}{
		{"two-down", []int{2, 4}, nil, true},
		{"one-down-one-liar", []int{1}, []int{3}, true},
		{"two-down-one-liar", []int{1, 5}, []int{3}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			local, dl := startLocalLiars(t, key, 5, 3, 2, &broadcast.LocalOptions{Down: c.down}, c.liars)
			rec := &outcomes{d: local.Distributor()}
			s, err := x509sign.New(dl.PublicKey(), dl.KeyID(), rec, &x509sign.Options{Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			sig, err := s.SignMessage(nil, msg, crypto.SHA256)
			if !c.ok {
				if sig != nil || !errors.Is(err, broadcast.ErrDeadline) {
					t.Fatalf("got %d bytes, err %v; want broadcast.ErrDeadline", len(sig), err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(sig, want) {
				t.Fatal("differs from rsa.SignPKCS1v15")
			}
			for _, j := range c.down {
				for _, a := range rec.last.Calculators {
					if a == j {
						t.Fatalf("calculator %d is down but sent partials", j)
					}
				}
			}
			for _, x := range rec.last.Claimed {
				if !slices.Contains(c.liars, x) {
					t.Errorf("honest calculator %d claimed", x)
				}
			}
			for _, j := range c.liars {
				named := false
				// Proven by a combiner, or suspected when the partials that
				// arrived cannot tell it from two colluders.
				for _, x := range append(slices.Clone(rec.last.Claimed), rec.last.Suspects...) {
					named = named || x == j
				}
				if !named {
					t.Errorf("liar %d neither claimed nor suspected (claimed: %v, suspects: %v)", j, rec.last.Claimed, rec.last.Suspects)
				}
			}
		})
	}
}

// Fewer than t calculators: a clear error when the deadline passes, no panic.
func TestBroadcastFewerThanT(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048c)
	local, dl := startLocal(t, key, 4, 3, 1, &broadcast.LocalOptions{Down: []int{2, 3}})
	s, err := x509sign.New(dl.PublicKey(), dl.KeyID(), local.Distributor(), &x509sign.Options{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.SignMessage(nil, []byte("m"), crypto.SHA256)
	if sig != nil || !errors.Is(err, broadcast.ErrNotEnoughCalculators) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %d bytes, err %v", len(sig), err)
	}
}
