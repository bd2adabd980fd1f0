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

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ocsp"

	"github.com/tolerantca/tolerant/combine"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/internal/testplan"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

var testKeys = []string{testkeys.RSA2048, testkeys.RSA2048b, testkeys.RSA2048c}

// bigIntEqual makes cmp.Diff compare *big.Int by value.
var bigIntEqual = cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 })

func newSigner(t testing.TB, key *rsa.PrivateKey, c x509sign.Cluster) *x509sign.Signer {
	t.Helper()
	s, err := x509sign.New(&key.PublicKey, "", c, nil)
	require.NoError(t, err)
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
			require.NoError(t, err)
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
					require.NoError(t, err, "calculators %v via %v", js, rep)
					require.Equal(t, want, got, "calculators %v via %v: signature differs from rsa.SignPKCS1v15", js, rep)
				}
				sets++
			}
			require.Equal(t, len(testplan.Subsets(p.k, p.t)), sets, "calculator sets tried")
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
	want, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digestOf(crypto.SHA256, msg))
	require.NoError(t, err)
	sets := testplan.Subsets(5, 3)
	if testing.Short() {
		sets = sets[:3]
	}
	for _, js := range sets {
		d.Answer = js
		got, err := s.SignMessage(rand.Reader, msg, crypto.SHA256)
		require.NoError(t, err, "calculators %v", js)
		require.Equal(t, want, got, "calculators %v: signature differs from rsa.SignPKCS1v15", js)
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
			require.NoError(t, err, "%v salt %d", h, sl)
			require.NoError(t, rsa.VerifyPSS(&key.PublicKey, h, digest, sig, opts), "%v salt %d: rsa.VerifyPSS", h, sl)
			if sl == rsa.PSSSaltLengthEqualsHash || sl == 20 {
				// Also with autodetection, as a verifier that knows nothing would.
				err := rsa.VerifyPSS(&key.PublicKey, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
				require.NoError(t, err, "%v salt %d: auto verify", h, sl)
			}
			reqs := d.requests()
			last := reqs[len(reqs)-1]
			require.Equal(t, share.PSS, last.Scheme, "%v salt %d: request scheme", h, sl)
			require.NotEmpty(t, last.Encoded, "%v salt %d: the request carries no encoded message", h, sl)
		}
	}
	// Two PSS signatures of the same message differ (fresh salt).
	a, err := s.SignMessage(nil, msg, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	require.NoError(t, err, "first PSS signature")
	b, err := s.SignMessage(nil, msg, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	require.NoError(t, err, "second PSS signature")
	require.NotEqual(t, a, b, "two PSS signatures of one message are equal: the salt is not fresh")
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
	require.NoError(t, err, "root")
	root, err = x509.ParseCertificate(der)
	require.NoError(t, err, "parse root")
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
	require.NoError(t, err, "leaf")
	leaf, err = x509.ParseCertificate(der)
	require.NoError(t, err, "parse leaf")
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
			require.NoError(t, err, "x509.Verify")
			require.Len(t, chains, 1, "chains")
			require.Len(t, chains[0], 2, "the chain is leaf and root")
			require.NoError(t, root.CheckSignatureFrom(root), "root self-signature")
			// The cluster saw the TBS certificate itself, not only its digest.
			reqs := d.requests()
			last := reqs[len(reqs)-1]
			require.Equal(t, leaf.RawTBSCertificate, last.Content, "the cluster did not receive the leaf's TBS bytes")
			require.Equal(t, c.wantLeafScheme, last.Scheme, "scheme")
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
		require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600))
		return p
	}
	out, err := exec.Command("openssl", "verify", "-CAfile", write("root.pem", root), write("leaf.pem", leaf)).CombinedOutput()
	require.NoError(t, err, "openssl verify:\n%s", out)
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
	require.NoError(t, err, "CSR")
	csr, err := x509.ParseCertificateRequest(csrDER)
	require.NoError(t, err)
	require.NoError(t, csr.CheckSignature(), "CSR signature")
	reqs := d.requests()
	require.Equal(t, csr.RawTBSCertificateRequest, reqs[len(reqs)-1].Content, "the cluster did not receive the CSR's TBS bytes")

	now := time.Now()
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:     big.NewInt(1),
		ThisUpdate: now,
		NextUpdate: now.Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{
			{SerialNumber: big.NewInt(2), RevocationTime: now},
		},
	}, root, s)
	require.NoError(t, err, "CRL")
	crl, err := x509.ParseRevocationList(crlDER)
	require.NoError(t, err)
	require.NoError(t, crl.CheckSignatureFrom(root), "CRL signature")
	reqs = d.requests()
	require.Equal(t, crl.RawTBSRevocationList, reqs[len(reqs)-1].Content, "the cluster did not receive the CRL's TBS bytes")
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
	require.NoError(t, err, "ocsp.CreateResponse")
	resp, err := ocsp.ParseResponse(der, root)
	require.NoError(t, err, "ocsp.ParseResponse")
	assert.Equal(t, ocsp.Good, resp.Status, "response status")
	assert.Empty(t, cmp.Diff(leaf.SerialNumber, resp.SerialNumber, bigIntEqual), "response serial (-leaf +response)")
	require.NoError(t, resp.CheckSignatureFrom(root), "response signature")
	reqs := d.requests()
	require.Nil(t, reqs[len(reqs)-1].Content, "digest-only Sign sent content")
}

func TestFewerThanT(t *testing.T) {
	key := testkeys.Must(testkeys.RSA2048)
	d, _ := newDirect(t, key, 5, 3, 2, 6)
	s := newSigner(t, key, d)
	for _, answer := range [][]int{{}, {4}, {1, 2}, {2, 2, 5}} {
		d.Answer = answer
		sig, err := s.SignMessage(nil, []byte("too few"), crypto.SHA256)
		require.ErrorIs(t, err, combine.ErrNotEnough, "calculators %v", answer)
		require.Nil(t, sig, "calculators %v: a signature with the error", answer)
	}
}

// refusing is a cluster that must never be asked.
type refusing struct{ t *testing.T }

func (r refusing) Sign(context.Context, *share.Request) ([]byte, error) {
	assert.Fail(r.t, "the cluster was asked for a request the signer should have refused")
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
			require.ErrorIs(t, err, c.want)
			require.Nil(t, sig, "a signature with the error")
		})
	}
	t.Run("too-large", func(t *testing.T) {
		sig, err := s.SignMessage(nil, make([]byte, share.MaxContentSize+1), crypto.SHA256)
		require.ErrorIs(t, err, x509sign.ErrTooLarge)
		require.Nil(t, sig, "a signature with the error")
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
		require.NoError(t, err)
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
			require.ErrorIs(t, err, x509sign.ErrBadSignature)
			require.Nil(t, sig, "a signature with the error")
		})
	}
	t.Run("mutated-after-return", func(t *testing.T) {
		var kept []byte
		s := newSigner(t, key, lying(func(req *share.Request) ([]byte, error) {
			kept = good(req)
			return kept, nil
		}))
		sig, err := s.SignMessage(nil, []byte("m"), crypto.SHA256)
		require.NoError(t, err)
		kept[0] ^= 0xff // the cluster keeps and changes its buffer
		err = rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digestOf(crypto.SHA256, []byte("m")), sig)
		require.NoError(t, err, "the returned signature aliases the cluster's buffer")
	})
	t.Run("cluster-error", func(t *testing.T) {
		boom := errors.New("boom")
		s := newSigner(t, key, lying(func(*share.Request) ([]byte, error) {
			return good(&share.Request{Hash: crypto.SHA256, Digest: make([]byte, 32)}), boom
		}))
		sig, err := s.SignMessage(nil, []byte("m"), crypto.SHA256)
		require.ErrorIs(t, err, boom)
		require.Nil(t, sig, "a signature with the cluster's error")
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
	require.NoError(t, err)
	_, err = s.SignMessage(nil, []byte("m"), crypto.SHA256)
	require.ErrorIs(t, err, context.DeadlineExceeded, "timeout")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.SignMessageContext(ctx, nil, []byte("m"), crypto.SHA256)
	require.ErrorIs(t, err, context.Canceled, "SignMessageContext")
	sum := sha256.Sum256(nil)
	_, err = s.SignContext(ctx, nil, sum[:], crypto.SHA256)
	require.ErrorIs(t, err, context.Canceled, "SignContext")
	s, err = x509sign.New(&key.PublicKey, "", blocking{}, &x509sign.Options{Timeout: -1, BaseContext: func() context.Context { return ctx }})
	require.NoError(t, err)
	_, err = s.Sign(nil, sum[:], crypto.SHA256)
	require.ErrorIs(t, err, context.Canceled, "BaseContext")
	s, err = x509sign.New(&key.PublicKey, "", blocking{}, &x509sign.Options{Timeout: 10 * time.Millisecond, BaseContext: func() context.Context { return nil }})
	require.NoError(t, err)
	_, err = s.Sign(nil, sum[:], crypto.SHA256)
	require.ErrorIs(t, err, context.DeadlineExceeded, "nil BaseContext")
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
		s, err := x509sign.New(c.pub, c.keyID, c.c, nil)
		assert.Error(t, err, "%s: accepted", c.name)
		assert.Nil(t, s, "%s: a signer with the error", c.name)
	}
	s, err := x509sign.New(&small.PublicKey, "", blocking{}, nil)
	require.NoError(t, err, "1024-bit key")
	require.Equal(t, share.KeyIDFor(&small.PublicKey), s.KeyID(), "default key id")
	s, err = x509sign.New(pub, "ca-2026", blocking{}, nil)
	require.NoError(t, err, "explicit key id")
	require.Equal(t, "ca-2026", s.KeyID(), "explicit key id")
	require.True(t, pub.Equal(s.Public()), "Public() differs from the key")
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
		require.NoError(t, err)
	}
}
