package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testLogN is the scrypt work factor of tests: fast, and far below age's
// default, which stays in force everywhere else.
const testLogN = 10

const secretMarker = "SECRET-SHARE-0123456789abcdef"

func newID(t testing.TB) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	return id
}

// openKind returns the sentinel of Open that err wraps, or nil.
func openKind(err error) error {
	for _, k := range []error{ErrNotSealed, ErrWrongIdentity, ErrWrongPassphrase, ErrTampered} {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}

func TestSealOpenRoundTrip(t *testing.T) {
	id := newID(t)
	for _, pt := range [][]byte{nil, []byte("x"), []byte(secretMarker), bytes.Repeat([]byte("key material "), 10000)} {
		sealed, err := Seal(pt, id.Recipient())
		require.NoError(t, err)
		require.True(t, bytes.HasPrefix(sealed, []byte(armor.Header+"\n")), "not armored: %.40q", sealed)
		require.False(t, bytes.Contains(sealed, []byte(secretMarker)), "plaintext visible in the sealed file")
		got, err := Open(sealed, newID(t), id) // the second identity matches
		require.NoError(t, err, "round trip of %d bytes", len(pt))
		require.True(t, bytes.Equal(pt, got), "round trip of %d bytes: the plaintext changed", len(pt))
	}
	// Binary (unarmored) age opens too.
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, id.Recipient())
	require.NoError(t, err)
	_, err = io.WriteString(w, "binary")
	require.NoError(t, err)
	require.NoError(t, w.Close())
	got, err := Open(buf.Bytes(), id)
	require.NoError(t, err, "binary age")
	require.Equal(t, "binary", string(got), "binary age")
	_, err = Seal([]byte("x"), nil)
	require.Error(t, err, "sealed to no recipient")
	_, err = Seal([]byte("x"), (*age.X25519Recipient)(nil))
	require.Error(t, err, "sealed to a nil recipient")
	_, err = Open([]byte("x"))
	require.Error(t, err, "opened without identities")
	_, err = Open([]byte("x"), (*age.X25519Identity)(nil))
	require.Error(t, err, "opened with a nil identity")
}

func TestWrongIdentity(t *testing.T) {
	alice, bob := newID(t), newID(t)
	sealed, err := Seal([]byte(secretMarker), alice.Recipient())
	require.NoError(t, err)
	_, err = Open(sealed, bob)
	require.ErrorIs(t, err, ErrWrongIdentity, "bob opened alice's file")
	require.Equal(t, ErrWrongIdentity, openKind(err), "bob opened alice's file: the first sentinel err wraps")
	var nm *age.NoIdentityMatchError
	assert.ErrorAs(t, err, &nm, "age's error is not kept for errors.As")
	require.NotContains(t, err.Error(), secretMarker, "plaintext in the error")
}

func TestPassphrase(t *testing.T) {
	const pass = "correct horse battery staple"
	sealed, err := sealWithPassphrase([]byte(secretMarker), pass, testLogN)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(sealed, []byte(armor.Header)), "not armored")
	got, err := OpenWithPassphrase(sealed, pass)
	require.NoError(t, err, "round trip")
	require.Equal(t, secretMarker, string(got), "round trip")
	for _, wrong := range []string{"", "correct horse battery stapler", "x"} {
		_, err := OpenWithPassphrase(sealed, wrong)
		assert.Equal(t, ErrWrongPassphrase, openKind(err), "passphrase %q: %v", wrong, err)
		if wrong != "" && assert.Error(t, err, "passphrase %q", wrong) {
			assert.NotContains(t, err.Error(), wrong, "the passphrase is in the error")
		}
	}
	// An identity on a passphrase file, and a passphrase on an identity file.
	id := newID(t)
	_, err = Open(sealed, id)
	assert.Equal(t, ErrWrongIdentity, openKind(err), "identity on a passphrase file: %v", err)
	toID, err := Seal([]byte("x"), id.Recipient())
	require.NoError(t, err)
	_, err = OpenWithPassphrase(toID, pass)
	assert.Equal(t, ErrWrongIdentity, openKind(err), "passphrase on an identity file: %v", err)
	// Short passphrases are refused; the default work factor is age's.
	for _, short := range []string{"", "short", strings.Repeat("a", MinPassphraseLength-1)} {
		_, err := SealWithPassphrase([]byte("x"), short)
		assert.ErrorIs(t, err, ErrWeakPassphrase, "passphrase of %d bytes", len(short))
	}
	if testing.Short() || raceEnabled {
		return // scrypt at 2^18 takes about 1 s, 10 s under the race detector
	}
	def, err := SealWithPassphrase([]byte("x"), pass)
	require.NoError(t, err)
	hdr, _, found := strings.Cut(string(decodeArmor(t, def)), "\n---")
	require.True(t, found, "no header MAC line")
	assert.Contains(t, hdr, "-> scrypt ", "the header has no scrypt stanza")
	assert.Contains(t, hdr, " 18\n", "default work factor is not age's 2^18")
}

func decodeArmor(t testing.TB, b []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(armor.NewReader(bytes.NewReader(b)))
	require.NoError(t, err)
	return out
}

func encodeArmor(b []byte) []byte {
	var buf bytes.Buffer
	w := armor.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestTampered(t *testing.T) {
	id := newID(t)
	pt := bytes.Repeat([]byte(secretMarker), 3000) // 87 KB: two 64 KiB payload chunks
	sealed, err := Seal(pt, id.Recipient())
	require.NoError(t, err)
	bin := decodeArmor(t, sealed)
	hdrEnd := bytes.Index(bin, []byte("\n---")) + 1
	macEnd := hdrEnd + bytes.IndexByte(bin[hdrEnd:], '\n') + 1

	check := func(name string, b []byte, want error) {
		t.Helper()
		got, err := Open(b, id)
		require.Error(t, err, "%s: opened (%d bytes)", name, len(got))
		require.Nil(t, got, "%s: returned plaintext with an error", name)
		k := openKind(err)
		require.NotNil(t, k, "%s: %v wraps none of Open's sentinels", name, err)
		if want != nil {
			require.Equal(t, want, k, "%s: %v", name, err)
		}
		require.NotContains(t, err.Error(), secretMarker, "%s: plaintext in the error", name)
	}
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		return c
	}
	// The payload: nonce, every chunk, the last tag.
	for _, i := range []int{macEnd, macEnd + 20, macEnd + 100, macEnd + 70000, len(bin) - 1} {
		check("payload byte flipped", encodeArmor(flip(bin, i)), ErrTampered)
	}
	// The header MAC and the header lines it covers.
	check("MAC flipped", encodeArmor(flip(bin, macEnd-3)), ErrTampered)
	check("version line flipped", encodeArmor(flip(bin, 5)), ErrTampered)
	// Truncated: inside a chunk, at a chunk boundary, a whole chunk dropped,
	// after the header, inside the header.
	for _, n := range []int{len(bin) - 1, len(bin) - 17, macEnd + 16 + 65536 + 16, macEnd + 16, macEnd, hdrEnd - 10, 10} {
		check("binary truncated", encodeArmor(bin[:n]), ErrTampered)
	}
	check("trailing data", encodeArmor(append(bytes.Clone(bin), 0)), ErrTampered)
	check("trailing garbage after the armor", append(bytes.Clone(sealed), "garbage\n"...), ErrTampered)
	// The armored text: every prefix, and every byte replaced. A change in
	// the recipient stanza looks like another recipient (ErrWrongIdentity):
	// age cannot authenticate the stanza before it finds the file key.
	small, err := Seal([]byte(secretMarker), id.Recipient())
	require.NoError(t, err)
	for n := range len(small) - 1 {
		if strings.TrimSpace(string(small[n:])) == "" {
			continue
		}
		check("armor truncated", small[:n], nil)
	}
	for i := range small {
		for _, c := range []byte{'A', '/', '-', '\n', 0} {
			if small[i] == c {
				continue
			}
			b := bytes.Clone(small)
			b[i] = c
			if c == '\n' && (i == len(small)-1 || small[i+1] == '\n') {
				continue // an extra trailing newline is whitespace, not tampering
			}
			check("armor byte replaced", b, nil)
		}
	}
}

func TestNotSealed(t *testing.T) {
	id := newID(t)
	for _, in := range [][]byte{nil, []byte("  \n"), []byte(`{"format":"tolerant calculator key v1","shares":["` + secretMarker + `"]}`),
		[]byte("-----BEGIN PUBLIC KEY-----\n"), bytes.Repeat([]byte{0}, 100)} {
		_, err := Open(in, id)
		assert.Equal(t, ErrNotSealed, openKind(err), "%.20q: %v", in, err)
		if err != nil {
			assert.NotContains(t, err.Error(), secretMarker, "input quoted in the error")
		}
	}
	big := append([]byte(armor.Header+"\n"), make([]byte, MaxSealedSize)...)
	_, err := Open(big, id)
	assert.Equal(t, ErrNotSealed, openKind(err), "oversized input: %v", err)
}

// The header of a file sealed to a passphrase may demand any work factor:
// more than 2^20 is refused before any scrypt work.
func TestScryptWorkFactorCapped(t *testing.T) {
	sealed, err := sealWithPassphrase([]byte("x"), "correct horse battery staple", testLogN)
	require.NoError(t, err)
	bin := decodeArmor(t, sealed)
	i := bytes.Index(bin, []byte(" 10\n"))
	require.GreaterOrEqual(t, i, 0, "no work factor in the header:\n%s", bin)
	bumped := append(append(append([]byte{}, bin[:i]...), " 30\n"...), bin[i+4:]...)
	_, err = OpenWithPassphrase(encodeArmor(bumped), "correct horse battery staple")
	require.Equal(t, ErrTampered, openKind(err), "work factor 2^30: %v", err)
}

func TestIdentityFile(t *testing.T) {
	dir := t.TempDir()
	id := newID(t)
	path := filepath.Join(dir, "node.key")
	require.NoError(t, WriteIdentityFile(path, id))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "identity file mode")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	// age's identity file format: a created line, the public key, the identity.
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 3, "not age's identity file format:\n%s", b)
	require.True(t, strings.HasPrefix(lines[0], "# created: "), "first line %q, want a \"# created: \" comment", lines[0])
	require.Equal(t, "# public key: "+id.Recipient().String(), lines[1], "second line")
	require.Equal(t, id.String(), lines[2], "third line")
	back, err := ReadIdentityFile(path)
	require.NoError(t, err, "read back")
	require.Equal(t, id.String(), back.String(), "read back another identity")
	// age's own parser reads it too.
	ids, err := age.ParseIdentities(bytes.NewReader(b))
	require.NoError(t, err, "age.ParseIdentities")
	require.Len(t, ids, 1, "age.ParseIdentities")
	require.Error(t, WriteIdentityFile(path, newID(t)), "overwrote an identity file")
	again, err := ReadIdentityFile(path)
	require.NoError(t, err, "identity file changed")
	require.Equal(t, id.String(), again.String(), "identity file changed")

	other := newID(t)
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), mode))
		require.NoError(t, os.Chmod(p, mode))
		return p
	}
	for name, c := range map[string]struct {
		content string
		mode    os.FileMode
	}{
		"open.key":     {id.String() + "\n", 0o644},
		"two.key":      {id.String() + "\n" + other.String() + "\n", 0o600},
		"mismatch.key": {"# public key: " + other.Recipient().String() + "\n" + id.String() + "\n", 0o600},
		"empty.key":    {"# nothing\n", 0o600},
		"garbage.key":  {"hello " + id.String() + "\n", 0o600},
		"broken.key":   {id.String()[:len(id.String())-2] + "qq\n", 0o600},
		"recip.key":    {id.Recipient().String() + "\n", 0o600},
	} {
		p := write(name, c.content, c.mode)
		_, err := ReadIdentityFile(p)
		if !assert.Error(t, err, "%s accepted", name) {
			continue
		}
		assert.NotContains(t, strings.ToUpper(err.Error()), id.String()[16:30], "%s: secret key in the error", name)
	}
	_, err = ReadIdentityFile(filepath.Join(dir, "missing.key"))
	assert.ErrorIs(t, err, os.ErrNotExist, "missing file")
}

func TestParseRecipients(t *testing.T) {
	ids := make([]*age.X25519Identity, 5)
	for i := range ids {
		ids[i] = newID(t)
	}
	r := func(i int) string { return ids[i].Recipient().String() }
	good := "# recipients of cluster test\n\n" +
		"calculator 1 " + r(0) + "  # host a\n" +
		"calculator\t2\t" + r(1) + "\n" +
		"combiner 1 " + r(2) + "\n" +
		"distributor 1 " + r(2) + "\n" + // a distributor may share a host
		"   \n"
	rc, err := ParseRecipients(strings.NewReader(good))
	require.NoError(t, err)
	require.Len(t, rc.Calculators, 2, "calculators")
	require.Len(t, rc.Combiners, 1, "combiners")
	require.Len(t, rc.Distributors, 1, "distributors")
	require.IsType(t, &age.X25519Recipient{}, rc.Calculators[2], "calculator 2")
	require.Equal(t, r(1), rc.Calculators[2].(*age.X25519Recipient).String(), "calculator 2")
	require.NoError(t, rc.Check(1, 2, 1))
	err = rc.Check(1, 3, 2)
	if assert.ErrorIs(t, err, ErrRecipients, "missing recipients") {
		assert.Contains(t, err.Error(), "calculator 3", "missing recipients")
		assert.Contains(t, err.Error(), "combiner 2", "missing recipients")
	}
	err = rc.Check(1, 1, 1)
	if assert.ErrorIs(t, err, ErrRecipients, "extra recipient") {
		assert.Contains(t, err.Error(), "calculator 2", "extra recipient")
	}
	for name, in := range map[string]string{
		"empty":          "# nothing\n",
		"unknown role":   "dealer 1 " + r(0),
		"bad number":     "calculator 0 " + r(0),
		"not a number":   "calculator one " + r(0),
		"huge number":    "calculator 99999 " + r(0),
		"two fields":     "calculator 1",
		"four fields":    "calculator 1 " + r(0) + " " + r(1),
		"bad recipient":  "calculator 1 age1notarecipient",
		"node twice":     "calculator 1 " + r(0) + "\ncalculator 1 " + r(1),
		"shared shares":  "calculator 1 " + r(0) + "\ncombiner 1 " + r(0),
		"secret pasted":  "calculator 1 " + ids[3].String(),
		"secret alone":   ids[4].String(),
		"pq recipient":   "calculator 1 age1pq1qqqq",
		"ssh recipient ": "calculator 1 ssh-ed25519 AAAA",
	} {
		_, err := ParseRecipients(strings.NewReader(in))
		if !assert.Error(t, err, "%s: accepted", name) {
			continue
		}
		for _, id := range ids[3:] {
			assert.NotContains(t, err.Error(), id.String()[20:], "%s: secret key in the error", name)
		}
	}
	_, err = ParseRecipients(strings.NewReader(strings.Repeat("# x\n", maxRecipientsFileSize/4+1)))
	assert.Error(t, err, "oversized file accepted")
	var nilRC *Recipients
	assert.ErrorIs(t, nilRC.Check(1, 1, 1), ErrRecipients, "nil recipients")
}

func FuzzOpen(f *testing.F) {
	id := newID(f)
	sealed, _ := Seal([]byte(secretMarker), id.Recipient())
	pass, _ := sealWithPassphrase([]byte("x"), "correct horse battery staple", 2)
	f.Add(sealed)
	f.Add(decodeArmor(f, sealed))
	f.Add(pass)
	f.Add(sealed[:len(sealed)/2])
	f.Add([]byte(armor.Header + "\n" + base64.StdEncoding.EncodeToString([]byte("age-encryption.org/v1\n-> X25519 \n")) + "\n" + armor.Footer + "\n"))
	f.Add([]byte("age-encryption.org/v1\n-> scrypt AAAAAAAAAAAAAAAAAAAAAA 30\n\n--- \n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, err := Open(b, id)
		if err != nil {
			require.Nil(t, pt, "plaintext with an error")
			require.NotNil(t, openKind(err), "error without a sentinel: %v", err)
		}
	})
}
