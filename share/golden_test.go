package share_test

// Known-answer files of the v1 formats (and the dealer state's versions 1 to
// 3) made from one seeded dealing, in testdata/golden. The tests read every
// file with today's code and require that encoding it again gives the same
// bytes (an older version: the bytes of the current version's file), and
// that the dealing signs a fixed request with the signature on file. A
// format change without a new version string therefore fails them.
//
// After a deliberate change of format, with a new version string, add the
// new version's files (the old ones stay, to be read forever) with
//
//	go test ./share -run TestGolden -update
//
// and then regenerate the files of package seal, which are built on these:
//
//	go test ./share/seal -run TestGolden -update

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/combine"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/emsa"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
)

var update = flag.Bool("update", false, "write the golden files of testdata/golden from the seeded dealing")

const goldenDir = "testdata/golden"

// goldenContent is the content of the fixed request the golden dealing signs.
const goldenContent = "tolerant golden request: the dealing of testdata/golden signs these bytes"

// goldenDealing deals the testdata key rsa1024 over the patent's (5, 3, 2)
// plan ([0084]-[0087]) with a seeded random source: the same files every run.
func goldenDealing(t *testing.T) (*share.Dealer, *share.Dealing) {
	t.Helper()
	random := rand.NewChaCha8([32]byte{'g', 'o', 'l', 'd', 'e', 'n'})
	dl, err := share.NewDealer(random, testkeys.Must(testkeys.RSA1024), 5, 3, 2, &share.Options{
		KeyID: "golden", Epoch: 1, InsecureAllowSmallKeysForTests: true,
	})
	require.NoError(t, err)
	d, err := dl.Deal(grouping.PatentPlan())
	require.NoError(t, err)
	return dl, d
}

// goldenRequests returns the fixed requests: PKCS #1 v1.5 and PSS (with a
// salt from a seeded reader) over the SHA-256 of goldenContent.
func goldenRequests(t *testing.T, pub *rsa.PublicKey) map[string]*share.Request {
	t.Helper()
	sum := sha256.Sum256([]byte(goldenContent))
	salt := rand.NewChaCha8([32]byte{'s', 'a', 'l', 't'})
	em, err := emsa.PSSEncode(salt, crypto.SHA256, sum[:], emsa.SaltLengthEqualsHash, pub.N.BitLen())
	require.NoError(t, err)
	return map[string]*share.Request{
		"pkcs1v15": {KeyID: "golden", Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15, Content: []byte(goldenContent)},
		"pss":      {KeyID: "golden", Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PSS, Content: []byte(goldenContent), Encoded: em, SaltLength: emsa.SaltLengthEqualsHash},
	}
}

// marshalPlan is how a plan is written (as seal writes plan.json).
func marshalPlan(p *grouping.Plan) ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	return append(b, '\n'), err
}

// reencoders parse a golden file of a kind (its name's prefix) with today's
// code and encode the result again.
var reencoders = map[string]func([]byte) ([]byte, error){
	"calculator": func(b []byte) ([]byte, error) {
		k, err := share.ParseCalculatorKey(b)
		if err != nil {
			return nil, err
		}
		return k.Marshal()
	},
	"combiner": func(b []byte) ([]byte, error) {
		k, err := share.ParseCombinerKey(b)
		if err != nil {
			return nil, err
		}
		return k.Marshal()
	},
	"distributor": func(b []byte) ([]byte, error) {
		k, err := share.ParseDistributorKey(b)
		if err != nil {
			return nil, err
		}
		return k.Marshal()
	},
	"dealer": func(b []byte) ([]byte, error) {
		dl, err := share.ParseDealerState(b)
		if err != nil {
			return nil, err
		}
		return dl.MarshalState()
	},
	"plan": func(b []byte) ([]byte, error) {
		p, err := grouping.ParsePlan(b)
		if err != nil {
			return nil, err
		}
		return marshalPlan(p)
	},
}

// goldenName is "kind[-number]-vN.json" (a format version) or "plan.json".
var goldenName = regexp.MustCompile(`^([a-z]+)(-[0-9]+)?(-v[0-9]+)?\.json$`)

// formatVersion returns the "vN" that ends the "format" field of b, or "".
func formatVersion(t *testing.T, b []byte) string {
	t.Helper()
	var head struct {
		Format string `json:"format"`
	}
	require.NoError(t, json.Unmarshal(b, &head))
	if head.Format == "" {
		return ""
	}
	f := strings.Fields(head.Format)
	return f[len(f)-1]
}

// TestGoldenReencode reads every golden file with today's code and requires
// that encoding it again gives exactly the file of the version written now:
// the file itself, or for an old version the current version's file.
func TestGoldenReencode(t *testing.T) {
	if *update {
		writeGolden(t)
	}
	entries, err := os.ReadDir(goldenDir)
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, e := range entries {
		m := goldenName.FindStringSubmatch(e.Name())
		if m == nil || m[1] == "signature" {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			reencode, ok := reencoders[m[1]]
			require.True(t, ok, "no reader for %s", e.Name())
			b, err := os.ReadFile(filepath.Join(goldenDir, e.Name()))
			require.NoError(t, err)
			if m[3] != "" {
				require.Equal(t, m[3][1:], formatVersion(t, b), "the file name's version is not its format's")
			}
			out, err := reencode(b)
			require.NoError(t, err, "today's code does not read %s", e.Name())
			want := e.Name()
			if v := formatVersion(t, out); v != "" {
				want = fmt.Sprintf("%s%s-%s.json", m[1], m[2], v)
			}
			wantBytes, err := os.ReadFile(filepath.Join(goldenDir, want))
			require.NoError(t, err, "%s re-encodes as %s, which has no golden file: a new format version needs -update", e.Name(), want)
			require.Equal(t, string(wantBytes), string(out), "%s re-encoded differs from %s", e.Name(), want)
			seen[m[1]] = true
		})
	}
	for kind := range reencoders {
		require.True(t, seen[kind], "no golden file of kind %s", kind)
	}
}

// TestGoldenSignature signs the fixed requests with the golden key material,
// every combiner with the partials of all calculators, and requires the
// signatures on file, which verify with crypto/rsa.
func TestGoldenSignature(t *testing.T) {
	ctx := context.Background()
	var calcs []*share.Calculator
	for j := 1; j <= 5; j++ {
		b, err := os.ReadFile(filepath.Join(goldenDir, fmt.Sprintf("calculator-%d-v1.json", j)))
		require.NoError(t, err)
		ck, err := share.ParseCalculatorKey(b)
		require.NoError(t, err)
		c, err := share.NewCalculator(ck, nil)
		require.NoError(t, err)
		calcs = append(calcs, c)
	}
	pub := calcs[0].Meta().PublicKey
	for scheme, req := range goldenRequests(t, pub) {
		var partials []share.Partial
		for _, c := range calcs {
			p, err := c.Compute(ctx, req)
			require.NoError(t, err)
			partials = append(partials, p...)
		}
		want, err := os.ReadFile(filepath.Join(goldenDir, "signature-"+scheme+".hex"))
		require.NoError(t, err)
		for a := 1; a <= 3; a++ {
			b, err := os.ReadFile(filepath.Join(goldenDir, fmt.Sprintf("combiner-%d-v1.json", a)))
			require.NoError(t, err)
			ck, err := share.ParseCombinerKey(b)
			require.NoError(t, err)
			cb, err := combine.New(ck, nil)
			require.NoError(t, err)
			res, err := cb.Combine(ctx, req, partials)
			require.NoError(t, err, "%s, combiner %d", scheme, a)
			require.Equal(t, strings.TrimSpace(string(want)), hex.EncodeToString(res.Signature), "%s, combiner %d", scheme, a)
		}
		sig, err := hex.DecodeString(strings.TrimSpace(string(want)))
		require.NoError(t, err)
		if req.Scheme == share.PSS {
			require.NoError(t, rsa.VerifyPSS(pub, crypto.SHA256, req.Digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}))
		} else {
			require.NoError(t, rsa.VerifyPKCS1v15(pub, crypto.SHA256, req.Digest, sig))
		}
	}
}

// writeGolden writes the files of the current versions from the seeded
// dealing, and the dealer states of versions 1 and 2 derived from it. It
// never removes a file: those of older versions stay.
func writeGolden(t *testing.T) {
	t.Helper()
	dl, d := goldenDealing(t)
	files := map[string][]byte{}
	put := func(kind string, n int, b []byte, err error) {
		require.NoError(t, err)
		name := kind
		if n > 0 {
			name += fmt.Sprintf("-%d", n)
		}
		if v := formatVersion(t, b); v != "" {
			name += "-" + v
		}
		files[name+".json"] = b
	}
	for _, k := range d.Calculators {
		b, err := k.Marshal()
		put("calculator", k.Number, b, err)
	}
	for _, k := range d.Combiners {
		b, err := k.Marshal()
		put("combiner", k.Number, b, err)
	}
	for _, k := range d.Distributors {
		b, err := k.Marshal()
		put("distributor", k.NodeKey.Number, b, err)
	}
	b, err := marshalPlan(d.Plan)
	put("plan", 0, b, err)
	state, err := dl.MarshalState()
	put("dealer", 0, state, err)
	for _, old := range oldDealerStates(t, state) {
		put("dealer", 0, old, nil)
	}
	for scheme, sig := range goldenSignatures(t, dl) {
		files["signature-"+scheme+".hex"] = []byte(hex.EncodeToString(sig) + "\n")
	}
	require.NoError(t, os.MkdirAll(goldenDir, 0o755))
	for name, b := range files {
		require.NoError(t, os.WriteFile(filepath.Join(goldenDir, name), b, 0o644))
	}
}

// oldDealerStates derives from a version 3 state the same dealer as a
// version 2 state (which has no removed combiners or past epochs) and as a
// version 1 state (which has no plan, history or guarantees).
func oldDealerStates(t *testing.T, v3 []byte) [][]byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(v3, &m))
	require.Equal(t, "tolerant dealer state v3", m["format"])
	require.NotContains(t, m, "removed_combiners")
	require.NotContains(t, m, "past_epochs")
	v2 := bytes.Replace(v3, []byte(`"tolerant dealer state v3"`), []byte(`"tolerant dealer state v2"`), 1)
	m["format"] = "tolerant dealer state v1"
	for _, f := range []string{"plan", "history", "redundancy", "pairs"} {
		delete(m, f)
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	dl, err := share.ParseDealerState(b)
	require.NoError(t, err)
	v1, err := dl.MarshalState()
	require.NoError(t, err)
	return [][]byte{v2, v1}
}

// goldenSignatures signs the fixed requests with the full key.
func goldenSignatures(t *testing.T, dl *share.Dealer) map[string][]byte {
	t.Helper()
	key := testkeys.Must(testkeys.RSA1024)
	out := map[string][]byte{}
	for scheme, req := range goldenRequests(t, dl.PublicKey()) {
		em, err := req.Encode(dl.PublicKey())
		require.NoError(t, err)
		k := (key.N.BitLen() + 7) / 8
		out[scheme] = new(big.Int).Exp(new(big.Int).SetBytes(em), key.D, key.N).FillBytes(make([]byte, k))
	}
	return out
}
