package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/examples/tolerant-pkcs11/p11conf"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

const testPIN = "246810"

// testToken is a token over an in-process (5,3,2) cluster; requests seen
// by calculator 1's approval hook are recorded.
type testToken struct {
	*token
	key   *rsa.PrivateKey
	local *broadcast.Local
	mu    sync.Mutex
	seen  []*share.Request
	deny  bool
}

// newTestToken starts the cluster with the calculators in down stopped.
func newTestToken(t testing.TB, down ...int) *testToken {
	t.Helper()
	key := testkeys.Must(testkeys.RSA2048)
	plan, _, err := grouping.Search(5, 3, 2, nil)
	require.NoError(t, err)
	dealer, err := share.NewDealer(mrand.NewChaCha8([32]byte{1}), key, 5, 3, 2, nil)
	require.NoError(t, err)
	dealing, err := dealer.Deal(plan)
	require.NoError(t, err)
	tt := &testToken{key: key}
	local, err := broadcast.StartLocal(context.Background(), dealing, &broadcast.LocalOptions{
		Down: down,
		Approve: func(_ context.Context, r *share.Request) error {
			tt.mu.Lock()
			defer tt.mu.Unlock()
			tt.seen = append(tt.seen, r)
			if tt.deny {
				return share.ErrDeclined
			}
			return nil
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { local.Close() })
	tt.local = local
	objs, err := newObjects(&key.PublicKey, "ca-key", nil)
	require.NoError(t, err)
	h, err := p11conf.InsecureWeakHashPIN([]byte(testPIN))
	require.NoError(t, err)
	pin := &pinGuard{hash: h, max: 3, file: filepath.Join(t.TempDir(), "failures")}
	tt.token = newTokenOf(&key.PublicKey, "ca-token", "0011223344556677", objs, pin, 5*time.Second, slog.New(slog.DiscardHandler))
	tt.connect = func(context.Context) (clusterSigner, io.Closer, error) {
		s, err := x509sign.New(&key.PublicKey, local.Distributor().KeyID(), local.Distributor(), nil)
		return s, io.NopCloser(nil), err
	}
	return tt
}

// loggedIn opens a session and logs in.
func (tt *testToken) loggedIn(t *testing.T) uint {
	t.Helper()
	h, rv := tt.openSession(slotID, ckfSerialSession)
	require.Equal(t, uint(ckrOK), rv)
	require.Equal(t, uint(ckrOK), tt.login(h, ckuUser, []byte(testPIN)))
	return h
}

// signOnce signs data with mech in session h in one C_Sign.
func (tt *testToken) signOnce(t *testing.T, h, mech uint, pp pssParams, data []byte) ([]byte, uint) {
	t.Helper()
	if rv := tt.signInit(h, mech, pp, hPrivateKey); rv != ckrOK {
		return nil, rv
	}
	sig, _, rv := tt.finish(context.Background(), h, data, true, 4096)
	return sig, rv
}

func TestParseDigestInfo(t *testing.T) {
	d256 := sha256.Sum256([]byte("tbs"))
	d512 := sha512.Sum512([]byte("tbs"))
	for _, c := range []struct {
		name string
		in   []byte
		hash crypto.Hash
	}{
		{"sha256", append(bytes.Clone(digestInfoPrefixes[0].prefix), d256[:]...), crypto.SHA256},
		{"sha512", append(bytes.Clone(digestInfoPrefixes[2].prefix), d512[:]...), crypto.SHA512},
	} {
		h, d, err := parseDigestInfo(c.in)
		require.NoError(t, err, c.name)
		require.Equal(t, c.hash, h, c.name)
		require.Equal(t, c.in[len(c.in)-c.hash.Size():], d, c.name)
	}
	sha1Info := append([]byte{0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14}, make([]byte, 20)...)
	noNull := append([]byte{0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x04, 0x20}, d256[:]...)
	good := append(bytes.Clone(digestInfoPrefixes[0].prefix), d256[:]...)
	for name, in := range map[string][]byte{
		"sha1": sha1Info, "no NULL parameters": noNull, "bare digest": d256[:],
		"trailing byte": append(bytes.Clone(good), 0), "short digest": good[:len(good)-1], "empty": nil,
		"sha256 prefix, sha512 length": append(bytes.Clone(digestInfoPrefixes[0].prefix), d512[:]...),
	} {
		_, _, err := parseDigestInfo(in)
		require.ErrorIs(t, err, errDigestInfo, name)
	}
}

func TestParamsOf(t *testing.T) {
	pss := func(h, mgf, salt uint) pssParams {
		return pssParams{present: true, hashAlg: h, mgf: mgf, saltBytes: salt}
	}
	for _, c := range []struct {
		name string
		mech uint
		pp   pssParams
		rv   uint
		salt int
	}{
		{"RSA_PKCS", ckmRSAPKCS, pssParams{}, ckrOK, 0},
		{"RSA_PKCS with params", ckmRSAPKCS, pss(ckmSHA256, ckgMGF1SHA256, 32), ckrMechanismParamInvalid, 0},
		{"SHA256_RSA_PKCS", ckmSHA256RSAPKCS, pssParams{}, ckrOK, 0},
		{"SHA384_RSA_PKCS_PSS", ckmSHA384RSAPKCSPSS, pss(ckmSHA384, ckgMGF1SHA384, 48), ckrOK, 48},
		{"SHA256_RSA_PKCS_PSS no params", ckmSHA256RSAPKCSPSS, pssParams{}, ckrOK, 32},
		{"PSS hash mismatch", ckmSHA256RSAPKCSPSS, pss(ckmSHA512, ckgMGF1SHA512, 32), ckrMechanismParamInvalid, 0},
		{"PSS MGF mismatch", ckmSHA256RSAPKCSPSS, pss(ckmSHA256, ckgMGF1SHA512, 32), ckrMechanismParamInvalid, 0},
		{"PSS salt 0", ckmSHA256RSAPKCSPSS, pss(ckmSHA256, ckgMGF1SHA256, 0), ckrMechanismParamInvalid, 0},
		{"PSS salt too long", ckmSHA512RSAPKCSPSS, pss(ckmSHA512, ckgMGF1SHA512, 200), ckrMechanismParamInvalid, 0},
		{"RSA_PKCS_PSS", ckmRSAPKCSPSS, pss(ckmSHA256, ckgMGF1SHA256, 20), ckrOK, 20},
		{"RSA_PKCS_PSS without params", ckmRSAPKCSPSS, pssParams{}, ckrMechanismParamInvalid, 0},
		{"RSA_PKCS_PSS with SHA-1", ckmRSAPKCSPSS, pss(0x220, 1, 20), ckrMechanismParamInvalid, 0},
		{"SHA1_RSA_PKCS", 0x06, pssParams{}, ckrMechanismInvalid, 0},
		{"RSA_X_509", 0x03, pssParams{}, ckrMechanismInvalid, 0},
	} {
		sp, rv := paramsOf(c.mech, c.pp, 2048)
		require.Equal(t, c.rv, rv, c.name)
		if rv == ckrOK && c.salt != 0 {
			require.Equal(t, c.salt, sp.pss.SaltLength, c.name)
		}
	}
}

// testCert is a certificate of key's public key.
func testCert(t testing.TB, key *rsa.PrivateKey) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "ca"}, NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c
}

func TestObjectSearchAndAttributes(t *testing.T) {
	tt := newTestToken(t)
	cert := testCert(t, tt.key)
	objs, err := newObjects(&tt.key.PublicKey, "ca-key", cert)
	require.NoError(t, err)
	tt.objects = objs
	h, rv := tt.openSession(slotID, ckfSerialSession)
	require.Equal(t, uint(ckrOK), rv)
	find := func(tmpl ...attribute) []uint {
		require.Equal(t, uint(ckrOK), tt.findInit(h, tmpl))
		defer tt.findFinal(h)
		var all []uint
		for {
			got, rv := tt.findNext(h, 1)
			require.Equal(t, uint(ckrOK), rv)
			if len(got) == 0 {
				return all
			}
			all = append(all, got...)
		}
	}
	id := keyObjectID(&tt.key.PublicKey)
	require.Equal(t, []uint{hPublicKey, hCertificate}, find(), "before login, the private key is hidden")
	require.Empty(t, find(attribute{ckaClass, ulong(ckoPrivateKey)}))
	require.Equal(t, uint(ckrOK), tt.login(h, ckuUser, []byte(testPIN)))
	require.Equal(t, []uint{hPrivateKey, hPublicKey, hCertificate}, find())
	require.Equal(t, []uint{hPrivateKey, hPublicKey, hCertificate}, find(attribute{ckaID, id}), "one CKA_ID for all")
	require.Equal(t, []uint{hPrivateKey}, find(attribute{ckaClass, ulong(ckoPrivateKey)}, attribute{ckaKeyType, ulong(ckkRSA)}, attribute{ckaLabel, []byte("ca-key")}))
	require.Equal(t, []uint{hCertificate}, find(attribute{ckaClass, ulong(ckoCertificate)}, attribute{ckaSubject, cert.RawSubject}))
	require.Empty(t, find(attribute{ckaLabel, []byte("other")}))
	require.Empty(t, find(attribute{ckaClass, boolAttr(true)}), "a value of the wrong size never matches")
	require.Empty(t, find(attribute{ckaPrivateExponent, tt.key.D.Bytes()}), "a secret never matches")
	require.Equal(t, uint(ckrOK), tt.findInit(h, nil))
	require.Equal(t, uint(ckrOperationActive), tt.findInit(h, nil))

	priv, rv := tt.object(hPrivateKey)
	require.Equal(t, uint(ckrOK), rv)
	for _, a := range sensitiveRSA {
		_, rv := priv.get(a)
		require.Equal(t, uint(ckrAttributeSensitive), rv)
	}
	n, rv := priv.get(ckaModulus)
	require.Equal(t, uint(ckrOK), rv)
	require.Equal(t, tt.key.N.Bytes(), n)
	e, _ := priv.get(ckaPublicExponent)
	require.Equal(t, []byte{1, 0, 1}, e)
	_, rv = priv.get(ckaCertificateType)
	require.Equal(t, uint(ckrAttributeTypeInvalid), rv)
	c, _ := tt.object(hCertificate)
	v, _ := c.get(ckaValue)
	require.Equal(t, cert.Raw, v)

	other := testkeys.Must(testkeys.RSA2048b)
	_, err = newObjects(&tt.key.PublicKey, "x", testCert(t, other))
	require.ErrorIs(t, err, errCertificate)
}

func TestSessions(t *testing.T) {
	tt := newTestToken(t)
	_, rv := tt.openSession(2, ckfSerialSession)
	require.Equal(t, uint(ckrSlotIDInvalid), rv)
	_, rv = tt.openSession(slotID, 0)
	require.Equal(t, uint(ckrSessionParallelNotSupp), rv)
	ro, _ := tt.openSession(slotID, ckfSerialSession)
	rw, _ := tt.openSession(slotID, ckfSerialSession|ckfRWSession)
	st, fl, rv := tt.sessionInfo(rw)
	require.Equal(t, []uint{ckrOK, cksRWPublicSession, ckfSerialSession | ckfRWSession}, []uint{rv, st, fl})
	require.Equal(t, uint(ckrOK), tt.login(ro, ckuUser, []byte(testPIN)))
	require.Equal(t, uint(ckrUserAlreadyLoggedIn), tt.login(rw, ckuUser, []byte(testPIN)))
	st, _, _ = tt.sessionInfo(ro)
	require.Equal(t, uint(cksROUserFunctions), st)
	st, _, _ = tt.sessionInfo(rw)
	require.Equal(t, uint(cksRWUserFunctions), st)
	require.Equal(t, uint(ckrOK), tt.closeSession(ro))
	require.True(t, tt.isLoggedIn(), "another session is open")
	require.Equal(t, uint(ckrOK), tt.closeSession(rw))
	require.False(t, tt.isLoggedIn(), "closing the last session logs out")
	require.Equal(t, uint(ckrSessionHandleInvalid), tt.closeSession(rw))
	_, _, rv = tt.sessionInfo(rw)
	require.Equal(t, uint(ckrSessionHandleInvalid), rv)
	h, _ := tt.openSession(slotID, ckfSerialSession)
	require.Equal(t, uint(ckrUserNotLoggedIn), tt.logout(h))
	require.Equal(t, uint(ckrUserNotLoggedIn), tt.signInit(h, ckmSHA256RSAPKCS, pssParams{}, hPrivateKey))
	require.Equal(t, uint(ckrUserTypeInvalid), tt.login(h, 2, []byte(testPIN)))
	require.Equal(t, uint(ckrOK), tt.closeAll(slotID))
	require.Zero(t, tt.sessionCount())
}

func TestPINLockout(t *testing.T) {
	tt := newTestToken(t)
	h, _ := tt.openSession(slotID, ckfSerialSession)
	require.Equal(t, uint(ckrPINLenRange), tt.login(h, ckuUser, []byte("123")))
	require.Equal(t, uint(ckrPINIncorrect), tt.login(h, ckuUser, []byte("wrong-1")))
	require.Equal(t, uint(ckfUserPINCountLow), tt.pinFlags())
	require.Equal(t, uint(ckrPINIncorrect), tt.login(h, ckuUser, []byte("wrong-2")))
	require.Equal(t, uint(ckfUserPINCountLow|ckfUserPINFinalTry), tt.pinFlags())
	require.Equal(t, uint(ckrOK), tt.login(h, ckuUser, []byte(testPIN)), "a right PIN before the limit resets the count")
	require.Zero(t, tt.pinFlags())
	require.Equal(t, uint(ckrOK), tt.logout(h))
	for i := range 3 {
		require.Equal(t, uint(ckrPINIncorrect), tt.login(h, ckuUser, []byte(fmt.Sprint("wrong-", i))))
	}
	require.Equal(t, uint(ckrPINLocked), tt.login(h, ckuUser, []byte(testPIN)), "locked: even the right PIN is refused")
	require.Equal(t, uint(ckfUserPINLocked), tt.pinFlags())
	// The count is in the file: another process (a new guard) is locked too.
	other := &pinGuard{hash: tt.pin.hash, max: 3, file: tt.pin.file}
	require.Equal(t, uint(ckrPINLocked), other.check([]byte(testPIN)))
	require.NoError(t, os.Remove(tt.pin.file))
	require.Equal(t, uint(ckrOK), tt.login(h, ckuUser, []byte(testPIN)), "removing the count unlocks")
	// A count that cannot be read locks.
	require.NoError(t, os.WriteFile(tt.pin.file, []byte("garbage"), 0o600))
	require.Equal(t, uint(ckrDeviceError), other.check([]byte(testPIN)))
}

func TestSignMechanisms(t *testing.T) {
	tt := newTestToken(t)
	h := tt.loggedIn(t)
	pub := &tt.key.PublicKey
	msg := []byte("the TBS bytes of a certificate")
	d256 := sha256.Sum256(msg)
	d384 := sha512.Sum384(msg)
	info := append(bytes.Clone(digestInfoPrefixes[0].prefix), d256[:]...)
	pss := func(h, mgf, salt uint) pssParams {
		return pssParams{present: true, hashAlg: h, mgf: mgf, saltBytes: salt}
	}

	sig, rv := tt.signOnce(t, h, ckmRSAPKCS, pssParams{}, info)
	require.Equal(t, uint(ckrOK), rv)
	require.NoError(t, rsa.VerifyPKCS1v15(pub, crypto.SHA256, d256[:], sig))
	require.Nil(t, tt.lastSeen().Content, "CKM_RSA_PKCS is digest-only")

	sig, rv = tt.signOnce(t, h, ckmSHA384RSAPKCS, pssParams{}, msg)
	require.Equal(t, uint(ckrOK), rv)
	require.NoError(t, rsa.VerifyPKCS1v15(pub, crypto.SHA384, d384[:], sig))
	require.Equal(t, msg, tt.lastSeen().Content, "the calculators see the message")

	sig, rv = tt.signOnce(t, h, ckmSHA256RSAPKCSPSS, pss(ckmSHA256, ckgMGF1SHA256, 32), msg)
	require.Equal(t, uint(ckrOK), rv)
	require.NoError(t, rsa.VerifyPSS(pub, crypto.SHA256, d256[:], sig, &rsa.PSSOptions{SaltLength: 32}))
	require.Equal(t, msg, tt.lastSeen().Content)

	sig, rv = tt.signOnce(t, h, ckmRSAPKCSPSS, pss(ckmSHA256, ckgMGF1SHA256, 20), d256[:])
	require.Equal(t, uint(ckrOK), rv)
	require.NoError(t, rsa.VerifyPSS(pub, crypto.SHA256, d256[:], sig, &rsa.PSSOptions{SaltLength: 20}))

	_, rv = tt.signOnce(t, h, ckmRSAPKCSPSS, pss(ckmSHA256, ckgMGF1SHA256, 20), d256[:31])
	require.Equal(t, uint(ckrDataLenRange), rv)
	_, rv = tt.signOnce(t, h, ckmRSAPKCS, pssParams{}, d256[:])
	require.Equal(t, uint(ckrDataInvalid), rv, "a bare digest is not a DigestInfo")
	require.Equal(t, uint(ckrKeyFunctionNotPermitted), tt.signInit(h, ckmRSAPKCS, pssParams{}, hPublicKey))
	require.Equal(t, uint(ckrKeyHandleInvalid), tt.signInit(h, ckmRSAPKCS, pssParams{}, 99))
}

// lastSeen is the last request calculator hooks saw.
func (tt *testToken) lastSeen() *share.Request {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.seen[len(tt.seen)-1]
}

func TestSignLengthQueryAndMultiPart(t *testing.T) {
	tt := newTestToken(t)
	h := tt.loggedIn(t)
	msg := []byte("part one, part two")
	d := sha256.Sum256(msg)
	require.Equal(t, uint(ckrOK), tt.signInit(h, ckmSHA256RSAPKCS, pssParams{}, hPrivateKey))
	require.Equal(t, uint(ckrOperationActive), tt.signInit(h, ckmSHA256RSAPKCS, pssParams{}, hPrivateKey))
	_, need, rv := tt.finish(context.Background(), h, msg, false, 0)
	require.Equal(t, []uint{ckrOK, 256}, []uint{rv, uint(need)}, "a NULL buffer asks for the length")
	_, need, rv = tt.finish(context.Background(), h, msg, true, 100)
	require.Equal(t, []uint{ckrBufferTooSmall, 256}, []uint{rv, uint(need)}, "the operation stays active")
	sig, _, rv := tt.finish(context.Background(), h, msg, true, 256)
	require.Equal(t, uint(ckrOK), rv)
	require.NoError(t, rsa.VerifyPKCS1v15(&tt.key.PublicKey, crypto.SHA256, d[:], sig))
	_, _, rv = tt.finish(context.Background(), h, msg, true, 256)
	require.Equal(t, uint(ckrOperationNotInitialized), rv, "the signature ended the operation")

	require.Equal(t, uint(ckrOK), tt.signInit(h, ckmSHA256RSAPKCS, pssParams{}, hPrivateKey))
	require.Equal(t, uint(ckrOK), tt.signUpdate(h, msg[:9]))
	require.Equal(t, uint(ckrOK), tt.signUpdate(h, msg[9:]))
	sig, _, rv = tt.finish(context.Background(), h, nil, true, 512)
	require.Equal(t, uint(ckrOK), rv)
	require.NoError(t, rsa.VerifyPKCS1v15(&tt.key.PublicKey, crypto.SHA256, d[:], sig))
	require.Equal(t, uint(ckrOperationNotInitialized), tt.signUpdate(h, msg))

	require.Equal(t, uint(ckrOK), tt.signInit(h, ckmSHA256RSAPKCS, pssParams{}, hPrivateKey))
	require.Equal(t, uint(ckrOK), tt.signUpdate(h, make([]byte, share.MaxContentSize)))
	require.Equal(t, uint(ckrOK), tt.signUpdate(h, []byte{1}))
	_, _, rv = tt.finish(context.Background(), h, nil, true, 512)
	require.Equal(t, uint(ckrDataLenRange), rv)
}

func TestSignClusterErrors(t *testing.T) {
	tt := newTestToken(t, 4, 5)
	h := tt.loggedIn(t)
	msg := []byte("with two calculators down")
	sig, rv := tt.signOnce(t, h, ckmSHA256RSAPKCS, pssParams{}, msg)
	require.Equal(t, uint(ckrOK), rv, "t=3 of 5 still sign")
	d := sha256.Sum256(msg)
	require.NoError(t, rsa.VerifyPKCS1v15(&tt.key.PublicKey, crypto.SHA256, d[:], sig))

	tt.mu.Lock()
	tt.deny = true
	tt.mu.Unlock()
	_, rv = tt.signOnce(t, h, ckmSHA256RSAPKCS, pssParams{}, msg)
	require.Equal(t, uint(ckrFunctionRejected), rv, "a policy refusal")

	tt.mu.Lock()
	tt.deny = false
	tt.mu.Unlock()
	tt.local.StopCalculator(3)
	tt.timeout = 2 * time.Second
	_, rv = tt.signOnce(t, h, ckmSHA256RSAPKCS, pssParams{}, msg)
	require.Equal(t, uint(ckrDeviceError), rv, "fewer than t calculators")

	tt.signer = nil
	tt.connect = func(context.Context) (clusterSigner, io.Closer, error) { return nil, nil, errors.New("no NATS") }
	_, rv = tt.signOnce(t, h, ckmSHA256RSAPKCS, pssParams{}, msg)
	require.Equal(t, uint(ckrDeviceError), rv)
}

func TestRvOfSignError(t *testing.T) {
	for err, rv := range map[error]uint{
		fmt.Errorf("x: %w", broadcast.ErrRefused):                                        ckrFunctionRejected,
		fmt.Errorf("x: %w %w", broadcast.ErrDeadline, broadcast.ErrNotEnoughCalculators): ckrDeviceError,
		fmt.Errorf("x: %w", broadcast.ErrNoCombiner):                                     ckrDeviceError,
		fmt.Errorf("x: %w", broadcast.ErrDeadline):                                       ckrFunctionCanceled,
		context.DeadlineExceeded:                                                         ckrFunctionCanceled,
		x509sign.ErrTooLarge:                                                             ckrDataLenRange,
		broadcast.ErrClosed:                                                              ckrDeviceRemoved,
		errors.New("other"):                                                              ckrFunctionFailed,
	} {
		require.Equal(t, rv, rvOfSignError(err), err.Error())
	}
}

func TestConcurrentSessions(t *testing.T) {
	tt := newTestToken(t)
	tt.timeout = time.Minute // 16 at once on 2 cores under -race
	tt.loggedIn(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			h, rv := tt.openSession(slotID, ckfSerialSession)
			if rv != ckrOK {
				errs <- fmt.Errorf("open: %#x", rv)
				return
			}
			msg := []byte(fmt.Sprint("session ", i))
			if rv := tt.signInit(h, ckmSHA256RSAPKCS, pssParams{}, hPrivateKey); rv != ckrOK {
				errs <- fmt.Errorf("init: %#x", rv)
				return
			}
			sig, _, rv := tt.finish(context.Background(), h, msg, true, 256)
			d := sha256.Sum256(msg)
			if rv != ckrOK {
				errs <- fmt.Errorf("session %d: sign: %#x, want CKR_OK", i, rv)
				return
			}
			if err := rsa.VerifyPKCS1v15(&tt.key.PublicKey, crypto.SHA256, d[:], sig); err != nil {
				errs <- fmt.Errorf("session %d: the signature does not verify: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// TestRegressionInitializeAcceptsGnuTLSArgs: GnuTLS's certtool (through
// p11-kit) initializes with mutex functions but without
// CKF_OS_LOCKING_OK, and with CKF_LIBRARY_CANT_CREATE_OS_THREADS; the
// module refused both ("Thread locking error").
func TestRegressionInitializeAcceptsGnuTLSArgs(t *testing.T) {
	all := [4]bool{true, true, true, true}
	require.Equal(t, uint(ckrOK), checkInitArgs(false, all, 0), "mutex functions without CKF_OS_LOCKING_OK")
	require.Equal(t, uint(ckrOK), checkInitArgs(false, all, ckfOSLockingOK))
	require.Equal(t, uint(ckrOK), checkInitArgs(false, [4]bool{}, 0x1), "CKF_LIBRARY_CANT_CREATE_OS_THREADS")
	require.Equal(t, uint(ckrArgumentsBad), checkInitArgs(false, [4]bool{true, false, true, true}, ckfOSLockingOK))
	require.Equal(t, uint(ckrArgumentsBad), checkInitArgs(true, [4]bool{}, ckfOSLockingOK))
}

// TestRegressionPSSWithoutHashPanics: CKM_RSA_PKCS_PSS with a hash the
// cluster does not sign with (SHA-1) panicked in crypto.Hash.Size.
func TestRegressionPSSWithoutHashPanics(t *testing.T) {
	for _, h := range []uint{0x220, 0, 0x255} { // CKM_SHA_1, none, CKM_SHA224
		require.NotPanics(t, func() {
			_, rv := paramsOf(ckmRSAPKCSPSS, pssParams{present: true, hashAlg: h, mgf: 1, saltBytes: 20}, 2048)
			require.Equal(t, uint(ckrMechanismParamInvalid), rv)
		})
	}
}

func TestGuardRecovers(t *testing.T) {
	rv := func() (rv uint64) {
		defer guard(&rv)
		var m map[string]int
		//lint:ignore SA5000 the test needs a panic to recover from
		m["x"]++
		return ckrOK
	}()
	require.Equal(t, uint64(ckrGeneralError), rv)
}
