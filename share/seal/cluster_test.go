package seal

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
)

const testPassphrase = "a dealer passphrase for tests"

// testCluster is a dealing of the 2048-bit test key over k=4, t=2, l=2 with
// two distributors, and an identity for every node.
type testCluster struct {
	dl  *share.Dealer
	d   *share.Dealing
	ids map[share.Node]*age.X25519Identity
	rc  *Recipients
}

func newTestCluster(t testing.TB) *testCluster { return newTestClusterSeed(t, 1) }

func newTestClusterSeed(t testing.TB, s byte) *testCluster {
	t.Helper()
	seed := [32]byte{'s', 'e', 'a', 'l', s}
	dl, err := share.NewDealer(rand.NewChaCha8(seed), testkeys.Must(testkeys.RSA2048), 4, 2, 2, &share.Options{Epoch: 7, Distributors: 2})
	if err != nil {
		t.Fatal(err)
	}
	plan, _, err := grouping.Search(4, 2, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dl.Deal(plan)
	if err != nil {
		t.Fatal(err)
	}
	tc := &testCluster{dl: dl, d: d, ids: map[share.Node]*age.X25519Identity{},
		rc: &Recipients{Distributors: map[int]age.Recipient{}, Calculators: map[int]age.Recipient{}, Combiners: map[int]age.Recipient{}}}
	for _, n := range tc.nodes() {
		id := newID(t)
		tc.ids[n] = id
		switch n.Role {
		case share.RoleDistributor:
			tc.rc.Distributors[n.Number] = id.Recipient()
		case share.RoleCalculator:
			tc.rc.Calculators[n.Number] = id.Recipient()
		case share.RoleCombiner:
			tc.rc.Combiners[n.Number] = id.Recipient()
		}
	}
	return tc
}

// trust is the trust of a node that pinned tc's dealer.
func (tc *testCluster) trust() Trust { return Trust{DealerKey: tc.dl.DealerKey()} }

func (tc *testCluster) nodes() []share.Node {
	var out []share.Node
	for n := range tc.d.Distributors {
		out = append(out, share.Node{Role: share.RoleDistributor, Number: n + 1})
	}
	for j := range tc.d.Calculators {
		out = append(out, share.Node{Role: share.RoleCalculator, Number: j + 1})
	}
	for a := range tc.d.Combiners {
		out = append(out, share.Node{Role: share.RoleCombiner, Number: a + 1})
	}
	return out
}

func (tc *testCluster) write(t testing.TB, dir string) []string {
	t.Helper()
	var progress []string
	opts := &Options{InsecureScryptWorkFactorForTests: testLogN, Progress: func(m string) { progress = append(progress, m) }}
	if err := WriteClusterWithOptions(dir, tc.dl, tc.d, tc.rc, testPassphrase, opts); err != nil {
		t.Fatal(err)
	}
	return progress
}

// load loads node n's bundle through the cluster with identity id.
func load(c *Cluster, n share.Node, id age.Identity) ([]byte, error) {
	var m interface{ Marshal() ([]byte, error) }
	var err error
	switch n.Role {
	case share.RoleDistributor:
		m, err = c.Distributor(n.Number, id)
	case share.RoleCalculator:
		m, err = c.Calculator(n.Number, id)
	case share.RoleCombiner:
		m, err = c.Combiner(n.Number, id)
	}
	if err != nil {
		return nil, err
	}
	return m.Marshal()
}

func (tc *testCluster) marshal(t testing.TB, n share.Node) []byte {
	t.Helper()
	var b []byte
	var err error
	switch n.Role {
	case share.RoleDistributor:
		b, err = tc.d.Distributors[n.Number-1].Marshal()
	case share.RoleCalculator:
		b, err = tc.d.Calculators[n.Number-1].Marshal()
	case share.RoleCombiner:
		b, err = tc.d.Combiners[n.Number-1].Marshal()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteClusterRoundTrip(t *testing.T) {
	tc := newTestCluster(t)
	dir := filepath.Join(t.TempDir(), "cluster")
	progress := tc.write(t, dir)

	// The layout, with its modes.
	want := []string{InfoFile, PublicFile, PlanFile, RosterFile, SignatureFile, "dealer.age"}
	for _, n := range tc.nodes() {
		want = append(want, BundleFile(n, SealedExt))
	}
	entries, _ := os.ReadDir(dir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
		fi, _ := e.Info()
		wantMode := os.FileMode(0o600)
		if strings.HasSuffix(e.Name(), ".pem") || e.Name() == InfoFile || e.Name() == PlanFile || e.Name() == RosterFile || e.Name() == SignatureFile {
			wantMode = 0o644
		}
		if fi.Mode().Perm() != wantMode {
			t.Errorf("%s: mode %v, want %v", e.Name(), fi.Mode().Perm(), wantMode)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	// A progress line per bundle, and none holds a secret.
	for _, n := range tc.nodes() {
		if !slices.ContainsFunc(progress, func(m string) bool { return strings.Contains(m, "sealing "+n.String()+" to age1") }) {
			t.Errorf("no progress line for %v in %q", n, progress)
		}
	}
	// No share appears in any file, and no file but the bundles holds a node key.
	secrets := []string{tc.d.Calculators[0].Shares[0].Text(16), tc.d.Combiners[0].Entries[0].C.Text(16)}
	for _, name := range want {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a secret in the clear", name)
			}
		}
	}
	for _, m := range progress {
		for _, s := range secrets {
			if strings.Contains(m, s[:20]) {
				t.Errorf("progress line holds a secret: %s", m)
			}
		}
	}

	c, err := LoadPublic(dir, tc.trust())
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sealed() || c.Distributors() != 2 || !c.PublicKey.Equal(tc.dl.PublicKey()) || c.Info.KeyID != tc.dl.KeyID() || c.Info.Epoch != 7 ||
		c.Plan.K != 4 || len(c.Plan.Combiners) != len(tc.d.Combiners) || len(c.Roster) != len(tc.nodes()) {
		t.Fatalf("public files: %+v", c.Info)
	}
	for i, b := range c.Info.Bundles {
		n := tc.nodes()[i]
		if b.Node() != n || b.Recipient != tc.ids[n].Recipient().String() {
			t.Errorf("cluster.json bundle %d: %+v", i, b)
		}
	}
	// Every node opens its own bundle, and gets what was dealt.
	for _, n := range tc.nodes() {
		b, err := load(c, n, tc.ids[n])
		if err != nil {
			t.Fatalf("%v: %v", n, err)
		}
		if !bytes.Equal(b, tc.marshal(t, n)) {
			t.Errorf("%v: key material changed", n)
		}
	}
	// The dealer's state, through dealer.age.
	back, err := c.Dealer(testPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	for _, reps := range tc.d.Plan.Combiners {
		for _, r := range reps {
			c1, _ := tc.dl.SecondKey(r)
			c2, err := back.SecondKey(r)
			if err != nil || c1.Cmp(c2) != 0 {
				t.Fatalf("second key of %v changed: %v", r, err)
			}
		}
	}
	if _, err := c.Dealer("a wrong dealer passphrase"); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := LoadDealer(filepath.Join(dir, "dealer.age"), ""); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("empty passphrase: %v", err)
	}
}

// A node's identity cannot open another node's bundle, nor the dealer's.
func TestIdentityCannotOpenOtherBundles(t *testing.T) {
	tc := newTestCluster(t)
	dir := t.TempDir()
	tc.write(t, dir)
	c, err := LoadPublic(dir, tc.trust())
	if err != nil {
		t.Fatal(err)
	}
	for _, owner := range tc.nodes() {
		for _, other := range tc.nodes() {
			if owner == other {
				continue
			}
			_, err := load(c, owner, tc.ids[other])
			if !errors.Is(err, ErrWrongIdentity) {
				t.Errorf("%v's identity on %v's bundle: %v", other, owner, err)
			}
		}
		b, _ := os.ReadFile(filepath.Join(dir, "dealer.age"))
		if _, err := Open(b, tc.ids[owner]); !errors.Is(err, ErrWrongIdentity) {
			t.Errorf("%v's identity on the dealer's state: %v", owner, err)
		}
	}
	// All identities together open a bundle (age tries each).
	all := make([]age.Identity, 0, len(tc.ids))
	for _, id := range tc.ids {
		all = append(all, id)
	}
	b, _ := os.ReadFile(c.Path(share.Node{Role: share.RoleCalculator, Number: 3}))
	if _, err := Open(b, all...); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Calculator(1, nil); err == nil {
		t.Fatal("sealed bundle loaded without an identity")
	}
}

// A bundle renamed to another node's name is detected, even by its owner.
func TestSwappedBundle(t *testing.T) {
	tc := newTestCluster(t)
	dir := t.TempDir()
	tc.write(t, dir)
	c, _ := LoadPublic(dir, tc.trust())
	calc := func(j int) string { return c.Path(share.Node{Role: share.RoleCalculator, Number: j}) }
	id3 := tc.ids[share.Node{Role: share.RoleCalculator, Number: 3}]
	if err := os.Rename(calc(3), calc(2)+".tmp"); err != nil {
		t.Fatal(err)
	}
	os.Remove(calc(2))
	os.Rename(calc(2)+".tmp", calc(2))
	if _, err := c.Calculator(2, id3); !errors.Is(err, ErrWrongNode) {
		t.Fatalf("calculator 3's bundle as calculator-2.age: %v", err)
	}
	if _, err := LoadCalculator(calc(2), id3, tc.trust()); !errors.Is(err, ErrWrongNode) {
		t.Fatalf("LoadCalculator of a renamed bundle: %v", err)
	}
	// Under another name, the caller compares the number itself.
	other := filepath.Join(t.TempDir(), "bundle.age")
	b, _ := os.ReadFile(calc(2))
	os.WriteFile(other, b, 0o600)
	if ck, err := LoadCalculator(other, id3, tc.trust()); err != nil || ck.Number != 3 {
		t.Fatalf("LoadCalculator(bundle.age): %v", err)
	}
	// A combiner's bundle is not a calculator's, whatever its name.
	comb := c.Path(share.Node{Role: share.RoleCombiner, Number: 1})
	idc := tc.ids[share.Node{Role: share.RoleCombiner, Number: 1}]
	if _, err := LoadCalculator(comb, idc, tc.trust()); !errors.Is(err, ErrWrongNode) {
		t.Fatalf("combiner bundle loaded as a calculator: %v", err)
	}
	// A bundle of another cluster (another dealing of the same key) is refused.
	tc2 := newTestClusterSeed(t, 2)
	tc2.ids = tc.ids
	tc2.rc = tc.rc
	dir2 := t.TempDir()
	tc2.write(t, dir2)
	c2, _ := LoadPublic(dir2, tc2.trust())
	id1 := tc.ids[share.Node{Role: share.RoleCalculator, Number: 1}]
	if _, err := c.Calculator(1, id1); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(c2.Path(share.Node{Role: share.RoleCalculator, Number: 1}))
	os.Remove(calc(1))
	os.WriteFile(calc(1), b, 0o600)
	if _, err := c.Calculator(1, id1); !errors.Is(err, ErrWrongDealer) {
		t.Fatalf("bundle of another dealing: %v", err)
	}
}

// A tampered bundle is refused: never opened, never a panic.
func TestTamperedBundle(t *testing.T) {
	tc := newTestCluster(t)
	dir := t.TempDir()
	tc.write(t, dir)
	c, _ := LoadPublic(dir, tc.trust())
	n := share.Node{Role: share.RoleCombiner, Number: 1}
	path := c.Path(n)
	orig, _ := os.ReadFile(path)
	put := func(b []byte) {
		os.Remove(path)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A byte of the payload flipped, re-armored.
	bin := decodeArmor(t, orig)
	macEnd := bytes.Index(bin, []byte("\n---")) + 1
	macEnd += bytes.IndexByte(bin[macEnd:], '\n') + 1
	for _, i := range []int{macEnd + 30, len(bin) - 5} {
		b := bytes.Clone(bin)
		b[i] ^= 0x80
		put(encodeArmor(b))
		if _, err := c.Combiner(1, tc.ids[n]); !errors.Is(err, ErrTampered) {
			t.Fatalf("payload byte %d flipped: %v", i, err)
		}
	}
	// A character of the armored body replaced, on every line.
	lines := bytes.Split(orig, []byte("\n"))
	for li := 1; li < len(lines)-2; li++ {
		b := bytes.Clone(orig)
		off := len(bytes.Join(lines[:li], []byte("\n"))) + 1 + len(lines[li])/2
		if b[off] == 'A' {
			b[off] = 'B'
		} else {
			b[off] = 'A'
		}
		put(b)
		_, err := c.Combiner(1, tc.ids[n])
		if !errors.Is(err, ErrTampered) && !errors.Is(err, ErrWrongIdentity) {
			t.Fatalf("armored line %d changed: %v", li, err)
		}
	}
	// Truncated.
	for _, cut := range []int{len(orig) / 2, len(orig) - 40, 10, 0} {
		put(orig[:cut])
		if _, err := c.Combiner(1, tc.ids[n]); err == nil {
			t.Fatalf("truncated to %d bytes: opened", cut)
		}
	}
	put(orig)
	if _, err := c.Combiner(1, tc.ids[n]); err != nil {
		t.Fatal(err)
	}
	// The plaintext of another bundle, renamed .age, is not sealed.
	plain, _ := tc.d.Combiners[0].Marshal()
	put(plain)
	if _, err := c.Combiner(1, tc.ids[n]); !errors.Is(err, ErrNotSealed) || strings.Contains(err.Error(), "entries") {
		t.Fatalf("plaintext as .age: %v", err)
	}
}

func TestWriteClusterRefuses(t *testing.T) {
	tc := newTestCluster(t)
	empty := func(t *testing.T, dir string, keep ...string) {
		t.Helper()
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if !slices.Equal(names, keep) {
			t.Fatalf("%s holds %v, want %v", dir, names, keep)
		}
	}
	opts := &Options{InsecureScryptWorkFactorForTests: testLogN}

	// A missing recipient: nothing written, and the message names the node.
	dir := filepath.Join(t.TempDir(), "c")
	rc := *tc.rc
	rc.Calculators = map[int]age.Recipient{}
	for j, r := range tc.rc.Calculators {
		if j != 3 {
			rc.Calculators[j] = r
		}
	}
	err := WriteClusterWithOptions(dir, tc.dl, tc.d, &rc, testPassphrase, opts)
	if !errors.Is(err, ErrRecipients) || !strings.Contains(err.Error(), "calculator 3") {
		t.Fatalf("missing recipient: %v", err)
	}
	empty(t, dir)
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("directory created")
	}
	// A recipient for a node that does not exist.
	rc = *tc.rc
	rc.Combiners = map[int]age.Recipient{99: newID(t).Recipient()}
	for a, r := range tc.rc.Combiners {
		rc.Combiners[a] = r
	}
	if err := WriteClusterWithOptions(dir, tc.dl, tc.d, &rc, testPassphrase, opts); !errors.Is(err, ErrRecipients) || !strings.Contains(err.Error(), "99") {
		t.Fatalf("extra recipient: %v", err)
	}
	if err := WriteClusterWithOptions(dir, tc.dl, tc.d, nil, testPassphrase, opts); !errors.Is(err, ErrRecipients) {
		t.Fatalf("no recipients: %v", err)
	}
	// A typed nil recipient fails before anything is written.
	rc = *tc.rc
	rc.Distributors = map[int]age.Recipient{1: tc.rc.Distributors[1], 2: (*age.X25519Recipient)(nil)}
	if err := WriteClusterWithOptions(dir, tc.dl, tc.d, &rc, testPassphrase, opts); err == nil {
		t.Fatal("nil recipient accepted")
	}
	empty(t, dir)
	// A weak passphrase.
	if err := WriteClusterWithOptions(dir, tc.dl, tc.d, tc.rc, "short", opts); !errors.Is(err, ErrWeakPassphrase) {
		t.Fatalf("weak passphrase: %v", err)
	}
	empty(t, dir)
	// A mismatched dealing.
	bad := *tc.d
	bad.Calculators = bad.Calculators[:3]
	if err := WriteClusterWithOptions(dir, tc.dl, &bad, tc.rc, testPassphrase, opts); err == nil {
		t.Fatal("incomplete dealing accepted")
	}
	if err := WriteCluster(dir, nil, nil, tc.rc, testPassphrase); err == nil {
		t.Fatal("nil dealing accepted")
	}
	empty(t, dir)

	// An existing file of the layout: refused, nothing else written.
	for _, name := range []string{PlanFile, "calculator-2.age", "dealer.age"} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, name), []byte("keep me"), 0o600)
		err := WriteClusterWithOptions(dir, tc.dl, tc.d, tc.rc, testPassphrase, opts)
		if !errors.Is(err, fs.ErrExist) {
			t.Fatalf("%s exists: %v", name, err)
		}
		empty(t, dir, name)
		if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != "keep me" {
			t.Fatalf("%s overwritten", name)
		}
	}
	// A second write into a written directory.
	dir = t.TempDir()
	tc.write(t, dir)
	before, _ := os.ReadDir(dir)
	if err := WriteClusterWithOptions(dir, tc.dl, tc.d, tc.rc, testPassphrase, opts); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second write: %v", err)
	}
	if err := WritePlaintextCluster(dir, tc.dl, tc.d); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("plaintext over sealed: %v", err)
	}
	after, _ := os.ReadDir(dir)
	if len(before) != len(after) {
		t.Fatal("files added")
	}
	// A file where the directory should be.
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o600)
	if err := WriteClusterWithOptions(f, tc.dl, tc.d, tc.rc, testPassphrase, opts); err == nil {
		t.Fatal("wrote into a file")
	}
}

func TestPlaintextCluster(t *testing.T) {
	tc := newTestCluster(t)
	dir := filepath.Join(t.TempDir(), "plain")
	if err := WritePlaintextCluster(dir, tc.dl, tc.d); err != nil {
		t.Fatal(err)
	}
	c, err := LoadPublic(dir, tc.trust())
	if err != nil {
		t.Fatal(err)
	}
	if c.Sealed() || c.Info.Dealer != "dealer.json" {
		t.Fatalf("info %+v", c.Info)
	}
	for _, n := range tc.nodes() {
		path := c.Path(n)
		if filepath.Base(path) != BundleFile(n, ".json") {
			t.Fatalf("path %s", path)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", path, err, fi)
		}
		b, err := load(c, n, nil)
		if err != nil || !bytes.Equal(b, tc.marshal(t, n)) {
			t.Fatalf("%v: %v", n, err)
		}
	}
	if _, err := c.Dealer(""); err != nil {
		t.Fatal(err)
	}
	// A plaintext file has no business in a sealed cluster, and vice versa.
	if _, err := LoadCalculator(filepath.Join(dir, "calculator-1.txt"), nil, tc.trust()); err == nil {
		t.Fatal("unknown extension accepted")
	}
	if _, err := c.Calculator(9, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("calculator 9: %v", err)
	}
	if _, err := c.Combiner(9, nil); err == nil {
		t.Fatal("combiner 9 accepted")
	}
}

func TestLoadPublicErrors(t *testing.T) {
	tc := newTestCluster(t)
	src := t.TempDir()
	if err := WritePlaintextCluster(filepath.Join(src, "c"), tc.dl, tc.d); err != nil {
		t.Fatal(err)
	}
	src = filepath.Join(src, "c")
	info, _ := os.ReadFile(filepath.Join(src, InfoFile))
	var in Info
	json.Unmarshal(info, &in)

	edit := func(name string, f func(Info) Info, other map[string][]byte) {
		t.Helper()
		dir := t.TempDir()
		for _, n := range []string{PublicFile, PlanFile, RosterFile} {
			b, _ := os.ReadFile(filepath.Join(src, n))
			if o, ok := other[n]; ok {
				b = o
			}
			os.WriteFile(filepath.Join(dir, n), b, 0o644)
		}
		b, _ := json.Marshal(f(in))
		if o, ok := other[InfoFile]; ok {
			b = o
		}
		os.WriteFile(filepath.Join(dir, InfoFile), b, 0o644)
		// Signed by the dealer, so that only the edit is refused.
		var files []fileOut
		for _, n := range []string{InfoFile, PublicFile, PlanFile, RosterFile} {
			b, _ := os.ReadFile(filepath.Join(dir, n))
			files = append(files, fileOut{name: n, data: b})
		}
		sig, err := signPublic(tc.dl, in.KeyID, in.Epoch, files)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, SignatureFile), sig.data, 0o644)
		if _, err := LoadPublic(dir, tc.trust()); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	same := func(i Info) Info { return i }
	edit("escaping file name", func(i Info) Info {
		i.Bundles = slices.Clone(i.Bundles)
		i.Bundles[0].File = "../../etc/passwd"
		return i
	}, nil)
	edit("dealer name", func(i Info) Info { i.Dealer = "/tmp/x"; return i }, nil)
	edit("format", func(i Info) Info { i.Format = "v0"; return i }, nil)
	edit("k", func(i Info) Info { i.K = 5; return i }, nil)
	edit("bits", func(i Info) Info { i.ModulusBits = 1024; return i }, nil)
	edit("sealed without recipients", func(i Info) Info { i.Sealed = true; i.Dealer = "dealer.age"; return i }, nil)
	edit("missing bundle", func(i Info) Info { i.Bundles = i.Bundles[:len(i.Bundles)-1]; return i }, nil)
	edit("extra bundle", func(i Info) Info {
		i.Bundles = append(slices.Clone(i.Bundles), Bundle{Role: share.RoleCombiner, Number: 99, File: "combiner-99.json"})
		return i
	}, nil)
	edit("not JSON", same, map[string][]byte{InfoFile: []byte("{")})
	edit("unknown field", same, map[string][]byte{InfoFile: []byte(`{"format":"tolerant cluster v1","secret":"x"}`)})
	edit("bad public key", same, map[string][]byte{PublicFile: []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")})
	edit("bad plan", same, map[string][]byte{PlanFile: []byte(`{"k":4}`)})
	edit("short roster", same, map[string][]byte{RosterFile: []byte(`[]`)})
	if _, err := LoadPublic(t.TempDir(), tc.trust()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty directory: %v", err)
	}
}
