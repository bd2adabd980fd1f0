package x509sign_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tolerantca/tolerant/combine"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/internal/testplan"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

var testKeys = []string{testkeys.RSA2048, testkeys.RSA2048b, testkeys.RSA2048c}

func newSigner(t testing.TB, key *rsa.PrivateKey, c x509sign.Cluster) *x509sign.Signer {
	t.Helper()
	s, err := x509sign.New(&key.PublicKey, "", c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func digestOf(h crypto.Hash, msg []byte) []byte {
	hh := h.New()
	hh.Write(msg)
	return hh.Sum(nil)
}

// For every (k,t,l), every t-subset of calculators and every equivalent
// representation on it, the cluster's signature is byte-identical to
// crypto/rsa's PKCS #1 v1.5 signature with the original key.
func TestEverySubsetMatchesPKCS1v15(t *testing.T) {
	params := []struct {
		k, t, l int
		h       crypto.Hash
	}{
		{3, 2, 1, crypto.SHA256},
		{4, 2, 2, crypto.SHA384},
		{5, 3, 2, crypto.SHA512},
		{6, 4, 2, crypto.SHA256},
	}
	for n, p := range params {
		t.Run(fmt.Sprintf("k%d_t%d_l%d", p.k, p.t, p.l), func(t *testing.T) {
			t.Parallel()
			key := testkeys.Must(testKeys[n%len(testKeys)])
			r := newReplay(t, key, p.k, p.t, p.l, uint64(100+n))
			s := newSigner(t, key, r)
			msg := fmt.Appendf(nil, "TBS bytes for k=%d t=%d l=%d", p.k, p.t, p.l)
			digest := digestOf(p.h, msg)
			want, err := rsa.SignPKCS1v15(nil, key, p.h, digest)
			if err != nil {
				t.Fatal(err)
			}
			sets := 0
			for _, js := range testplan.Subsets(p.k, p.t) {
				reps := testplan.Equivalents(js, p.l)
				if testing.Short() {
					reps = reps[sets%len(reps) : sets%len(reps)+1]
				}
				for m, rep := range reps {
					r.Use = rep
					var got []byte
					if m%2 == 0 {
						got, err = s.SignMessage(nil, msg, p.h)
					} else {
						got, err = s.Sign(nil, digest, p.h)
					}
					if err != nil {
						t.Fatalf("calculators %v via %v: %v", js, rep, err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("calculators %v via %v: signature differs from rsa.SignPKCS1v15", js, rep)
					}
				}
				sets++
			}
			if want := len(testplan.Subsets(p.k, p.t)); sets != want {
				t.Fatalf("tried %d calculator sets, want %d", sets, want)
			}
		})
	}
}

// Every calculator set of a (5,3,2) cluster, through the whole in-process
// path (each calculator computes, the combiner finds the representation).
func TestDirectEverySubset(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048b)
	d, _ := newDirect(t, key, 5, 3, 2, 7)
	s := newSigner(t, key, d)
	msg := []byte("direct cluster")
	want, _ := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digestOf(crypto.SHA256, msg))
	sets := testplan.Subsets(5, 3)
	if testing.Short() {
		sets = sets[:3]
	}
	for _, js := range sets {
		d.Answer = js
		got, err := s.SignMessage(rand.Reader, msg, crypto.SHA256)
		if err != nil {
			t.Fatalf("calculators %v: %v", js, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("calculators %v: wrong signature", js)
		}
	}
}

func TestPSS(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	d, _ := newDirect(t, key, 5, 3, 2, 1)
	s := newSigner(t, key, d)
	msg := []byte("a PSS-signed message")
	saltLens := []int{rsa.PSSSaltLengthEqualsHash, rsa.PSSSaltLengthAuto, 20}
	sets := testplan.Subsets(5, 3)
	n := 0
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		for _, sl := range saltLens {
			d.Answer = sets[n%len(sets)]
			n++
			opts := &rsa.PSSOptions{SaltLength: sl, Hash: h}
			digest := digestOf(h, msg)
			var sig []byte
			var err error
			if n%2 == 0 {
				sig, err = s.SignMessage(nil, msg, opts)
			} else {
				sig, err = s.Sign(rand.Reader, digest, opts)
			}
			if err != nil {
				t.Fatalf("%v salt %d: %v", h, sl, err)
			}
			if err := rsa.VerifyPSS(&key.PublicKey, h, digest, sig, opts); err != nil {
				t.Fatalf("%v salt %d: rsa.VerifyPSS: %v", h, sl, err)
			}
			if sl == rsa.PSSSaltLengthEqualsHash || sl == 20 {
				// Also with autodetection, as a verifier that knows nothing would.
				if err := rsa.VerifyPSS(&key.PublicKey, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}); err != nil {
					t.Fatalf("%v salt %d: auto verify: %v", h, sl, err)
				}
			}
			reqs := d.requests()
			if last := reqs[len(reqs)-1]; last.Scheme != share.PSS || len(last.Encoded) == 0 {
				t.Fatalf("request scheme %v, %d encoded bytes", last.Scheme, len(last.Encoded))
			}
		}
	}
	// Two PSS signatures of the same message differ (fresh salt).
	a, err1 := s.SignMessage(nil, msg, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	b, err2 := s.SignMessage(nil, msg, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	if err1 != nil || err2 != nil || bytes.Equal(a, b) {
		t.Fatalf("two PSS signatures: %v, %v, equal=%v", err1, err2, bytes.Equal(a, b))
	}
}

// issue builds a CA with the cluster: a self-signed root and a leaf.
func issue(t *testing.T, s crypto.Signer, rootAlg, leafAlg x509.SignatureAlgorithm) (root, leaf *x509.Certificate, leafKey *rsa.PrivateKey) {
	t.Helper()
	now := time.Now()
	rootTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tolerant test root", Organization: []string{"tolerant"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SignatureAlgorithm:    rootAlg,
	}
	der, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, s.Public(), s)
	if err != nil {
		t.Fatalf("root: %v", err)
	}
	if root, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	leafKey = testkeys.Must(testkeys.RSA2048c)
	leafTmpl := &x509.Certificate{
		SerialNumber:       big.NewInt(2),
		Subject:            pkix.Name{CommonName: "leaf.example.com"},
		DNSNames:           []string{"leaf.example.com"},
		NotBefore:          now.Add(-time.Hour),
		NotAfter:           now.Add(time.Hour),
		KeyUsage:           x509.KeyUsageDigitalSignature,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		SignatureAlgorithm: leafAlg,
	}
	der, err = x509.CreateCertificate(rand.Reader, leafTmpl, root, &leafKey.PublicKey, s)
	if err != nil {
		t.Fatalf("leaf: %v", err)
	}
	if leaf, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	return root, leaf, leafKey
}

func TestCertificateChain(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	d, _ := newDirect(t, key, 4, 2, 2, 3)
	s := newSigner(t, key, d)
	cases := []struct {
		name           string
		rootAlg, leaf  x509.SignatureAlgorithm
		wantLeafScheme share.Scheme
	}{
		{"pkcs1-sha256", x509.SHA256WithRSA, x509.SHA256WithRSA, share.PKCS1v15},
		{"pkcs1-sha384-sha512", x509.SHA384WithRSA, x509.SHA512WithRSA, share.PKCS1v15},
		{"pss", x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, share.PSS},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, leaf, _ := issue(t, s, c.rootAlg, c.leaf)
			pool := x509.NewCertPool()
			pool.AddCert(root)
			chains, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "leaf.example.com"})
			if err != nil {
				t.Fatalf("x509.Verify: %v", err)
			}
			if len(chains) != 1 || len(chains[0]) != 2 {
				t.Fatalf("chains: %v", chains)
			}
			if err := root.CheckSignatureFrom(root); err != nil {
				t.Fatalf("root self-signature: %v", err)
			}
			// The cluster saw the TBS certificate itself, not only its digest.
			reqs := d.requests()
			last := reqs[len(reqs)-1]
			if !bytes.Equal(last.Content, leaf.RawTBSCertificate) {
				t.Fatalf("the cluster did not receive the leaf's TBS bytes")
			}
			if last.Scheme != c.wantLeafScheme {
				t.Fatalf("scheme %v, want %v", last.Scheme, c.wantLeafScheme)
			}
			opensslVerify(t, root, leaf)
		})
	}
}

// opensslVerify checks the chain with OpenSSL, an independent implementation.
func opensslVerify(t *testing.T, root, leaf *x509.Certificate) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Log("openssl not installed: skipping the independent check")
		return
	}
	dir := t.TempDir()
	write := func(name string, c *x509.Certificate) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	out, err := exec.Command("openssl", "verify", "-CAfile", write("root.pem", root), write("leaf.pem", leaf)).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl verify: %v\n%s", err, out)
	}
}

func TestCSRAndCRL(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048b)
	d, _ := newDirect(t, key, 3, 2, 1, 4)
	s := newSigner(t, key, d)
	root, _, _ := issue(t, s, x509.SHA256WithRSA, x509.SHA256WithRSA)

	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:            pkix.Name{CommonName: "tolerant CA rekey"},
		SignatureAlgorithm: x509.SHA384WithRSA,
	}, s)
	if err != nil {
		t.Fatalf("CSR: %v", err)
	}
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		t.Fatal(err)
	}
	if err := csr.CheckSignature(); err != nil {
		t.Fatalf("CSR signature: %v", err)
	}
	reqs := d.requests()
	if !bytes.Equal(reqs[len(reqs)-1].Content, csr.RawTBSCertificateRequest) {
		t.Fatal("the cluster did not receive the CSR's TBS bytes")
	}

	now := time.Now()
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:     big.NewInt(1),
		ThisUpdate: now,
		NextUpdate: now.Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{
			{SerialNumber: big.NewInt(2), RevocationTime: now},
		},
	}, root, s)
	if err != nil {
		t.Fatalf("CRL: %v", err)
	}
	crl, err := x509.ParseRevocationList(crlDER)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(root); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	reqs = d.requests()
	if !bytes.Equal(reqs[len(reqs)-1].Content, crl.RawTBSRevocationList) {
		t.Fatal("the cluster did not receive the CRL's TBS bytes")
	}
}

// ocsp.CreateResponse uses the digest-only Sign.
func TestOCSP(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	d, _ := newDirect(t, key, 3, 2, 1, 5)
	s := newSigner(t, key, d)
	root, leaf, _ := issue(t, s, x509.SHA256WithRSA, x509.SHA256WithRSA)
	now := time.Now().Truncate(time.Minute)
	der, err := ocsp.CreateResponse(root, root, ocsp.Response{
		Status:       ocsp.Good,
		SerialNumber: leaf.SerialNumber,
		ThisUpdate:   now,
		NextUpdate:   now.Add(time.Hour),
	}, s)
	if err != nil {
		t.Fatalf("ocsp.CreateResponse: %v", err)
	}
	resp, err := ocsp.ParseResponse(der, root)
	if err != nil {
		t.Fatalf("ocsp.ParseResponse: %v", err)
	}
	if resp.Status != ocsp.Good || resp.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		t.Fatalf("response: status %d serial %v", resp.Status, resp.SerialNumber)
	}
	if err := resp.CheckSignatureFrom(root); err != nil {
		t.Fatal(err)
	}
	reqs := d.requests()
	if reqs[len(reqs)-1].Content != nil {
		t.Fatal("digest-only Sign sent content")
	}
}

func TestFewerThanT(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	d, _ := newDirect(t, key, 5, 3, 2, 6)
	s := newSigner(t, key, d)
	for _, answer := range [][]int{{}, {4}, {1, 2}, {2, 2, 5}} {
		d.Answer = answer
		sig, err := s.SignMessage(nil, []byte("too few"), crypto.SHA256)
		if sig != nil || !errors.Is(err, combine.ErrNotEnough) {
			t.Fatalf("calculators %v: got %d bytes, err %v; want combine.ErrNotEnough", answer, len(sig), err)
		}
	}
}

// refusing is a cluster that must never be asked.
type refusing struct{ t *testing.T }

func (r refusing) Sign(context.Context, *share.Request) ([]byte, error) {
	r.t.Error("the cluster was asked for a request the signer should have refused")
	return nil, errors.New("refused")
}

func TestRefusedInputs(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	s := newSigner(t, key, refusing{t})
	sum := sha256.Sum256([]byte("x"))
	sha1sum := sha1.Sum([]byte("x"))
	var nilPSS *rsa.PSSOptions
	cases := []struct {
		name    string
		digest  []byte
		opts    crypto.SignerOpts
		want    error
		message bool
	}{
		{"sha1", sha1sum[:], crypto.SHA1, x509sign.ErrUnsupportedHash, false},
		{"sha1-message", []byte("x"), crypto.SHA1, x509sign.ErrUnsupportedHash, true},
		{"md5", sum[:16], crypto.MD5, x509sign.ErrUnsupportedHash, false},
		{"sha224", sum[:28], crypto.SHA224, x509sign.ErrUnsupportedHash, false},
		{"sha3-256", sum[:], crypto.SHA3_256, x509sign.ErrUnsupportedHash, false},
		{"unhashed", sum[:], crypto.Hash(0), x509sign.ErrUnsupportedHash, false},
		{"unhashed-message", []byte("x"), crypto.Hash(0), x509sign.ErrUnsupportedHash, true},
		{"bogus-hash", sum[:], crypto.Hash(200), x509sign.ErrUnsupportedHash, false},
		{"nil-opts", sum[:], nil, x509sign.ErrOptions, false},
		{"nil-opts-message", []byte("x"), nil, x509sign.ErrOptions, true},
		{"nil-pss", sum[:], nilPSS, x509sign.ErrOptions, false},
		{"pss-sha1", sha1sum[:], &rsa.PSSOptions{Hash: crypto.SHA1}, x509sign.ErrUnsupportedHash, false},
		{"pss-no-hash", sum[:], &rsa.PSSOptions{}, x509sign.ErrUnsupportedHash, false},
		{"pss-negative-salt", sum[:], &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: -2}, x509sign.ErrOptions, false},
		{"pss-huge-salt", sum[:], &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: 1 << 20}, x509sign.ErrOptions, false},
		{"short-digest", sum[:31], crypto.SHA256, x509sign.ErrDigestLength, false},
		{"long-digest", append(sum[:], 0), crypto.SHA256, x509sign.ErrDigestLength, false},
		{"nil-digest", nil, crypto.SHA512, x509sign.ErrDigestLength, false},
		{"sha384-given-sha256-digest", sum[:], crypto.SHA384, x509sign.ErrDigestLength, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var sig []byte
			var err error
			if c.message {
				sig, err = s.SignMessage(nil, c.digest, c.opts)
			} else {
				sig, err = s.Sign(nil, c.digest, c.opts)
			}
			if sig != nil || !errors.Is(err, c.want) {
				t.Fatalf("got %d bytes, err %v; want %v", len(sig), err, c.want)
			}
		})
	}
	t.Run("too-large", func(t *testing.T) {
		sig, err := s.SignMessage(nil, make([]byte, share.MaxContentSize+1), crypto.SHA256)
		if sig != nil || !errors.Is(err, x509sign.ErrTooLarge) {
			t.Fatalf("got %d bytes, err %v", len(sig), err)
		}
	})
}

// lying is a cluster that answers with what its function returns.
type lying func(req *share.Request) ([]byte, error)

func (f lying) Sign(_ context.Context, req *share.Request) ([]byte, error) { return f(req) }

// A signature is returned only when it verifies with the public key ([0116]).
func TestNeverUnverified(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	other := testkeys.Must(testkeys.RSA2048b)
	good := func(req *share.Request) []byte {
		sig, err := rsa.SignPKCS1v15(nil, key, req.Hash, req.Digest)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	cases := map[string]lying{
		"nil":       func(*share.Request) ([]byte, error) { return nil, nil },
		"empty":     func(*share.Request) ([]byte, error) { return []byte{}, nil },
		"garbage":   func(*share.Request) ([]byte, error) { return bytes.Repeat([]byte{0x5a}, 256), nil },
		"too-long":  func(*share.Request) ([]byte, error) { return make([]byte, 4096), nil },
		"other-key": func(req *share.Request) ([]byte, error) { return rsa.SignPKCS1v15(nil, other, req.Hash, req.Digest) },
		"other-digest": func(req *share.Request) ([]byte, error) {
			d := digestOf(req.Hash, []byte("something else"))
			return rsa.SignPKCS1v15(nil, key, req.Hash, d)
		},
		"truncated": func(req *share.Request) ([]byte, error) { return good(req)[1:], nil },
		"flipped": func(req *share.Request) ([]byte, error) {
			s := good(req)
			s[100] ^= 1
			return s, nil
		},
		"pkcs1-for-pss": func(req *share.Request) ([]byte, error) { return good(req), nil },
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := newSigner(t, key, c)
			var opts crypto.SignerOpts = crypto.SHA256
			if name == "pkcs1-for-pss" {
				opts = &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: rsa.PSSSaltLengthEqualsHash}
			}
			sig, err := s.SignMessage(nil, []byte("m"), opts)
			if sig != nil || !errors.Is(err, x509sign.ErrBadSignature) {
				t.Fatalf("got %d bytes, err %v; want ErrBadSignature", len(sig), err)
			}
		})
	}
	t.Run("mutated-after-return", func(t *testing.T) {
		var kept []byte
		s := newSigner(t, key, lying(func(req *share.Request) ([]byte, error) {
			kept = good(req)
			return kept, nil
		}))
		sig, err := s.SignMessage(nil, []byte("m"), crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		kept[0] ^= 0xff // the cluster keeps and changes its buffer
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digestOf(crypto.SHA256, []byte("m")), sig); err != nil {
			t.Fatal("the returned signature aliases the cluster's buffer")
		}
	})
	t.Run("cluster-error", func(t *testing.T) {
		boom := errors.New("boom")
		s := newSigner(t, key, lying(func(*share.Request) ([]byte, error) {
			return good(&share.Request{Hash: crypto.SHA256, Digest: make([]byte, 32)}), boom
		}))
		sig, err := s.SignMessage(nil, []byte("m"), crypto.SHA256)
		if sig != nil || !errors.Is(err, boom) {
			t.Fatalf("got %d bytes, err %v", len(sig), err)
		}
	})
}

// blocking waits for its context.
type blocking struct{}

func (blocking) Sign(ctx context.Context, _ *share.Request) ([]byte, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestContexts(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	s, err := x509sign.New(&key.PublicKey, "", blocking{}, &x509sign.Options{Timeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignMessage(nil, []byte("m"), crypto.SHA256); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.SignMessageContext(ctx, nil, []byte("m"), crypto.SHA256); !errors.Is(err, context.Canceled) {
		t.Fatalf("SignMessageContext: %v", err)
	}
	sum := sha256.Sum256(nil)
	if _, err := s.SignContext(ctx, nil, sum[:], crypto.SHA256); !errors.Is(err, context.Canceled) {
		t.Fatalf("SignContext: %v", err)
	}
	s, err = x509sign.New(&key.PublicKey, "", blocking{}, &x509sign.Options{Timeout: -1, BaseContext: func() context.Context { return ctx }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(nil, sum[:], crypto.SHA256); !errors.Is(err, context.Canceled) {
		t.Fatalf("BaseContext: %v", err)
	}
	s, err = x509sign.New(&key.PublicKey, "", blocking{}, &x509sign.Options{Timeout: 10 * time.Millisecond, BaseContext: func() context.Context { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(nil, sum[:], crypto.SHA256); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("nil BaseContext: %v", err)
	}
}

func TestNew(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	small := testkeys.Must(testkeys.RSA1024)
	pub := &key.PublicKey
	bad := []struct {
		name  string
		pub   *rsa.PublicKey
		keyID string
		c     x509sign.Cluster
	}{
		{"nil-key", nil, "", blocking{}},
		{"nil-modulus", &rsa.PublicKey{E: 65537}, "", blocking{}},
		{"even-modulus", &rsa.PublicKey{N: new(big.Int).Lsh(pub.N, 1), E: 65537}, "", blocking{}},
		{"exponent-1", &rsa.PublicKey{N: pub.N, E: 1}, "", blocking{}},
		{"even-exponent", &rsa.PublicKey{N: pub.N, E: 65536}, "", blocking{}},
		{"huge-modulus", &rsa.PublicKey{N: new(big.Int).SetBit(big.NewInt(1), 8192, 1), E: 65537}, "", blocking{}},
		{"long-key-id", pub, string(make([]byte, 65)), blocking{}},
		{"nil-cluster", pub, "", nil},
	}
	for _, c := range bad {
		if s, err := x509sign.New(c.pub, c.keyID, c.c, nil); err == nil || s != nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	s, err := x509sign.New(&small.PublicKey, "", blocking{}, nil)
	if err != nil {
		t.Fatalf("1024-bit key: %v", err)
	}
	if got, want := s.KeyID(), share.KeyIDFor(&small.PublicKey); got != want {
		t.Fatalf("default key id %q, want %q", got, want)
	}
	s, err = x509sign.New(pub, "ca-2026", blocking{}, nil)
	if err != nil || s.KeyID() != "ca-2026" {
		t.Fatalf("explicit key id: %v", err)
	}
	if !pub.Equal(s.Public()) {
		t.Fatal("Public() differs from the key")
	}
}

// A Signer is safe for concurrent use over a concurrency-safe cluster.
func TestConcurrent(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048c)
	d, _ := newDirect(t, key, 3, 2, 1, 9)
	d.Answer = []int{1, 3}
	s := newSigner(t, key, d)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for n := range 4 {
		wg.Go(func() {
			msg := fmt.Appendf(nil, "message %d", n)
			sig, err := s.SignMessage(nil, msg, crypto.SHA256)
			if err == nil {
				err = rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digestOf(crypto.SHA256, msg), sig)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
