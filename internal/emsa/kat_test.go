package emsa

import (
	"bufio"
	"bytes"
	"crypto"
	"encoding/hex"
	"math/big"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// katKey is one [mod = 2048] key of the NIST file and its vectors.
type katKey struct {
	scheme  string // "PKCS1v15" or "PSS"
	n, e, d *big.Int
	vectors []katVector
}

// katVector is one SigGen record: a message, its signature, and for PSS
// the salt.
type katVector struct {
	hash   crypto.Hash
	msg, s []byte
	salt   []byte
}

var katHashes = map[string]crypto.Hash{"SHA256": crypto.SHA256, "SHA384": crypto.SHA384, "SHA512": crypto.SHA512}

// readKAT parses testdata/nist-186-3-siggen.txt: sections [PKCS1v15] and
// [PSS], each with n, e, d and then records of SHAAlg, Msg, S (and
// SaltVal for PSS), in NIST's "name = hex" lines.
func readKAT(t *testing.T) []*katKey {
	t.Helper()
	f, err := os.Open("testdata/nist-186-3-siggen.txt")
	require.NoError(t, err)
	defer f.Close()
	var keys []*katKey
	var key *katKey
	var v *katVector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<16)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			key = &katKey{scheme: strings.Trim(line, "[]")}
			keys = append(keys, key)
			continue
		}
		name, value, ok := strings.Cut(line, " = ")
		require.True(t, ok, "line %q", line)
		require.NotNil(t, key, "line %q before a section", line)
		switch name {
		case "n", "e", "d":
			x, ok := new(big.Int).SetString(value, 16)
			require.True(t, ok, "%s", name)
			*map[string]**big.Int{"n": &key.n, "e": &key.e, "d": &key.d}[name] = x
		case "SHAAlg":
			h, ok := katHashes[value]
			require.True(t, ok, "hash %q", value)
			key.vectors = append(key.vectors, katVector{hash: h})
			v = &key.vectors[len(key.vectors)-1]
		case "Msg", "S", "SaltVal":
			require.NotNil(t, v, "%s before SHAAlg", name)
			b, err := hex.DecodeString(value)
			require.NoError(t, err, "%s", name)
			*map[string]*[]byte{"Msg": &v.msg, "S": &v.s, "SaltVal": &v.salt}[name] = b
		default:
			require.FailNow(t, "unknown field in the vector file", "field %q", name)
		}
	}
	require.NoError(t, sc.Err())
	require.Len(t, keys, 2)
	return keys
}

// katEM returns S^e mod N as k bytes: the encoded message the signer
// exponentiated, recovered from the published signature.
func katEM(key *katKey, s []byte) []byte {
	k := (key.n.BitLen() + 7) / 8
	m := new(big.Int).Exp(new(big.Int).SetBytes(s), key.e, key.n)
	return m.FillBytes(make([]byte, k))
}

func katDigest(h crypto.Hash, msg []byte) []byte {
	hh := h.New()
	hh.Write(msg)
	return hh.Sum(nil)
}

// TestKATPKCS1v15: for every NIST SigGen15 vector, PKCS1v15 builds exactly
// the encoded message that the published signature opens to, and raising
// it to d gives the published signature.
func TestKATPKCS1v15(t *testing.T) {
	for _, key := range readKAT(t) {
		if key.scheme != "PKCS1v15" {
			continue
		}
		require.NotEmpty(t, key.vectors)
		k := (key.n.BitLen() + 7) / 8
		for n, v := range key.vectors {
			em, err := PKCS1v15(v.hash, katDigest(v.hash, v.msg), k)
			require.NoError(t, err, "vector %d", n)
			require.Equal(t, hex.EncodeToString(katEM(key, v.s)), hex.EncodeToString(em), "vector %d (%v)", n, v.hash)
			s := new(big.Int).Exp(new(big.Int).SetBytes(em), key.d, key.n).FillBytes(make([]byte, k))
			require.Equal(t, v.s, s, "vector %d: EM^d", n)
		}
	}
}

// TestKATPSS: for every NIST SigGenPSS vector, PSSEncode with the vector's
// salt builds exactly the encoded message that the published signature
// opens to, and PSSVerify accepts it with the salt's length and with any
// length, and refuses it for another digest or another salt length.
func TestKATPSS(t *testing.T) {
	for _, key := range readKAT(t) {
		if key.scheme != "PSS" {
			continue
		}
		require.NotEmpty(t, key.vectors)
		bits := key.n.BitLen()
		for n, v := range key.vectors {
			digest := katDigest(v.hash, v.msg)
			want, err := FromModulusSize(katEM(key, v.s), bits)
			require.NoError(t, err, "vector %d", n)
			em, err := PSSEncode(bytes.NewReader(v.salt), v.hash, digest, len(v.salt), bits)
			require.NoError(t, err, "vector %d", n)
			require.Equal(t, hex.EncodeToString(want), hex.EncodeToString(em), "vector %d (%v)", n, v.hash)

			require.NoError(t, PSSVerify(want, v.hash, digest, len(v.salt), bits), "vector %d", n)
			require.NoError(t, PSSVerify(want, v.hash, digest, SaltLengthAuto, bits), "vector %d", n)
			require.ErrorIs(t, PSSVerify(want, v.hash, digest, len(v.salt)+1, bits), ErrInconsistent, "vector %d", n)
			other := bytes.Clone(digest)
			other[0] ^= 1
			require.ErrorIs(t, PSSVerify(want, v.hash, other, len(v.salt), bits), ErrInconsistent, "vector %d", n)
		}
	}
}
