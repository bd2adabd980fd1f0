package seal_test

// Known-answer cluster directories (format "tolerant cluster v1", signed
// bundles "tolerant signed bundle v1", manifest "tolerant cluster
// signature v1") of the seeded dealing of package share's golden files
// (../testdata/golden), in testdata/golden:
//
//   - plaintext-cluster-v1: written by WritePlaintextCluster. The tests load
//     it with today's code and require that writing the loaded cluster
//     again gives every file byte for byte.
//   - sealed-cluster-v1: written by WriteCluster to the identities of
//     identities.txt (test keys, public) and the passphrase below. Sealing
//     is randomized, so the tests require that today's code opens every
//     bundle to exactly the plaintext cluster's bytes, and that writing the
//     loaded cluster again gives the same public files.
//
// A format change without a new version therefore fails them. After a
// deliberate change, with a new version, regenerate package share's files
// first and then these with
//
//	go test ./share/seal -run TestGolden -update
//
// which rewrites both directories.

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

var update = flag.Bool("update", false, "rewrite the golden cluster directories of testdata/golden")

const (
	goldenShare      = "../testdata/golden"
	goldenPlain      = "testdata/golden/plaintext-cluster-v1"
	goldenSealed     = "testdata/golden/sealed-cluster-v1"
	goldenIdentities = "testdata/golden/identities.txt"
	goldenPassphrase = "golden test passphrase, public"
)

// goldenScrypt keeps the dealer state's scrypt fast; it is a test file.
var goldenScrypt = &seal.Options{InsecureScryptWorkFactorForTests: 10}

// dealingOfShareGolden reads package share's golden dealer state and key
// material.
func dealingOfShareGolden(t *testing.T) (*share.Dealer, *share.Dealing) {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(goldenShare, name))
		require.NoError(t, err)
		return b
	}
	dl, err := share.ParseDealerState(read("dealer-v3.json"))
	require.NoError(t, err)
	d := &share.Dealing{Plan: dl.Plan()}
	dk, err := share.ParseDistributorKey(read("distributor-1-v1.json"))
	require.NoError(t, err)
	d.Distributors = append(d.Distributors, dk)
	k, _, _ := dl.Params()
	for j := 1; j <= k; j++ {
		ck, err := share.ParseCalculatorKey(read(fmt.Sprintf("calculator-%d-v1.json", j)))
		require.NoError(t, err)
		d.Calculators = append(d.Calculators, ck)
	}
	for _, a := range seal.InService(d.Plan) {
		ck, err := share.ParseCombinerKey(read(fmt.Sprintf("combiner-%d-v1.json", a)))
		require.NoError(t, err)
		d.Combiners = append(d.Combiners, ck)
	}
	return dl, d
}

// loadCluster loads every file of a golden cluster directory with today's
// code: the public files, the dealer's state and every bundle.
func loadCluster(t *testing.T, dir string, ids map[share.Node]age.Identity) (*seal.Cluster, *share.Dealer, *share.Dealing) {
	t.Helper()
	c, err := seal.LoadPublic(dir, seal.Trust{InsecureTrustOnFirstUse: true})
	require.NoError(t, err)
	c, err = seal.LoadPublic(dir, seal.Trust{DealerKey: c.DealerKey})
	require.NoError(t, err)
	dl, err := c.Dealer(goldenPassphrase)
	require.NoError(t, err)
	require.True(t, dl.DealerKey().Equal(c.DealerKey))
	d := &share.Dealing{Plan: c.Plan}
	for n := 1; n <= c.Distributors(); n++ {
		dk, err := c.Distributor(n, ids[share.Node{Role: share.RoleDistributor, Number: n}])
		require.NoError(t, err, "distributor %d", n)
		d.Distributors = append(d.Distributors, dk)
	}
	for j := 1; j <= c.Info.K; j++ {
		ck, err := c.Calculator(j, ids[share.Node{Role: share.RoleCalculator, Number: j}])
		require.NoError(t, err, "calculator %d", j)
		d.Calculators = append(d.Calculators, ck)
	}
	for _, a := range seal.InService(c.Plan) {
		ck, err := c.Combiner(a, ids[share.Node{Role: share.RoleCombiner, Number: a}])
		require.NoError(t, err, "combiner %d", a)
		d.Combiners = append(d.Combiners, ck)
	}
	return c, dl, d
}

// readDir returns every file of dir by name.
func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		out[e.Name()] = b
	}
	return out
}

// TestGoldenPlaintextCluster: today's code loads the golden plaintext
// cluster, and writing what it loaded gives the same files byte for byte.
func TestGoldenPlaintextCluster(t *testing.T) {
	if *update {
		dl, d := dealingOfShareGolden(t)
		require.NoError(t, os.RemoveAll(goldenPlain))
		require.NoError(t, seal.WritePlaintextCluster(goldenPlain, dl, d))
	}
	_, dl, d := loadCluster(t, goldenPlain, nil)
	out := filepath.Join(t.TempDir(), "cluster")
	require.NoError(t, seal.WritePlaintextCluster(out, dl, d))
	want, got := readDir(t, goldenPlain), readDir(t, out)
	require.ElementsMatch(t, keys(want), keys(got))
	for name := range want {
		require.Equal(t, string(want[name]), string(got[name]), "%s written again differs", name)
	}
	// The bundles are signed package share material: the same as share's
	// golden files.
	shareState, err := os.ReadFile(filepath.Join(goldenShare, "dealer-v3.json"))
	require.NoError(t, err)
	require.Equal(t, string(shareState), string(want["dealer.json"]))
}

// TestGoldenSealedCluster: today's code opens every sealed bundle of the
// golden sealed cluster to exactly the plaintext cluster's bytes, loads it,
// and writing what it loaded gives the same public files.
func TestGoldenSealedCluster(t *testing.T) {
	if *update {
		writeGoldenSealed(t)
	}
	ids, rc := readIdentities(t)
	plain := readDir(t, goldenPlain)
	sealed := readDir(t, goldenSealed)
	for name, b := range sealed {
		base, ext := strings.TrimSuffix(name, seal.SealedExt), filepath.Ext(name)
		if ext != seal.SealedExt {
			// cluster.json names the sealed files and their recipients,
			// and cluster.sig signs it: both differ from the plaintext's.
			if name != seal.InfoFile && name != seal.SignatureFile {
				require.Equal(t, string(plain[name]), string(b), "%s differs from the plaintext cluster's", name)
			}
			continue
		}
		var opened []byte
		var err error
		if base == "dealer" {
			opened, err = seal.OpenWithPassphrase(b, goldenPassphrase)
		} else {
			opened, err = seal.Open(b, identityFor(t, ids, base))
		}
		require.NoError(t, err, "%s", name)
		require.Equal(t, string(plain[base+seal.PlaintextExt]), string(opened), "%s opens to other bytes than the plaintext cluster's", name)
	}

	_, dl, d := loadCluster(t, goldenSealed, ids)
	out := filepath.Join(t.TempDir(), "cluster")
	require.NoError(t, seal.WriteClusterWithOptions(out, dl, d, rc, goldenPassphrase, goldenScrypt))
	got := readDir(t, out)
	require.ElementsMatch(t, keys(sealed), keys(got))
	for name, b := range sealed {
		if filepath.Ext(name) != seal.SealedExt {
			require.Equal(t, string(b), string(got[name]), "%s written again differs", name)
		}
	}
}

// identityFor returns the identity of the node whose bundle is base (for
// example "calculator-2").
func identityFor(t *testing.T, ids map[share.Node]age.Identity, base string) age.Identity {
	t.Helper()
	role, num, ok := strings.Cut(base, "-")
	require.True(t, ok, "%s", base)
	for n, id := range ids {
		if n.Role.String() == role && fmt.Sprint(n.Number) == num {
			return id
		}
	}
	require.FailNowf(t, "no identity", "no identity for bundle %s", base)
	return nil
}

// readIdentities reads identities.txt: "role number AGE-SECRET-KEY-1..."
// lines. It returns the identities by node and the recipients file they
// make.
func readIdentities(t *testing.T) (map[share.Node]age.Identity, *seal.Recipients) {
	t.Helper()
	b, err := os.ReadFile(goldenIdentities)
	require.NoError(t, err)
	ids := map[share.Node]age.Identity{}
	var recipients strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		require.Len(t, f, 3, "line %q", line)
		var role share.Role
		require.NoError(t, role.UnmarshalText([]byte(f[0])))
		var num int
		_, err := fmt.Sscan(f[1], &num)
		require.NoError(t, err)
		id, err := age.ParseX25519Identity(f[2])
		require.NoError(t, err)
		ids[share.Node{Role: role, Number: num}] = id
		fmt.Fprintf(&recipients, "%s %d %s\n", f[0], num, id.Recipient())
	}
	rc, err := seal.ParseRecipients(strings.NewReader(recipients.String()))
	require.NoError(t, err)
	return ids, rc
}

// writeGoldenSealed makes an identity for every node and writes the sealed
// cluster of the plaintext one to them.
func writeGoldenSealed(t *testing.T) {
	t.Helper()
	dl, d := dealingOfShareGolden(t)
	var b bytes.Buffer
	b.WriteString("# Test identities of the golden sealed cluster: public, never use them.\n")
	add := func(role share.Role, n int) {
		id, err := age.GenerateX25519Identity()
		require.NoError(t, err)
		fmt.Fprintf(&b, "%v %d %s\n", role, n, id)
	}
	for n := range d.Distributors {
		add(share.RoleDistributor, n+1)
	}
	for j := range d.Calculators {
		add(share.RoleCalculator, j+1)
	}
	for _, a := range seal.InService(d.Plan) {
		add(share.RoleCombiner, a)
	}
	require.NoError(t, os.WriteFile(goldenIdentities, b.Bytes(), 0o644))
	_, rc := readIdentities(t)
	require.NoError(t, os.RemoveAll(goldenSealed))
	require.NoError(t, seal.WriteClusterWithOptions(goldenSealed, dl, d, rc, goldenPassphrase, goldenScrypt))
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
