package seal

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
)

const testPassphrase = "a dealer passphrase for tests"

// bigIntEqual makes cmp.Diff compare *big.Int by value (shares, c_a).
var bigIntEqual = cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 })

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
	require.NoError(t, err)
	plan, _, err := grouping.Search(4, 2, 2, nil)
	require.NoError(t, err)
	d, err := dl.Deal(plan)
	require.NoError(t, err)
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
	require.NoError(t, WriteClusterWithOptions(dir, tc.dl, tc.d, tc.rc, testPassphrase, opts))
	return progress
}

// writePlaintext writes the cluster unsealed (WritePlaintextCluster) into a
// new directory and returns it.
func (tc *testCluster) writePlaintext(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "plain")
	require.NoError(t, WritePlaintextCluster(dir, tc.dl, tc.d))
	return dir
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
	require.NoError(t, err)
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
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
		fi, err := e.Info()
		require.NoError(t, err)
		wantMode := os.FileMode(0o600)
		if strings.HasSuffix(e.Name(), ".pem") || e.Name() == InfoFile || e.Name() == PlanFile || e.Name() == RosterFile || e.Name() == SignatureFile {
			wantMode = 0o644
		}
		assert.Equal(t, wantMode, fi.Mode().Perm(), "%s: mode", e.Name())
	}
	slices.Sort(got)
	slices.Sort(want)
	require.Empty(t, cmp.Diff(want, got), "files of the cluster directory (-want +got)")
	// A progress line per bundle, and none holds a secret.
	for _, n := range tc.nodes() {
		found := slices.ContainsFunc(progress, func(m string) bool { return strings.Contains(m, "sealing "+n.String()+" to age1") })
		assert.True(t, found, "no progress line for %v in %q", n, progress)
	}
	// No share appears in any file, and no file but the bundles holds a node key.
	secrets := []string{tc.d.Calculators[0].Shares[0].Text(16), tc.d.Combiners[0].Entries[0].C.Text(16)}
	for _, name := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		for _, s := range secrets {
			assert.False(t, bytes.Contains(b, []byte(s)), "%s holds a secret in the clear", name)
		}
	}
	for _, m := range progress {
		for _, s := range secrets {
			assert.NotContains(t, m, s[:20], "progress line holds a secret")
		}
	}

	c, err := LoadPublic(dir, tc.trust())
	require.NoError(t, err)
	require.True(t, c.Sealed(), "cluster.json: not sealed")
	require.Equal(t, 2, c.Distributors(), "distributors")
	require.True(t, c.PublicKey.Equal(tc.dl.PublicKey()), "public.pem is not the dealer's public key")
	require.Equal(t, tc.dl.KeyID(), c.Info.KeyID, "key id")
	require.Equal(t, uint32(7), c.Info.Epoch, "epoch")
	require.Equal(t, 4, c.Plan.K, "plan k")
	require.Empty(t, cmp.Diff(tc.d.Plan, c.Plan, cmpopts.EquateEmpty()), "plan.json (-dealt +loaded)")
	require.Len(t, c.Roster, len(tc.nodes()), "roster")
	require.Empty(t, cmp.Diff(tc.dl.Roster(), c.Roster), "roster.json (-dealt +loaded)")
	require.Len(t, c.Info.Bundles, len(tc.nodes()), "cluster.json bundles")
	for i, b := range c.Info.Bundles {
		n := tc.nodes()[i]
		assert.Equal(t, n, b.Node(), "cluster.json bundle %d: node", i)
		assert.Equal(t, tc.ids[n].Recipient().String(), b.Recipient, "cluster.json bundle %d: recipient", i)
	}
	// Every node opens its own bundle, and gets what was dealt.
	for _, n := range tc.nodes() {
		b, err := load(c, n, tc.ids[n])
		require.NoError(t, err, "%v", n)
		assert.Empty(t, cmp.Diff(string(tc.marshal(t, n)), string(b)), "%v: key material changed (-dealt +loaded)", n)
	}
	// The dealer's state, through dealer.age.
	back, err := c.Dealer(testPassphrase)
	require.NoError(t, err)
	for _, reps := range tc.d.Plan.Combiners {
		for _, r := range reps {
			c1, err := tc.dl.SecondKey(r)
			require.NoError(t, err)
			c2, err := back.SecondKey(r)
			require.NoError(t, err, "second key of %v", r)
			require.Empty(t, cmp.Diff(c1, c2, bigIntEqual), "second key of %v changed (-dealt +loaded)", r)
		}
	}
	_, err = c.Dealer("a wrong dealer passphrase")
	require.ErrorIs(t, err, ErrWrongPassphrase, "wrong passphrase")
	_, err = LoadDealer(filepath.Join(dir, "dealer.age"), "")
	require.ErrorIs(t, err, ErrWrongPassphrase, "empty passphrase")
}

// A node's identity cannot open another node's bundle, nor the dealer's.
func TestIdentityCannotOpenOtherBundles(t *testing.T) {
	tc := newTestCluster(t)
	dir := t.TempDir()
	tc.write(t, dir)
	c, err := LoadPublic(dir, tc.trust())
	require.NoError(t, err)
	for _, owner := range tc.nodes() {
		for _, other := range tc.nodes() {
			if owner == other {
				continue
			}
			_, err := load(c, owner, tc.ids[other])
			assert.ErrorIs(t, err, ErrWrongIdentity, "%v's identity on %v's bundle", other, owner)
		}
		b, err := os.ReadFile(filepath.Join(dir, "dealer.age"))
		require.NoError(t, err)
		_, err = Open(b, tc.ids[owner])
		assert.ErrorIs(t, err, ErrWrongIdentity, "%v's identity on the dealer's state", owner)
	}
	// All identities together open a bundle (age tries each).
	all := make([]age.Identity, 0, len(tc.ids))
	for _, id := range tc.ids {
		all = append(all, id)
	}
	b, err := os.ReadFile(c.Path(share.Node{Role: share.RoleCalculator, Number: 3}))
	require.NoError(t, err)
	_, err = Open(b, all...)
	require.NoError(t, err, "all identities together")
	_, err = c.Calculator(1, nil)
	require.Error(t, err, "sealed bundle loaded without an identity")
}

// A bundle renamed to another node's name is detected, even by its owner.
func TestSwappedBundle(t *testing.T) {
	tc := newTestCluster(t)
	dir := t.TempDir()
	tc.write(t, dir)
	c, err := LoadPublic(dir, tc.trust())
	require.NoError(t, err)
	calc := func(j int) string { return c.Path(share.Node{Role: share.RoleCalculator, Number: j}) }
	id3 := tc.ids[share.Node{Role: share.RoleCalculator, Number: 3}]
	require.NoError(t, os.Rename(calc(3), calc(2)+".tmp"))
	require.NoError(t, os.Remove(calc(2)))
	require.NoError(t, os.Rename(calc(2)+".tmp", calc(2)))
	_, err = c.Calculator(2, id3)
	require.ErrorIs(t, err, ErrWrongNode, "calculator 3's bundle as calculator-2.age")
	_, err = LoadCalculator(calc(2), id3, tc.trust())
	require.ErrorIs(t, err, ErrWrongNode, "LoadCalculator of a renamed bundle")
	// Under another name, the caller compares the number itself.
	other := filepath.Join(t.TempDir(), "bundle.age")
	b, err := os.ReadFile(calc(2))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(other, b, 0o600))
	ck, err := LoadCalculator(other, id3, tc.trust())
	require.NoError(t, err, "LoadCalculator(bundle.age)")
	require.Equal(t, 3, ck.Number, "LoadCalculator(bundle.age): calculator number")
	// A combiner's bundle is not a calculator's, whatever its name.
	comb := c.Path(share.Node{Role: share.RoleCombiner, Number: 1})
	idc := tc.ids[share.Node{Role: share.RoleCombiner, Number: 1}]
	_, err = LoadCalculator(comb, idc, tc.trust())
	require.ErrorIs(t, err, ErrWrongNode, "combiner bundle loaded as a calculator")
	// A bundle of another cluster (another dealing of the same key) is refused.
	tc2 := newTestClusterSeed(t, 2)
	tc2.ids = tc.ids
	tc2.rc = tc.rc
	dir2 := t.TempDir()
	tc2.write(t, dir2)
	c2, err := LoadPublic(dir2, tc2.trust())
	require.NoError(t, err)
	id1 := tc.ids[share.Node{Role: share.RoleCalculator, Number: 1}]
	_, err = c.Calculator(1, id1)
	require.NoError(t, err)
	b, err = os.ReadFile(c2.Path(share.Node{Role: share.RoleCalculator, Number: 1}))
	require.NoError(t, err)
	require.NoError(t, os.Remove(calc(1)))
	require.NoError(t, os.WriteFile(calc(1), b, 0o600))
	_, err = c.Calculator(1, id1)
	require.ErrorIs(t, err, ErrWrongDealer, "bundle of another dealing")
}

// A tampered bundle is refused: never opened, never a panic.
func TestTamperedBundle(t *testing.T) {
	tc := newTestCluster(t)
	dir := t.TempDir()
	tc.write(t, dir)
	c, err := LoadPublic(dir, tc.trust())
	require.NoError(t, err)
	n := share.Node{Role: share.RoleCombiner, Number: 1}
	path := c.Path(n)
	orig, err := os.ReadFile(path)
	require.NoError(t, err)
	put := func(b []byte) {
		require.NoError(t, os.Remove(path))
		require.NoError(t, os.WriteFile(path, b, 0o600))
	}
	// A byte of the payload flipped, re-armored.
	bin := decodeArmor(t, orig)
	macEnd := bytes.Index(bin, []byte("\n---")) + 1
	macEnd += bytes.IndexByte(bin[macEnd:], '\n') + 1
	for _, i := range []int{macEnd + 30, len(bin) - 5} {
		b := bytes.Clone(bin)
		b[i] ^= 0x80
		put(encodeArmor(b))
		_, err := c.Combiner(1, tc.ids[n])
		require.ErrorIs(t, err, ErrTampered, "payload byte %d flipped", i)
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
		// A change in the recipient stanza looks like another recipient.
		ok := errors.Is(err, ErrTampered) || errors.Is(err, ErrWrongIdentity)
		require.True(t, ok, "armored line %d changed: %v, want ErrTampered or ErrWrongIdentity", li, err)
	}
	// Truncated.
	for _, cut := range []int{len(orig) / 2, len(orig) - 40, 10, 0} {
		put(orig[:cut])
		_, err := c.Combiner(1, tc.ids[n])
		require.Error(t, err, "truncated to %d bytes: opened", cut)
	}
	put(orig)
	_, err = c.Combiner(1, tc.ids[n])
	require.NoError(t, err, "the restored bundle")
	// The plaintext of another bundle, renamed .age, is not sealed.
	plain, err := tc.d.Combiners[0].Marshal()
	require.NoError(t, err)
	put(plain)
	_, err = c.Combiner(1, tc.ids[n])
	require.ErrorIs(t, err, ErrNotSealed, "plaintext as .age")
	require.NotContains(t, err.Error(), "entries", "plaintext as .age: the error quotes the bundle")
}

func TestWriteClusterRefuses(t *testing.T) {
	tc := newTestCluster(t)
	empty := func(t *testing.T, dir string, keep ...string) {
		t.Helper()
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return
		}
		require.NoError(t, err)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		require.Empty(t, cmp.Diff(keep, names, cmpopts.EquateEmpty()), "files in %s (-want +got)", dir)
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
	require.ErrorIs(t, err, ErrRecipients, "missing recipient")
	require.Contains(t, err.Error(), "calculator 3", "the message names the missing node")
	empty(t, dir)
	_, err = os.Stat(dir)
	require.ErrorIs(t, err, fs.ErrNotExist, "directory created")
	// A recipient for a node that does not exist.
	rc = *tc.rc
	rc.Combiners = map[int]age.Recipient{99: newID(t).Recipient()}
	for a, r := range tc.rc.Combiners {
		rc.Combiners[a] = r
	}
	err = WriteClusterWithOptions(dir, tc.dl, tc.d, &rc, testPassphrase, opts)
	require.ErrorIs(t, err, ErrRecipients, "extra recipient")
	require.Contains(t, err.Error(), "99", "the message names the extra node")
	err = WriteClusterWithOptions(dir, tc.dl, tc.d, nil, testPassphrase, opts)
	require.ErrorIs(t, err, ErrRecipients, "no recipients")
	// A typed nil recipient fails before anything is written.
	rc = *tc.rc
	rc.Distributors = map[int]age.Recipient{1: tc.rc.Distributors[1], 2: (*age.X25519Recipient)(nil)}
	require.Error(t, WriteClusterWithOptions(dir, tc.dl, tc.d, &rc, testPassphrase, opts), "nil recipient accepted")
	empty(t, dir)
	// A weak passphrase.
	err = WriteClusterWithOptions(dir, tc.dl, tc.d, tc.rc, "short", opts)
	require.ErrorIs(t, err, ErrWeakPassphrase, "weak passphrase")
	empty(t, dir)
	// A mismatched dealing.
	bad := *tc.d
	bad.Calculators = bad.Calculators[:3]
	require.Error(t, WriteClusterWithOptions(dir, tc.dl, &bad, tc.rc, testPassphrase, opts), "incomplete dealing accepted")
	require.Error(t, WriteCluster(dir, nil, nil, tc.rc, testPassphrase), "nil dealing accepted")
	empty(t, dir)

	// An existing file of the layout: refused, nothing else written.
	for _, name := range []string{PlanFile, "calculator-2.age", "dealer.age"} {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("keep me"), 0o600))
		err := WriteClusterWithOptions(dir, tc.dl, tc.d, tc.rc, testPassphrase, opts)
		require.ErrorIs(t, err, fs.ErrExist, "%s exists", name)
		empty(t, dir, name)
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		require.Equal(t, "keep me", string(b), "%s overwritten", name)
	}
	// A second write into a written directory.
	dir = t.TempDir()
	tc.write(t, dir)
	before, err := os.ReadDir(dir)
	require.NoError(t, err)
	err = WriteClusterWithOptions(dir, tc.dl, tc.d, tc.rc, testPassphrase, opts)
	require.ErrorIs(t, err, fs.ErrExist, "second write")
	err = WritePlaintextCluster(dir, tc.dl, tc.d)
	require.ErrorIs(t, err, fs.ErrExist, "plaintext over sealed")
	after, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, after, len(before), "files added")
	// A file where the directory should be.
	f := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(f, nil, 0o600))
	require.Error(t, WriteClusterWithOptions(f, tc.dl, tc.d, tc.rc, testPassphrase, opts), "wrote into a file")
}

func TestPlaintextCluster(t *testing.T) {
	tc := newTestCluster(t)
	dir := tc.writePlaintext(t)
	c, err := LoadPublic(dir, tc.trust())
	require.NoError(t, err)
	require.False(t, c.Sealed(), "a plaintext cluster says sealed")
	require.Equal(t, "dealer.json", c.Info.Dealer, "dealer file")
	for _, n := range tc.nodes() {
		path := c.Path(n)
		require.Equal(t, BundleFile(n, ".json"), filepath.Base(path), "%v: path", n)
		fi, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "%s: mode", path)
		b, err := load(c, n, nil)
		require.NoError(t, err, "%v", n)
		require.Empty(t, cmp.Diff(string(tc.marshal(t, n)), string(b)), "%v: key material changed (-dealt +loaded)", n)
	}
	_, err = c.Dealer("")
	require.NoError(t, err)
	// A plaintext file has no business in a sealed cluster, and vice versa.
	_, err = LoadCalculator(filepath.Join(dir, "calculator-1.txt"), nil, tc.trust())
	require.Error(t, err, "unknown extension accepted")
	_, err = c.Calculator(9, nil)
	require.ErrorIs(t, err, fs.ErrNotExist, "calculator 9")
	_, err = c.Combiner(9, nil)
	require.Error(t, err, "combiner 9 accepted")
}

func TestLoadPublicErrors(t *testing.T) {
	tc := newTestCluster(t)
	src := t.TempDir()
	require.NoError(t, WritePlaintextCluster(filepath.Join(src, "c"), tc.dl, tc.d))
	src = filepath.Join(src, "c")
	info, err := os.ReadFile(filepath.Join(src, InfoFile))
	require.NoError(t, err)
	var in Info
	require.NoError(t, json.Unmarshal(info, &in))

	edit := func(name string, f func(Info) Info, other map[string][]byte) {
		t.Helper()
		dir := t.TempDir()
		for _, n := range []string{PublicFile, PlanFile, RosterFile} {
			b, err := os.ReadFile(filepath.Join(src, n))
			require.NoError(t, err)
			if o, ok := other[n]; ok {
				b = o
			}
			require.NoError(t, os.WriteFile(filepath.Join(dir, n), b, 0o644))
		}
		b, err := json.Marshal(f(in))
		require.NoError(t, err)
		if o, ok := other[InfoFile]; ok {
			b = o
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, InfoFile), b, 0o644))
		// Signed by the dealer, so that only the edit is refused.
		var files []fileOut
		for _, n := range []string{InfoFile, PublicFile, PlanFile, RosterFile} {
			b, err := os.ReadFile(filepath.Join(dir, n))
			require.NoError(t, err)
			files = append(files, fileOut{name: n, data: b})
		}
		sig, err := signPublic(tc.dl, in.KeyID, in.Epoch, files)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, SignatureFile), sig.data, 0o644))
		_, err = LoadPublic(dir, tc.trust())
		assert.Error(t, err, "%s: accepted", name)
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
	_, err = LoadPublic(t.TempDir(), tc.trust())
	assert.ErrorIs(t, err, fs.ErrNotExist, "empty directory")
}
