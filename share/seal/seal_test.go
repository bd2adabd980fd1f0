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
)

// testLogN is the scrypt work factor of tests: fast, and far below age's
// default, which stays in force everywhere else.
const testLogN = 10

const secretMarker = "SECRET-SHARE-0123456789abcdef"

func newID(t testing.TB) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
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
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(sealed, []byte(armor.Header+"\n")) {
			t.Fatalf("not armored: %.40q", sealed)
		}
		if bytes.Contains(sealed, []byte(secretMarker)) {
			t.Fatal("plaintext visible in the sealed file")
		}
		got, err := Open(sealed, newID(t), id) // the second identity matches
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("round trip of %d bytes: %v", len(pt), err)
		}
	}
	// Binary (unarmored) age opens too.
	var buf bytes.Buffer
	w, _ := age.Encrypt(&buf, id.Recipient())
	io.WriteString(w, "binary")
	w.Close()
	if got, err := Open(buf.Bytes(), id); err != nil || string(got) != "binary" {
		t.Fatalf("binary age: %q %v", got, err)
	}
	if _, err := Seal([]byte("x"), nil); err == nil {
		t.Fatal("sealed to no recipient")
	}
	if _, err := Seal([]byte("x"), (*age.X25519Recipient)(nil)); err == nil {
		t.Fatal("sealed to a nil recipient")
	}
	if _, err := Open([]byte("x")); err == nil {
		t.Fatal("opened without identities")
	}
	if _, err := Open([]byte("x"), (*age.X25519Identity)(nil)); err == nil {
		t.Fatal("opened with a nil identity")
	}
}

func TestWrongIdentity(t *testing.T) {
	alice, bob := newID(t), newID(t)
	sealed, err := Seal([]byte(secretMarker), alice.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(sealed, bob)
	if !errors.Is(err, ErrWrongIdentity) || openKind(err) != ErrWrongIdentity {
		t.Fatalf("bob opened alice's file: %v", err)
	}
	var nm *age.NoIdentityMatchError
	if !errors.As(err, &nm) {
		t.Errorf("age's error is not kept for errors.As: %v", err)
	}
	if strings.Contains(err.Error(), secretMarker) {
		t.Fatal("plaintext in the error")
	}
}

func TestPassphrase(t *testing.T) {
	const pass = "correct horse battery staple"
	sealed, err := sealWithPassphrase([]byte(secretMarker), pass, testLogN)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(sealed, []byte(armor.Header)) {
		t.Fatal("not armored")
	}
	if got, err := OpenWithPassphrase(sealed, pass); err != nil || string(got) != secretMarker {
		t.Fatalf("round trip: %v", err)
	}
	for _, wrong := range []string{"", "correct horse battery stapler", "x"} {
		_, err := OpenWithPassphrase(sealed, wrong)
		if openKind(err) != ErrWrongPassphrase {
			t.Errorf("passphrase %q: %v", wrong, err)
		}
		if wrong != "" && strings.Contains(err.Error(), wrong) {
			t.Errorf("the passphrase is in the error: %v", err)
		}
	}
	// An identity on a passphrase file, and a passphrase on an identity file.
	id := newID(t)
	if _, err := Open(sealed, id); openKind(err) != ErrWrongIdentity {
		t.Errorf("identity on a passphrase file: %v", err)
	}
	toID, _ := Seal([]byte("x"), id.Recipient())
	if _, err := OpenWithPassphrase(toID, pass); openKind(err) != ErrWrongIdentity {
		t.Errorf("passphrase on an identity file: %v", err)
	}
	// Short passphrases are refused; the default work factor is age's.
	for _, short := range []string{"", "short", strings.Repeat("a", MinPassphraseLength-1)} {
		if _, err := SealWithPassphrase([]byte("x"), short); !errors.Is(err, ErrWeakPassphrase) {
			t.Errorf("passphrase of %d bytes: %v", len(short), err)
		}
	}
	if testing.Short() || raceEnabled {
		return // scrypt at 2^18 takes about 1 s, 10 s under the race detector
	}
	def, err := SealWithPassphrase([]byte("x"), pass)
	if err != nil {
		t.Fatal(err)
	}
	hdr := decodeArmor(t, def)
	if !bytes.Contains(hdr, []byte("-> scrypt ")) || !bytes.Contains(hdr, []byte(" 18\n")) {
		t.Errorf("default work factor is not age's 2^18:\n%s", hdr[:bytes.Index(hdr, []byte("---"))])
	}
}

func decodeArmor(t testing.TB, b []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(armor.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	bin := decodeArmor(t, sealed)
	hdrEnd := bytes.Index(bin, []byte("\n---")) + 1
	macEnd := hdrEnd + bytes.IndexByte(bin[hdrEnd:], '\n') + 1

	check := func(name string, b []byte, want error) {
		t.Helper()
		got, err := Open(b, id)
		if err == nil {
			t.Fatalf("%s: opened (%d bytes)", name, len(got))
		}
		if got != nil {
			t.Fatalf("%s: returned plaintext with an error", name)
		}
		if k := openKind(err); k == nil || (want != nil && k != want) {
			t.Fatalf("%s: %v, want %v", name, err, want)
		}
		if strings.Contains(err.Error(), secretMarker) {
			t.Fatalf("%s: plaintext in the error", name)
		}
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
	small, _ := Seal([]byte(secretMarker), id.Recipient())
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
		if openKind(err) != ErrNotSealed {
			t.Errorf("%.20q: %v", in, err)
		}
		if err != nil && strings.Contains(err.Error(), secretMarker) {
			t.Error("input quoted in the error")
		}
	}
	big := append([]byte(armor.Header+"\n"), make([]byte, MaxSealedSize)...)
	if _, err := Open(big, id); openKind(err) != ErrNotSealed {
		t.Errorf("oversized input: %v", err)
	}
}

// The header of a file sealed to a passphrase may demand any work factor:
// more than 2^20 is refused before any scrypt work.
func TestScryptWorkFactorCapped(t *testing.T) {
	sealed, err := sealWithPassphrase([]byte("x"), "correct horse battery staple", testLogN)
	if err != nil {
		t.Fatal(err)
	}
	bin := decodeArmor(t, sealed)
	i := bytes.Index(bin, []byte(" 10\n"))
	if i < 0 {
		t.Fatalf("no work factor in the header:\n%s", bin)
	}
	bumped := append(append(append([]byte{}, bin[:i]...), " 30\n"...), bin[i+4:]...)
	if _, err := OpenWithPassphrase(encodeArmor(bumped), "correct horse battery staple"); openKind(err) != ErrTampered {
		t.Fatalf("work factor 2^30: %v", err)
	}
}

func TestIdentityFile(t *testing.T) {
	dir := t.TempDir()
	id := newID(t)
	path := filepath.Join(dir, "node.key")
	if err := WriteIdentityFile(path, id); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "# created: ") || lines[1] != "# public key: "+id.Recipient().String() || lines[2] != id.String() {
		t.Fatalf("not age's identity file format:\n%s", b)
	}
	back, err := ReadIdentityFile(path)
	if err != nil || back.String() != id.String() {
		t.Fatalf("read back: %v", err)
	}
	// age's own parser reads it too.
	ids, err := age.ParseIdentities(bytes.NewReader(b))
	if err != nil || len(ids) != 1 {
		t.Fatalf("age.ParseIdentities: %v", err)
	}
	if err := WriteIdentityFile(path, newID(t)); err == nil {
		t.Fatal("overwrote an identity file")
	}
	if again, _ := ReadIdentityFile(path); again == nil || again.String() != id.String() {
		t.Fatal("identity file changed")
	}

	other := newID(t)
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
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
		if err == nil {
			t.Errorf("%s accepted", name)
			continue
		}
		if strings.Contains(strings.ToUpper(err.Error()), id.String()[16:30]) {
			t.Errorf("%s: secret key in the error: %v", name, err)
		}
	}
	if _, err := ReadIdentityFile(filepath.Join(dir, "missing.key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	if len(rc.Calculators) != 2 || len(rc.Combiners) != 1 || len(rc.Distributors) != 1 ||
		rc.Calculators[2].(*age.X25519Recipient).String() != r(1) {
		t.Fatalf("parsed %+v", rc)
	}
	if err := rc.Check(1, 2, 1); err != nil {
		t.Fatal(err)
	}
	if err := rc.Check(1, 3, 2); !errors.Is(err, ErrRecipients) || !strings.Contains(err.Error(), "calculator 3") || !strings.Contains(err.Error(), "combiner 2") {
		t.Errorf("missing recipients: %v", err)
	}
	if err := rc.Check(1, 1, 1); !errors.Is(err, ErrRecipients) || !strings.Contains(err.Error(), "calculator 2") {
		t.Errorf("extra recipient: %v", err)
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
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, id := range ids[3:] {
			if strings.Contains(err.Error(), id.String()[20:]) {
				t.Errorf("%s: secret key in the error: %v", name, err)
			}
		}
	}
	if _, err := ParseRecipients(strings.NewReader(strings.Repeat("# x\n", maxRecipientsFileSize/4+1))); err == nil {
		t.Error("oversized file accepted")
	}
	var nilRC *Recipients
	if err := nilRC.Check(1, 1, 1); !errors.Is(err, ErrRecipients) {
		t.Errorf("nil recipients: %v", err)
	}
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
			if pt != nil {
				t.Fatal("plaintext with an error")
			}
			if openKind(err) == nil {
				t.Fatalf("error without a sentinel: %v", err)
			}
		}
	})
}
