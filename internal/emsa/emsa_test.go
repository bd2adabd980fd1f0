package emsa

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var hashes = []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512}

var sentinels = []error{
	ErrHashUnsupported, ErrDigestLength, ErrModulusSize, ErrMessageTooLong,
	ErrSaltLength, ErrNilRand, ErrEncodedLength, ErrInconsistent,
}

// Keys are generated once per test binary (rsa.GenerateKey in Go 1.26 always
// uses a secure source). 2049 bits exercises (modBits-1)%8 == 0.
var keys = sync.OnceValues(func() (map[int]*rsa.PrivateKey, error) {
	m := map[int]*rsa.PrivateKey{}
	for _, bits := range []int{2048, 2049, 3072} {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return nil, err
		}
		if k.N.BitLen() != bits {
			return nil, fmt.Errorf("generated %d-bit key for %d", k.N.BitLen(), bits)
		}
		m[bits] = k
	}
	return m, nil
})

func testKey(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	m, err := keys()
	require.NoError(t, err)
	return m[bits]
}

// rawSign computes em^d mod N as a k-byte string (textbook RSA, test only).
func rawSign(t testing.TB, priv *rsa.PrivateKey, em []byte) []byte {
	t.Helper()
	k := priv.Size()
	require.Len(t, em, k, "rawSign: len(em)")
	m := new(big.Int).SetBytes(em)
	require.Negative(t, m.Cmp(priv.N), "rawSign: message representative out of range")
	return new(big.Int).Exp(m, priv.D, priv.N).FillBytes(make([]byte, k))
}

// rawOpen computes sig^e mod N as a k-byte string.
func rawOpen(pub *rsa.PublicKey, sig []byte) []byte {
	s := new(big.Int).SetBytes(sig)
	return new(big.Int).Exp(s, big.NewInt(int64(pub.E)), pub.N).FillBytes(make([]byte, pub.Size()))
}

func digestOf(h crypto.Hash, msg string) []byte {
	hh := h.New()
	io.WriteString(hh, msg)
	return hh.Sum(nil)
}

// patternReader yields a fixed, repeating byte pattern (deterministic salt).
type patternReader struct{ b byte }

func (r *patternReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.b
		r.b = r.b*31 + 7
	}
	return len(p), nil
}

func TestPKCS1v15MatchesCryptoRSA(t *testing.T) {
	for _, bits := range []int{2048, 2049, 3072} {
		priv := testKey(t, bits)
		for _, h := range hashes {
			t.Run(fmt.Sprintf("%d/%v", bits, h), func(t *testing.T) {
				d := digestOf(h, "threshold pkcs1v15")
				em, err := PKCS1v15(h, d, priv.Size())
				require.NoError(t, err)
				want, err := rsa.SignPKCS1v15(nil, priv, h, d)
				require.NoError(t, err)
				require.Equal(t, want, rawSign(t, priv, em), "raw signature of our encoding against rsa.SignPKCS1v15")
				require.Equal(t, em, rawOpen(&priv.PublicKey, want), "opened rsa.SignPKCS1v15 signature against our encoding")
			})
		}
	}
}

func TestPKCS1v15KnownAnswer(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 Appendix B.1.
	d := sha256.Sum256([]byte("abc"))
	require.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex.EncodeToString(d[:]), "SHA-256(abc)")
	// RFC 8017 9.2: 00 01 PS 00 T, T = DigestInfo (19-byte SHA-256 prefix from
	// Note 1 + 32-byte digest), PS = 256 - 51 - 3 = 202 bytes of 0xff.
	want := "0001" + strings.Repeat("ff", 202) + "00" +
		"3031300d060960864801650304020105000420" +
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	em, err := PKCS1v15(crypto.SHA256, d[:], 256)
	require.NoError(t, err)
	require.Equal(t, want, hex.EncodeToString(em))
}

// TestDigestInfoDER checks the hard-coded prefixes against encoding/asn1.
func TestDigestInfoDER(t *testing.T) {
	oids := map[crypto.Hash]asn1.ObjectIdentifier{
		crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
		crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
		crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
	}
	type digestInfo struct {
		Alg    pkix.AlgorithmIdentifier
		Digest []byte
	}
	for _, h := range hashes {
		d := digestOf(h, "x")
		der, err := asn1.Marshal(digestInfo{pkix.AlgorithmIdentifier{Algorithm: oids[h], Parameters: asn1.NullRawValue}, d})
		require.NoError(t, err)
		k := len(der) + 11
		em, err := PKCS1v15(h, d, k)
		require.NoError(t, err, "%v: minimal k=%d", h, k)
		require.Equal(t, der, em[k-len(der):], "%v: DigestInfo", h)
		require.Equal(t, []byte{0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0}, em[:k-len(der)], "%v: header", h)
		_, err = PKCS1v15(h, d, k-1)
		require.ErrorIs(t, err, ErrMessageTooLong, "%v: k=%d", h, k-1)
	}
}

var saltModes = []int{SaltLengthEqualsHash, 20, SaltLengthAuto}

// forEachPSSCase runs f as a subtest for every key size in bits, every hash
// and every salt mode, with the key's modulus length in bits.
func forEachPSSCase(t *testing.T, bits []int, f func(t *testing.T, priv *rsa.PrivateKey, modBits int, h crypto.Hash, sl int)) {
	t.Helper()
	for _, b := range bits {
		priv := testKey(t, b)
		for _, h := range hashes {
			for _, sl := range saltModes {
				t.Run(fmt.Sprintf("%d/%v/salt%d", b, h, sl), func(t *testing.T) { f(t, priv, priv.N.BitLen(), h, sl) })
			}
		}
	}
}

func TestPSSEncodeVerifiesWithCryptoRSA(t *testing.T) {
	forEachPSSCase(t, []int{2048, 2049, 3072}, func(t *testing.T, priv *rsa.PrivateKey, modBits int, h crypto.Hash, sl int) {
		d := digestOf(h, "threshold pss")
		em, err := PSSEncode(rand.Reader, h, d, sl, modBits)
		require.NoError(t, err)
		require.Len(t, em, (modBits-1+7)/8, "len(em)")
		full, err := ToModulusSize(em, priv.Size())
		require.NoError(t, err)
		sig := rawSign(t, priv, full)
		require.NoError(t, rsa.VerifyPSS(&priv.PublicKey, h, d, sig, &rsa.PSSOptions{SaltLength: sl}), "rsa.VerifyPSS(salt %d)", sl)
		require.NoError(t, rsa.VerifyPSS(&priv.PublicKey, h, d, sig, nil), "rsa.VerifyPSS(auto)")
		require.NoError(t, PSSVerify(em, h, d, sl, modBits), "PSSVerify")
	})
}

// TestPSSMatchesCryptoRSADeterministic feeds the same salt bytes to
// rsa.SignPSS and PSSEncode and compares the encoded messages byte for byte.
func TestPSSMatchesCryptoRSADeterministic(t *testing.T) {
	forEachPSSCase(t, []int{2048, 2049}, func(t *testing.T, priv *rsa.PrivateKey, modBits int, h crypto.Hash, sl int) {
		d := digestOf(h, "deterministic")
		sig, err := rsa.SignPSS(&patternReader{b: 3}, priv, h, d, &rsa.PSSOptions{SaltLength: sl})
		require.NoError(t, err)
		want, err := FromModulusSize(rawOpen(&priv.PublicKey, sig), modBits)
		require.NoError(t, err)
		got, err := PSSEncode(&patternReader{b: 3}, h, d, sl, modBits)
		require.NoError(t, err)
		require.Equal(t, want, got, "PSSEncode against the rsa.SignPSS encoding")
	})
}

func TestPSSVerifyCryptoRSASignatures(t *testing.T) {
	forEachPSSCase(t, []int{2048, 2049, 3072}, func(t *testing.T, priv *rsa.PrivateKey, modBits int, h crypto.Hash, sl int) {
		d := digestOf(h, "verify me")
		sig, err := rsa.SignPSS(rand.Reader, priv, h, d, &rsa.PSSOptions{SaltLength: sl})
		require.NoError(t, err)
		em, err := FromModulusSize(rawOpen(&priv.PublicKey, sig), modBits)
		require.NoError(t, err)
		orig := bytes.Clone(em)
		require.NoError(t, PSSVerify(em, h, d, sl, modBits), "PSSVerify(salt %d)", sl)
		require.NoError(t, PSSVerify(em, h, d, SaltLengthAuto, modBits), "PSSVerify(auto)")
		require.Equal(t, orig, em, "PSSVerify modified em")
		// Wrong explicit salt length.
		require.ErrorIs(t, PSSVerify(em, h, d, 19, modBits), ErrInconsistent, "salt 19")
		// Wrong digest.
		d2 := bytes.Clone(d)
		d2[0] ^= 1
		require.ErrorIs(t, PSSVerify(em, h, d2, sl, modBits), ErrInconsistent, "wrong digest")
		// Bit flips anywhere in EM (sampled, plus first and last bit).
		positions := []int{0, 7, len(em)*8 - 1, len(em)*8 - 8}
		for p := 3; p < len(em)*8; p += 41 {
			positions = append(positions, p)
		}
		for _, p := range positions {
			bad := bytes.Clone(em)
			bad[p/8] ^= 0x80 >> (p % 8)
			for _, mode := range []int{sl, SaltLengthAuto} {
				require.ErrorIs(t, PSSVerify(bad, h, d, mode, modBits), ErrInconsistent, "bit %d flipped (mode %d)", p, mode)
			}
		}
	})
}

func TestPSSEmLen(t *testing.T) {
	for _, c := range []struct{ modBits, emLen int }{
		{2, 1}, {9, 1}, {10, 2}, {2048, 256}, {2049, 256}, {2050, 257},
		{2056, 257}, {2057, 257}, {2058, 258}, {MaxModulusBits, MaxModulusBits / 8},
	} {
		_, emLen, err := pssLengths(c.modBits)
		if assert.NoError(t, err, "modBits %d", c.modBits) {
			assert.Equal(t, c.emLen, emLen, "modBits %d: emLen", c.modBits)
		}
	}

	// Synthetic round trips over every residue of modBits mod 8, including
	// (modBits-1)%8 == 0, checking the cleared top bits.
	d := digestOf(crypto.SHA256, "emlen")
	for modBits := 1024; modBits <= 1041; modBits++ {
		emBits := modBits - 1
		emLen := (emBits + 7) / 8
		em, err := PSSEncode(&patternReader{b: byte(modBits)}, crypto.SHA256, d, 32, modBits)
		require.NoError(t, err)
		require.Len(t, em, emLen, "modBits %d", modBits)
		if top := 8*emLen - emBits; top > 0 {
			require.Zero(t, em[0]>>(8-top), "modBits %d: top %d bits not clear: %08b", modBits, top, em[0])
		}
		require.NoError(t, PSSVerify(em, crypto.SHA256, d, 32, modBits), "modBits %d", modBits)
		// Setting a bit that must be zero is inconsistent.
		if top := 8*emLen - emBits; top > 0 {
			bad := bytes.Clone(em)
			bad[0] |= 0x80
			require.ErrorIs(t, PSSVerify(bad, crypto.SHA256, d, 32, modBits), ErrInconsistent, "modBits %d: top bit set", modBits)
		}
		// A k-byte (padded) EM is rejected when emLen = k-1.
		k := (modBits + 7) / 8
		full, err := ToModulusSize(em, k)
		require.NoError(t, err)
		if emLen < k {
			require.Zero(t, full[0], "ToModulusSize did not left-pad with a zero byte")
			require.Equal(t, em, full[1:], "ToModulusSize did not keep em after the padding")
			require.ErrorIs(t, PSSVerify(full, crypto.SHA256, d, 32, modBits), ErrEncodedLength, "modBits %d: k-byte em", modBits)
			bad := bytes.Clone(full)
			bad[0] = 1
			_, err := FromModulusSize(bad, modBits)
			require.ErrorIs(t, err, ErrInconsistent, "FromModulusSize nonzero excess byte")
		}
		back, err := FromModulusSize(full, modBits)
		require.NoError(t, err, "FromModulusSize round trip")
		require.Equal(t, em, back, "FromModulusSize round trip")
		// Short big-endian input (leading zeros dropped) is padded.
		back, err = FromModulusSize(bytes.TrimLeft(full, "\x00"), modBits)
		require.NoError(t, err, "FromModulusSize short input")
		require.Equal(t, em, back, "FromModulusSize short input")
	}

	// The real 2049-bit key: emLen = 256 = k-1.
	priv := testKey(t, 2049)
	require.Equal(t, 257, priv.Size(), "k")
	em, err := PSSEncode(rand.Reader, crypto.SHA256, d, SaltLengthEqualsHash, 2049)
	require.NoError(t, err, "2049-bit encode")
	require.Len(t, em, 256, "2049-bit encode")
}

func TestPSSBoundaries(t *testing.T) {
	h := crypto.SHA256
	d := digestOf(h, "b")
	// emLen = 54 = hLen + 20 + 2 exactly: modBits = 8*54 + 1.
	modBits := 8*54 + 1
	em, err := PSSEncode(&patternReader{}, h, d, 20, modBits)
	require.NoError(t, err)
	require.NoError(t, PSSVerify(em, h, d, 20, modBits))
	require.NoError(t, PSSVerify(em, h, d, SaltLengthAuto, modBits))
	_, err = PSSEncode(&patternReader{}, h, d, 21, modBits)
	require.ErrorIs(t, err, ErrMessageTooLong, "salt 21")
	require.ErrorIs(t, PSSVerify(em, h, d, 21, modBits), ErrInconsistent, "verify salt 21")
	// Auto picks the maximum salt (20 here) and, for emLen = hLen+2, an
	// empty salt that needs no randomness.
	em2, err := PSSEncode(&patternReader{}, h, d, SaltLengthAuto, modBits)
	require.NoError(t, err, "auto salt")
	require.Equal(t, em, em2, "auto salt against salt 20")
	small := 8*34 + 1
	em3, err := PSSEncode(nil, h, d, SaltLengthAuto, small)
	require.NoError(t, err)
	require.NoError(t, PSSVerify(em3, h, d, SaltLengthAuto, small))
	_, err = PSSEncode(nil, h, d, SaltLengthAuto, small-8)
	require.ErrorIs(t, err, ErrMessageTooLong, "auto too small")
	// emLen = hLen+1: no room even for the separator.
	tiny := make([]byte, 33)
	tiny[32] = 0xbc
	require.ErrorIs(t, PSSVerify(tiny, h, d, SaltLengthAuto, small-8), ErrInconsistent, "verify emLen=hLen+1")
	// Randomness failures.
	_, err = PSSEncode(nil, h, d, 20, 2048)
	require.ErrorIs(t, err, ErrNilRand)
	_, err = PSSEncode(bytes.NewReader(make([]byte, 19)), h, d, 20, 2048)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "short rand")
	boom := errors.New("boom")
	_, err = PSSEncode(io.MultiReader(errReader{boom}), h, d, 20, 2048)
	require.ErrorIs(t, err, boom, "failing rand")
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestErrors(t *testing.T) {
	d256 := digestOf(crypto.SHA256, "e")
	type tc struct {
		name string
		err  error
		want error
	}
	var cases []tc
	add := func(name string, want error, err error) { cases = append(cases, tc{name, err, want}) }
	pk := func(h crypto.Hash, d []byte, k int) error { _, err := PKCS1v15(h, d, k); return err }
	enc := func(h crypto.Hash, d []byte, sl, mb int) error {
		_, err := PSSEncode(&patternReader{}, h, d, sl, mb)
		return err
	}
	ver := func(em []byte, h crypto.Hash, d []byte, sl, mb int) error { return PSSVerify(em, h, d, sl, mb) }
	em2048, _ := PSSEncode(&patternReader{}, crypto.SHA256, d256, 32, 2048)

	for _, h := range []crypto.Hash{crypto.SHA1, 0, 999, crypto.MD5, crypto.SHA224, crypto.SHA512_256, crypto.SHA3_256} {
		add(fmt.Sprintf("pkcs1 hash %d", h), ErrHashUnsupported, pk(h, d256, 256))
		add(fmt.Sprintf("enc hash %d", h), ErrHashUnsupported, enc(h, d256, 32, 2048))
		add(fmt.Sprintf("ver hash %d", h), ErrHashUnsupported, ver(em2048, h, d256, 32, 2048))
	}
	for _, d := range [][]byte{nil, {}, d256[:31], append(bytes.Clone(d256), 0), make([]byte, 48)} {
		add(fmt.Sprintf("pkcs1 digest %d", len(d)), ErrDigestLength, pk(crypto.SHA256, d, 256))
		add(fmt.Sprintf("enc digest %d", len(d)), ErrDigestLength, enc(crypto.SHA256, d, 32, 2048))
		add(fmt.Sprintf("ver digest %d", len(d)), ErrDigestLength, ver(em2048, crypto.SHA256, d, 32, 2048))
	}
	for _, k := range []int{math.MinInt, -1, 0, MaxModulusBits/8 + 1, math.MaxInt} {
		add(fmt.Sprintf("pkcs1 k %d", k), ErrModulusSize, pk(crypto.SHA256, d256, k))
		_, err := ToModulusSize([]byte{1}, k)
		add(fmt.Sprintf("pad k %d", k), ErrModulusSize, err)
	}
	for _, mb := range []int{math.MinInt, -1, 0, 1, MaxModulusBits + 1, math.MaxInt} {
		add(fmt.Sprintf("enc modBits %d", mb), ErrModulusSize, enc(crypto.SHA256, d256, 32, mb))
		add(fmt.Sprintf("ver modBits %d", mb), ErrModulusSize, ver(em2048, crypto.SHA256, d256, 32, mb))
		_, err := FromModulusSize(em2048, mb)
		add(fmt.Sprintf("unpad modBits %d", mb), ErrModulusSize, err)
	}
	for _, k := range []int{1, 11, 61} { // SHA-256 needs k >= 19+32+11 = 62
		add(fmt.Sprintf("pkcs1 short k %d", k), ErrMessageTooLong, pk(crypto.SHA256, d256, k))
	}
	add("pkcs1 sha512 short", ErrMessageTooLong, pk(crypto.SHA512, digestOf(crypto.SHA512, ""), 93))
	for _, sl := range []int{-2, -100, math.MinInt} {
		add(fmt.Sprintf("enc salt %d", sl), ErrSaltLength, enc(crypto.SHA256, d256, sl, 2048))
		add(fmt.Sprintf("ver salt %d", sl), ErrSaltLength, ver(em2048, crypto.SHA256, d256, sl, 2048))
	}
	for _, sl := range []int{223, 1 << 20, math.MaxInt} {
		add(fmt.Sprintf("enc big salt %d", sl), ErrMessageTooLong, enc(crypto.SHA256, d256, sl, 2048))
		add(fmt.Sprintf("ver big salt %d", sl), ErrInconsistent, ver(em2048, crypto.SHA256, d256, sl, 2048))
	}
	add("enc tiny modulus", ErrMessageTooLong, enc(crypto.SHA256, d256, SaltLengthEqualsHash, 512))
	for _, em := range [][]byte{nil, {}, em2048[1:], append([]byte{0}, em2048...)} {
		add(fmt.Sprintf("ver em len %d", len(em)), ErrEncodedLength, ver(em, crypto.SHA256, d256, 32, 2048))
	}
	_, err := ToModulusSize(make([]byte, 257), 256)
	add("pad too long", ErrEncodedLength, err)
	_, err = FromModulusSize(make([]byte, 257), 2048)
	add("unpad too long", ErrEncodedLength, err)

	for _, c := range cases {
		assert.ErrorIs(t, c.err, c.want, c.name)
	}
	// The sentinels are pairwise distinct.
	for i, a := range sentinels {
		for j, b := range sentinels {
			if i != j {
				assert.NotErrorIs(t, a, b, "sentinels %d and %d", i, j)
			}
		}
	}
	// Sanity: the shared inputs above are valid.
	require.NoError(t, ver(em2048, crypto.SHA256, d256, 32, 2048), "baseline")
	require.NoError(t, pk(crypto.SHA256, d256, 62), "baseline k=62")
}

func TestSupportedHash(t *testing.T) {
	for h, want := range map[crypto.Hash]bool{
		crypto.SHA256: true, crypto.SHA384: true, crypto.SHA512: true,
		crypto.SHA1: false, crypto.SHA224: false, crypto.SHA512_256: false,
		crypto.MD5: false, crypto.SHA3_256: false, 0: false, 999: false,
	} {
		assert.Equal(t, want, SupportedHash(h), "SupportedHash(%d)", h)
	}
}

func TestNoInputMutation(t *testing.T) {
	d := digestOf(crypto.SHA384, "m")
	dc := bytes.Clone(d)
	em, err := PKCS1v15(crypto.SHA384, d, 256)
	require.NoError(t, err)
	pem, err := PSSEncode(rand.Reader, crypto.SHA384, d, SaltLengthAuto, 2048)
	require.NoError(t, err)
	pc := bytes.Clone(pem)
	require.NoError(t, PSSVerify(pem, crypto.SHA384, d, SaltLengthAuto, 2048))
	full, _ := ToModulusSize(em, 256)
	full[0] = 9
	require.Equal(t, dc, d, "digest modified")
	require.Equal(t, pc, pem, "PSS encoding modified by PSSVerify")
	require.Zero(t, em[0], "PKCS1v15 output aliased by ToModulusSize")
}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func FuzzPKCS1v15(f *testing.F) {
	f.Add(uint(crypto.SHA256), make([]byte, 32), 256)
	f.Add(uint(crypto.SHA384), make([]byte, 48), 384)
	f.Add(uint(crypto.SHA512), make([]byte, 64), 94)
	f.Add(uint(crypto.SHA512), make([]byte, 64), 93)
	f.Add(uint(crypto.SHA1), make([]byte, 20), 128)
	f.Add(uint(0), []byte(nil), 0)
	f.Add(uint(999), []byte{1}, -1)
	f.Add(uint(crypto.SHA256), make([]byte, 32), math.MaxInt)
	f.Fuzz(func(t *testing.T, hid uint, digest []byte, k int) {
		h := crypto.Hash(hid)
		dc := bytes.Clone(digest)
		em, err := PKCS1v15(h, digest, k)
		require.Equal(t, dc, digest, "digest modified")
		if err != nil {
			require.True(t, isSentinel(err), "unexpected error %v", err)
			require.Nil(t, em, "em with an error")
			return
		}
		require.True(t, SupportedHash(h), "accepted hash %v", h)
		require.Len(t, digest, h.Size(), "accepted digest length")
		require.Len(t, em, k, "encoding length")
		tLen := len(hashPrefixes[h]) + len(digest)
		ps := em[2 : k-tLen-1]
		require.Equal(t, []byte{0, 1}, em[:2], "encoding header in %x", em)
		require.Zero(t, em[k-tLen-1], "separator after PS in %x", em)
		require.GreaterOrEqual(t, len(ps), 8, "PS length in %x", em)
		require.Empty(t, bytes.Trim(ps, "\xff"), "PS not all 0xff in %x", em)
		require.Equal(t, digest, em[k-len(digest):], "digest at the end of %x", em)
	})
}

func FuzzPSSVerify(f *testing.F) {
	d := digestOf(crypto.SHA256, "fuzz")
	for _, mb := range []int{2048, 2049, 1025} {
		em, err := PSSEncode(&patternReader{}, crypto.SHA256, d, 32, mb)
		require.NoError(f, err)
		f.Add(em, uint(crypto.SHA256), d, 32, 0, uint8(mb+6-8*len(em)))
		f.Add(em, uint(crypto.SHA256), d, SaltLengthAuto, mb, uint8(0))
	}
	f.Add([]byte(nil), uint(0), []byte(nil), 0, 0, uint8(0))
	f.Add([]byte{0xbc}, uint(crypto.SHA512), make([]byte, 64), -1, 2, uint8(0))
	f.Add(make([]byte, 34), uint(crypto.SHA256), make([]byte, 32), 0, 0, uint8(7))
	f.Add([]byte{1, 2, 3}, uint(crypto.SHA1), make([]byte, 20), math.MaxInt, math.MinInt, uint8(3))
	f.Fuzz(func(t *testing.T, em []byte, hid uint, digest []byte, saltLen, modBits int, adj uint8) {
		if modBits == 0 {
			// Derive a modBits for which len(em) is the right emLen.
			modBits = 8*len(em) - 6 + int(adj%8)
		}
		h := crypto.Hash(hid)
		ec, dc := bytes.Clone(em), bytes.Clone(digest)
		err := PSSVerify(em, h, digest, saltLen, modBits)
		require.Equal(t, ec, em, "em modified")
		require.Equal(t, dc, digest, "digest modified")
		if err != nil {
			require.True(t, isSentinel(err), "unexpected error %v", err)
		}
		// Round trip: whatever PSSEncode accepts, PSSVerify accepts.
		enc, err := PSSEncode(&patternReader{b: adj}, h, digest, saltLen, modBits)
		if err != nil {
			require.True(t, isSentinel(err), "unexpected encode error %v", err)
			return
		}
		require.NoError(t, PSSVerify(enc, h, digest, saltLen, modBits), "round trip failed")
		require.NoError(t, PSSVerify(enc, h, digest, SaltLengthAuto, modBits), "round trip (auto) failed")
	})
}
