package seal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/fileio"
	"github.com/tolerantca/tolerant/share"
)

// Names of the public files of a cluster directory.
const (
	InfoFile   = "cluster.json"
	PublicFile = "public.pem"
	PlanFile   = "plan.json"
	RosterFile = "roster.json"
)

// Extensions of bundles: sealed or plaintext.
const (
	SealedExt    = ".age"
	PlaintextExt = ".json"
)

// infoFormat is the format (and version) of cluster.json.
const infoFormat = "tolerant cluster v1"

// BundleFile is the name of node n's bundle in a cluster directory:
// calculator-J, combiner-A or distributor-N, with ext ([SealedExt] or
// [PlaintextExt]).
func BundleFile(n share.Node, ext string) string {
	return fmt.Sprintf("%s-%d%s", n.Role, n.Number, ext)
}

// DealerFile is the name of the dealer's state: dealer.age or dealer.json.
func DealerFile(ext string) string { return "dealer" + ext }

// Info is the public metadata of a cluster directory, written as
// cluster.json. It holds no secret.
type Info struct {
	Format      string `json:"format"` // "tolerant cluster v1"
	KeyID       string `json:"key_id"`
	Epoch       uint32 `json:"epoch"`
	ModulusBits int    `json:"modulus_bits"`
	K           int    `json:"k"`
	T           int    `json:"t"`
	L           int    `json:"l"`
	ShareBits   int    `json:"share_bits"`
	// Sealed tells whether the bundles are sealed (.age) or plaintext (.json).
	Sealed bool   `json:"sealed"`
	Public string `json:"public"` // public.pem
	Plan   string `json:"plan"`   // plan.json
	Roster string `json:"roster"` // roster.json
	Dealer string `json:"dealer"` // dealer.age or dealer.json
	// Bundles lists every node's bundle: distributors, calculators, then
	// combiners, each by number.
	Bundles []Bundle `json:"bundles"`
}

// Bundle names one node's bundle in [Info].
type Bundle struct {
	Role   share.Role `json:"role"`
	Number int        `json:"number"`
	File   string     `json:"file"`
	// Recipient is the age recipient the bundle is sealed to; empty for
	// plaintext bundles.
	Recipient string `json:"recipient,omitempty"`
}

// Node returns the bundle's node.
func (b Bundle) Node() share.Node { return share.Node{Role: b.Role, Number: b.Number} }

// Options tune [WriteClusterWithOptions].
type Options struct {
	// Progress, when set, is called before every step that may take time
	// (marshaling, sealing each bundle, sealing the dealer's state, writing)
	// with a one-line description that holds no secret.
	Progress func(msg string)

	// InsecureScryptWorkFactorForTests, when nonzero, seals the dealer's
	// state with a scrypt work factor of 2^n (1..30) instead of age's
	// default 2^18, which takes about a second (far more under the race
	// detector). A low factor makes the passphrase cheap to guess: use it
	// only to keep tests fast.
	InsecureScryptWorkFactorForTests int
}

func (o *Options) progress(format string, args ...any) {
	if o != nil && o.Progress != nil {
		o.Progress(fmt.Sprintf(format, args...))
	}
}

// WriteCluster writes the cluster directory of dealing d (dealt by dl) into
// dir, creating dir if needed: the public files, every node's bundle sealed
// to its recipient in rc, and the dealer's state sealed to passphrase (see
// the package documentation for the layout). It checks everything first (a
// recipient for every node and none for a node that does not exist, the
// passphrase, no file of the layout already in dir) and writes nothing when
// a check fails. It never overwrites a file.
func WriteCluster(dir string, dl *share.Dealer, d *share.Dealing, rc *Recipients, passphrase string) error {
	return WriteClusterWithOptions(dir, dl, d, rc, passphrase, nil)
}

// WriteClusterWithOptions is [WriteCluster] with options; opts may be nil.
func WriteClusterWithOptions(dir string, dl *share.Dealer, d *share.Dealing, rc *Recipients, passphrase string, opts *Options) error {
	if err := checkDealing(dl, d); err != nil {
		return err
	}
	if err := rc.CheckNumbers(len(d.Distributors), len(d.Calculators), InService(d.Plan)); err != nil {
		return err
	}
	if err := CheckPassphrase(passphrase); err != nil {
		return fmt.Errorf("seal: dealer passphrase: %w", err)
	}
	logN := 0
	if opts != nil {
		logN = opts.InsecureScryptWorkFactorForTests
	}
	return writeCluster(dir, dl, d, opts, true, func(n share.Node, b []byte) ([]byte, string, error) {
		r := rc.Recipient(n)
		opts.progress("sealing %v to %v", n, r)
		out, err := Seal(b, r)
		if err != nil {
			return nil, "", fmt.Errorf("seal: %v: %w", n, err)
		}
		return out, fmt.Sprint(r), nil
	}, func(b []byte) ([]byte, error) {
		opts.progress("sealing the dealer's state to the passphrase (scrypt: about a second)")
		return sealWithPassphrase(b, passphrase, logN)
	})
}

// WritePlaintextCluster writes the layout of [WriteCluster] with every
// bundle and the dealer's state in PLAINTEXT (calculator-J.json, ...,
// dealer.json, mode 0600). Offer it only behind a flag whose name says so.
func WritePlaintextCluster(dir string, dl *share.Dealer, d *share.Dealing) error {
	if err := checkDealing(dl, d); err != nil {
		return err
	}
	return writeCluster(dir, dl, d, nil, false,
		func(_ share.Node, b []byte) ([]byte, string, error) { return bytes.Clone(b), "", nil },
		func(b []byte) ([]byte, error) { return bytes.Clone(b), nil })
}

// checkDealing checks that d is a complete dealing of dl, numbered 1..n in
// every role.
func checkDealing(dl *share.Dealer, d *share.Dealing) error {
	if dl == nil || d == nil || d.Plan == nil {
		return errors.New("seal: no dealer, dealing or plan")
	}
	k, t, l := dl.Params()
	if d.Plan.K != k || d.Plan.T != t || d.Plan.L != l {
		return fmt.Errorf("seal: the plan (k=%d t=%d l=%d) is not the dealer's (k=%d t=%d l=%d)", d.Plan.K, d.Plan.T, d.Plan.L, k, t, l)
	}
	if err := checkDealingPlan(dl, d); err != nil {
		return err
	}
	combiners := InService(d.Plan)
	if len(d.Calculators) != k || len(d.Combiners) != len(combiners) || len(d.Distributors) == 0 {
		return fmt.Errorf("seal: incomplete dealing: %d distributors, %d of %d calculators, %d of %d combiners",
			len(d.Distributors), len(d.Calculators), k, len(d.Combiners), len(combiners))
	}
	for i, dk := range d.Distributors {
		if dk == nil || dk.NodeKey == nil || dk.NodeKey.Number != i+1 || dk.KeyID != dl.KeyID() {
			return fmt.Errorf("seal: distributor %d of the dealing is missing or misnumbered", i+1)
		}
	}
	for i, ck := range d.Calculators {
		if ck == nil || ck.Number != i+1 || ck.KeyID != dl.KeyID() {
			return fmt.Errorf("seal: calculator %d of the dealing is missing or misnumbered", i+1)
		}
	}
	for i, ck := range d.Combiners {
		if ck == nil || ck.Number != combiners[i] || ck.KeyID != dl.KeyID() {
			return fmt.Errorf("seal: combiner %d of the dealing is missing or misnumbered", combiners[i])
		}
	}
	return nil
}

// InService returns the numbers of the combiners of plan that hold
// representations, ascending: those with a bundle. A combiner whose entry
// is empty was taken out of service ([share.Dealer.RemoveCombiner]).
func InService(plan *grouping.Plan) []int {
	var out []int
	for a, reps := range plan.Combiners {
		if len(reps) > 0 {
			out = append(out, a+1)
		}
	}
	return out
}

// ErrRemovedCombiner is returned (wrapped together with fs.ErrNotExist)
// for the bundle of a combiner taken out of service: it has none. It is
// [share.ErrCombinerRemoved] itself, which the dealer returns for the same
// combiner.
var ErrRemovedCombiner = share.ErrCombinerRemoved

type fileOut struct {
	name string
	data []byte
	mode os.FileMode
}

// writeCluster writes the cluster directory of dealing d: it marshals,
// signs and seals every bundle (sealNode) and the dealer's state
// (sealDealer) in memory, signs the public files, refuses an occupied dir
// and then writes every file. A failure leaves nothing behind; secrets are
// cleared on the way out.
func writeCluster(dir string, dl *share.Dealer, d *share.Dealing, opts *Options, sealed bool,
	sealNode func(share.Node, []byte) ([]byte, string, error), sealDealer func([]byte) ([]byte, error)) (err error) {
	ext := PlaintextExt
	if sealed {
		ext = SealedExt
	}
	info := clusterInfo(dl, d, sealed, ext)
	bw := &bundleWriter{dl: dl, info: &info, ext: ext, sealNode: sealNode}
	defer bw.clear()
	opts.progress("marshaling the key material of %d distributors, %d calculators and %d combiners",
		len(d.Distributors), len(d.Calculators), len(d.Combiners))
	if err := bw.addDealing(d); err != nil {
		return err
	}
	public, err := publicFiles(dl, d, &info)
	if err != nil {
		return err
	}
	// Refuse an occupied directory before the slow scrypt step.
	names := []string{info.Dealer}
	for _, f := range append(public, bw.files...) {
		names = append(names, f.name)
	}
	if err := checkAbsent(dir, names); err != nil {
		return err
	}
	if err := bw.addDealerState(sealDealer); err != nil {
		return err
	}
	opts.progress("writing %d files to %s", len(public)+len(bw.files), dir)
	return writeAll(dir, append(public, bw.files...))
}

// clusterInfo returns the cluster.json of dealing d of dl, without its
// bundles.
func clusterInfo(dl *share.Dealer, d *share.Dealing, sealed bool, ext string) Info {
	k, t, l := dl.Params()
	return Info{
		Format: infoFormat, KeyID: dl.KeyID(), Epoch: d.Calculators[0].Epoch, ModulusBits: dl.PublicKey().N.BitLen(),
		K: k, T: t, L: l, ShareBits: dl.ShareBits(), Sealed: sealed,
		Public: PublicFile, Plan: PlanFile, Roster: RosterFile, Dealer: DealerFile(ext),
	}
}

// bundleWriter collects the secret files of a cluster directory in memory:
// every node's bundle, signed by the dealer and sealed, then the dealer's
// state. It lists each bundle in info.
type bundleWriter struct {
	dl       *share.Dealer
	info     *Info
	ext      string
	sealNode func(share.Node, []byte) ([]byte, string, error)
	files    []fileOut
}

// clear clears the secret files collected.
func (w *bundleWriter) clear() {
	for _, f := range w.files {
		clear(f.data)
	}
}

// addDealing adds the bundles of every distributor, calculator and
// combiner of d, in that order.
func (w *bundleWriter) addDealing(d *share.Dealing) error {
	for _, dk := range d.Distributors {
		b, err := dk.Marshal()
		if err := w.add(share.Node{Role: share.RoleDistributor, Number: dk.NodeKey.Number}, b, err); err != nil {
			return err
		}
	}
	for _, ck := range d.Calculators {
		b, err := ck.Marshal()
		if err := w.add(share.Node{Role: share.RoleCalculator, Number: ck.Number}, b, err); err != nil {
			return err
		}
	}
	for _, ck := range d.Combiners {
		b, err := ck.Marshal()
		if err := w.add(share.Node{Role: share.RoleCombiner, Number: ck.Number}, b, err); err != nil {
			return err
		}
	}
	return nil
}

// add signs node n's marshaled key material b (merr is the error of
// marshaling it), clears b, seals the signed bundle and adds it.
func (w *bundleWriter) add(n share.Node, b []byte, merr error) error {
	if merr != nil {
		return fmt.Errorf("seal: %v: %w", n, merr)
	}
	signed, err := signBundle(w.dl, n, w.info.KeyID, w.info.Epoch, b)
	clear(b)
	if err != nil {
		return fmt.Errorf("seal: %v: %w", n, err)
	}
	defer clear(signed)
	out, recipient, err := w.sealNode(n, signed)
	if err != nil {
		return err
	}
	name := BundleFile(n, w.ext)
	w.files = append(w.files, fileOut{name: name, data: out, mode: 0o600})
	w.info.Bundles = append(w.info.Bundles, Bundle{Role: n.Role, Number: n.Number, File: name, Recipient: recipient})
	return nil
}

// addDealerState marshals the dealer's state, seals it with sealDealer,
// clears the plaintext and adds the sealed state.
func (w *bundleWriter) addDealerState(sealDealer func([]byte) ([]byte, error)) error {
	state, err := w.dl.MarshalState()
	if err != nil {
		return fmt.Errorf("seal: dealer state: %w", err)
	}
	sealedState, err := sealDealer(state)
	clear(state)
	if err != nil {
		return fmt.Errorf("seal: dealer state: %w", err)
	}
	w.files = append(w.files, fileOut{name: w.info.Dealer, data: sealedState, mode: 0o600})
	return nil
}

// publicFiles returns the public files of the cluster directory
// (cluster.json, public.pem, plan.json, roster.json) and their signature
// file, cluster.sig.
func publicFiles(dl *share.Dealer, d *share.Dealing, info *Info) ([]fileOut, error) {
	pubDER, err := x509.MarshalPKIXPublicKey(dl.PublicKey())
	if err != nil {
		return nil, fmt.Errorf("seal: public key: %w", err)
	}
	planJSON, err := json.MarshalIndent(d.Plan, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("seal: plan: %w", err)
	}
	rosterJSON, err := json.MarshalIndent(dl.Roster(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("seal: roster: %w", err)
	}
	infoJSON, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("seal: cluster info: %w", err)
	}
	public := []fileOut{
		{InfoFile, append(infoJSON, '\n'), 0o644},
		{PublicFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644},
		{PlanFile, append(planJSON, '\n'), 0o644},
		{RosterFile, append(rosterJSON, '\n'), 0o644},
	}
	sigFile, err := signPublic(dl, info.KeyID, info.Epoch, public)
	if err != nil {
		return nil, err
	}
	return append(public, sigFile), nil
}

// checkAbsent fails, wrapping fs.ErrExist, if dir holds any of names, or if
// dir exists and is not a directory.
func checkAbsent(dir string, names []string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("seal: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("seal: %s is not a directory", dir)
	}
	for _, name := range names {
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("seal: %s %w; write a cluster into a new or empty directory", p, fs.ErrExist)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("seal: %w", err)
		}
	}
	return nil
}

// writeAll creates dir if needed and every file with O_EXCL; on failure it
// removes what it wrote (and dir, if it created it).
func writeAll(dir string, files []fileOut) (err error) {
	created := false
	if _, serr := os.Stat(dir); errors.Is(serr, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("seal: %w", err)
		}
		created = true
	}
	var written []string
	defer func() {
		if err == nil {
			return
		}
		for _, p := range written {
			os.Remove(p)
		}
		if created {
			os.Remove(dir)
		}
	}()
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := writeNew(p, f.data, f.mode); err != nil {
			return err
		}
		written = append(written, p)
	}
	return nil
}

// writeNew creates path (O_EXCL) with mode, writes b and syncs it. It
// removes the file if the write fails.
func writeNew(path string, b []byte, mode os.FileMode) error {
	err := fileio.WriteNew(path, b, mode)
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("seal: %s %w; refusing to overwrite it", path, fs.ErrExist)
	case err != nil:
		return fmt.Errorf("seal: %w", err)
	}
	return nil
}

// Cluster is the public part of a cluster directory, read by [LoadPublic].
// Its methods load bundles and check them against it.
type Cluster struct {
	Dir       string
	Info      Info
	PublicKey *rsa.PublicKey
	Plan      *grouping.Plan
	Roster    share.Roster
	// DealerKey is the key of the dealer that signed the public files;
	// every bundle loaded through the cluster must be signed by it.
	DealerKey ed25519.PublicKey
}

// maxPublicFileSize bounds the public files LoadPublic reads.
const maxPublicFileSize = 16 << 20

// LoadPublic reads the public files of the cluster directory dir
// (cluster.json, public.pem, plan.json, roster.json) and checks that they
// agree with each other and that cluster.json lists exactly the bundles of
// the layout. Every public file must be the one the dealer trust names
// signed in cluster.sig ([SignatureFile]), or the error wraps
// [ErrWrongDealer], [ErrBadSignature], [ErrUnsigned], [ErrWrongEpoch] or
// [ErrNoTrust].
func LoadPublic(dir string, trust Trust) (*Cluster, error) {
	m, err := loadManifest(dir, trust)
	if err != nil {
		return nil, err
	}
	r := publicReader{dir: dir, m: m}
	c := &Cluster{Dir: dir, DealerKey: ed25519.PublicKey(m.DealerKey)}
	if err := r.readInfo(&c.Info); err != nil {
		return nil, err
	}
	if err := r.readKeys(c); err != nil {
		return nil, err
	}
	if err := c.checkInfo(); err != nil {
		return nil, err
	}
	if err := c.checkRoster(); err != nil {
		return nil, err
	}
	return c, nil
}

// publicReader reads the public files of a cluster directory, each checked
// against the signed manifest before anything in it is parsed.
type publicReader struct {
	dir string
	m   *manifest
}

// read reads the public file name and checks it against the manifest.
func (r publicReader) read(name string) ([]byte, error) {
	p := filepath.Join(r.dir, name)
	b, err := readFile(p, maxPublicFileSize)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if err := r.m.check(name, b); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return b, nil
}

// readInfo reads cluster.json into in and checks its format, its key and
// epoch (those the manifest signs) and its file names.
func (r publicReader) readInfo(in *Info) error {
	b, err := r.read(InfoFile)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		return fmt.Errorf("seal: %s: %w", filepath.Join(r.dir, InfoFile), err)
	}
	if in.Format != infoFormat {
		return badInfo(r.dir, "format %q, want %q", in.Format, infoFormat)
	}
	if in.KeyID != r.m.KeyID || in.Epoch != r.m.Epoch {
		return badInfo(r.dir, "key %s epoch %d, but %s signs key %s epoch %d", in.KeyID, in.Epoch, SignatureFile, r.m.KeyID, r.m.Epoch)
	}
	if in.Public != PublicFile || in.Plan != PlanFile || in.Roster != RosterFile || in.Dealer != DealerFile(in.ext()) {
		return badInfo(r.dir, "unexpected file names")
	}
	return nil
}

// readKeys reads and parses public.pem, plan.json and roster.json into c,
// in that order.
func (r publicReader) readKeys(c *Cluster) error {
	b, err := r.read(PublicFile)
	if err != nil {
		return err
	}
	if c.PublicKey, err = parsePublicKey(b); err != nil {
		return fmt.Errorf("seal: %s: %w", filepath.Join(r.dir, PublicFile), err)
	}
	if b, err = r.read(PlanFile); err != nil {
		return err
	}
	if c.Plan, err = grouping.ParsePlan(b); err != nil {
		return fmt.Errorf("seal: %s: %w", filepath.Join(r.dir, PlanFile), err)
	}
	if b, err = r.read(RosterFile); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &c.Roster); err != nil {
		return fmt.Errorf("seal: %s: %w", filepath.Join(r.dir, RosterFile), err)
	}
	return nil
}

// badInfo returns an error about the cluster.json of dir.
func badInfo(dir, format string, args ...any) error {
	return fmt.Errorf("seal: %s: %s", filepath.Join(dir, InfoFile), fmt.Sprintf(format, args...))
}

// ext returns the extension of the bundles in: [SealedExt] or
// [PlaintextExt].
func (in *Info) ext() string {
	if in.Sealed {
		return SealedExt
	}
	return PlaintextExt
}

// checkInfo checks cluster.json against the plan and the public key, and
// that it lists exactly the bundles of the layout: distributors 1..D,
// calculators 1..K and combiners in service, in that order, with the
// layout's names, each with a recipient exactly when sealed.
func (c *Cluster) checkInfo() error {
	in := &c.Info
	if in.K != c.Plan.K || in.T != c.Plan.T || in.L != c.Plan.L {
		return badInfo(c.Dir, "k=%d t=%d l=%d, but %s says k=%d t=%d l=%d", in.K, in.T, in.L, PlanFile, c.Plan.K, c.Plan.T, c.Plan.L)
	}
	if in.ModulusBits != c.PublicKey.N.BitLen() {
		return badInfo(c.Dir, "%d-bit modulus, but %s holds %d bits", in.ModulusBits, PublicFile, c.PublicKey.N.BitLen())
	}
	distributors := 0
	for distributors < len(in.Bundles) && in.Bundles[distributors].Role == share.RoleDistributor {
		distributors++
	}
	i := 0
	for _, want := range []struct {
		role    share.Role
		numbers []int
	}{
		{share.RoleDistributor, upTo(distributors)},
		{share.RoleCalculator, upTo(c.Plan.K)},
		{share.RoleCombiner, InService(c.Plan)},
	} {
		for _, n := range want.numbers {
			if err := c.checkBundle(i, share.Node{Role: want.role, Number: n}); err != nil {
				return err
			}
			i++
		}
	}
	if i != len(in.Bundles) || distributors == 0 {
		return badInfo(c.Dir, "bundles do not match the plan")
	}
	return nil
}

// checkBundle checks that bundle i of cluster.json is node's, with the
// layout's name and a recipient exactly when sealed.
func (c *Cluster) checkBundle(i int, node share.Node) error {
	in := &c.Info
	name := BundleFile(node, in.ext())
	if i >= len(in.Bundles) || in.Bundles[i].Node() != node || in.Bundles[i].File != name {
		return badInfo(c.Dir, "bundle %d is not %v (%s)", i+1, node, name)
	}
	if in.Sealed != (in.Bundles[i].Recipient != "") {
		return badInfo(c.Dir, "recipient of %v does not fit sealed=%v", node, in.Sealed)
	}
	return nil
}

// checkRoster checks that the roster lists every node of the layout, each
// with a 32-byte key.
func (c *Cluster) checkRoster() error {
	path := filepath.Join(c.Dir, RosterFile)
	if len(c.Roster) != len(c.Info.Bundles) {
		return fmt.Errorf("seal: %s: %d nodes, %s lists %d", path, len(c.Roster), InfoFile, len(c.Info.Bundles))
	}
	for _, bd := range c.Info.Bundles {
		if k, err := c.Roster.Lookup(bd.Node()); err != nil || len(k) != 32 {
			return fmt.Errorf("seal: %s: no key for %v", path, bd.Node())
		}
	}
	return nil
}

// upTo returns 1..n.
func upTo(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// Sealed tells whether the cluster's bundles are sealed.
func (c *Cluster) Sealed() bool { return c.Info.Sealed }

// Path returns the path of node n's bundle, which may not exist (a
// directory prepared for one host holds that host's bundle only).
func (c *Cluster) Path(n share.Node) string {
	return filepath.Join(c.Dir, BundleFile(n, c.Info.ext()))
}

// Distributors returns the number of distributors of the cluster.
func (c *Cluster) Distributors() int {
	n := 0
	for _, b := range c.Info.Bundles {
		if b.Role == share.RoleDistributor {
			n++
		}
	}
	return n
}

// checkMeta checks a node's public part against the cluster's public files.
func (c *Cluster) checkMeta(path string, m *share.Meta) error {
	switch {
	case !m.PublicKey.Equal(c.PublicKey):
		return fmt.Errorf("%w: %s: key material for another public key than %s", ErrWrongNode, path, PublicFile)
	case m.K != c.Plan.K || m.T != c.Plan.T || m.L != c.Plan.L:
		return fmt.Errorf("%w: %s: k=%d t=%d l=%d, the plan says k=%d t=%d l=%d", ErrWrongNode, path, m.K, m.T, m.L, c.Plan.K, c.Plan.T, c.Plan.L)
	case m.KeyID != c.Info.KeyID || m.Epoch != c.Info.Epoch || m.ShareBits != c.Info.ShareBits:
		return fmt.Errorf("%w: %s: key %s epoch %d, the cluster is key %s epoch %d", ErrWrongNode, path, m.KeyID, m.Epoch, c.Info.KeyID, c.Info.Epoch)
	case !sameRoster(m.Roster, c.Roster):
		return fmt.Errorf("%w: %s: its roster differs from %s", ErrWrongNode, path, RosterFile)
	}
	return nil
}

func sameRoster(a, b share.Roster) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Node != b[i].Node || !bytes.Equal(a[i].Key, b[i].Key) {
			return false
		}
	}
	return true
}

// checkNode checks that the bundle at path, which holds node number got
// with metadata m, is node n of this cluster (checkMeta).
func (c *Cluster) checkNode(path string, n share.Node, got int, m *share.Meta) error {
	if got != n.Number {
		return fmt.Errorf("%w: %s holds %v %d, not %d", ErrWrongNode, path, n.Role, got, n.Number)
	}
	return c.checkMeta(path, m)
}

// Calculator loads calculator j's bundle with id (nil for a plaintext
// cluster) and checks that it is calculator j of this cluster: number,
// public key, key id, epoch, (k, t, l) and roster. A missing bundle gives an
// error wrapping fs.ErrNotExist.
func (c *Cluster) Calculator(j int, id age.Identity) (*share.CalculatorKey, error) {
	n := share.Node{Role: share.RoleCalculator, Number: j}
	path := c.Path(n)
	ck, err := loadCalculator(path, id, c.trust(), !c.Sealed())
	if err != nil {
		return nil, err
	}
	if err := c.checkNode(path, n, ck.Number, &ck.Meta); err != nil {
		return nil, err
	}
	return ck, nil
}

// Combiner loads combiner a's bundle with id (nil for a plaintext cluster)
// and checks it like [Cluster.Calculator], and that its representations are
// the plan's for combiner a.
func (c *Cluster) Combiner(a int, id age.Identity) (*share.CombinerKey, error) {
	n := share.Node{Role: share.RoleCombiner, Number: a}
	path := c.Path(n)
	if a < 1 || a > len(c.Plan.Combiners) {
		return nil, fmt.Errorf("seal: combiner %d, the plan has %d", a, len(c.Plan.Combiners))
	}
	if len(c.Plan.Combiners[a-1]) == 0 {
		return nil, fmt.Errorf("%w (%w): combiner %d", ErrRemovedCombiner, fs.ErrNotExist, a)
	}
	ck, err := loadCombiner(path, id, c.trust(), !c.Sealed())
	if err != nil {
		return nil, err
	}
	if err := c.checkNode(path, n, ck.Number, &ck.Meta); err != nil {
		return nil, err
	}
	reps, want := ck.Reps(), c.Plan.Combiners[a-1]
	if len(reps) != len(want) {
		return nil, fmt.Errorf("%w: %s: %d representations, the plan gives combiner %d %d", ErrWrongNode, path, len(reps), a, len(want))
	}
	for i := range reps {
		if !reps[i].Equal(want[i]) {
			return nil, fmt.Errorf("%w: %s: representation %v, the plan says %v", ErrWrongNode, path, reps[i], want[i])
		}
	}
	return ck, nil
}

// Distributor loads distributor n's bundle with id (nil for a plaintext
// cluster) and checks it like [Cluster.Calculator].
func (c *Cluster) Distributor(num int, id age.Identity) (*share.DistributorKey, error) {
	n := share.Node{Role: share.RoleDistributor, Number: num}
	path := c.Path(n)
	dk, err := loadDistributor(path, id, c.trust(), !c.Sealed())
	if err != nil {
		return nil, err
	}
	if err := c.checkNode(path, n, dk.NodeKey.Number, &dk.Meta); err != nil {
		return nil, err
	}
	return dk, nil
}

// Dealer loads the dealer's state with passphrase (ignored for a plaintext
// cluster) and checks it against the public files: a plan.json that
// disagrees with the plan kept in the state gives [ErrPlanMismatch].
func (c *Cluster) Dealer(passphrase string) (*share.Dealer, error) {
	path := filepath.Join(c.Dir, c.Info.Dealer)
	dl, err := loadDealer(path, passphrase, !c.Sealed())
	if err != nil {
		return nil, err
	}
	if !dl.DealerKey().Equal(c.DealerKey) {
		return nil, fmt.Errorf("%w: %s is not the state of the dealer that signed %s", ErrWrongDealer, path, SignatureFile)
	}
	k, t, l := dl.Params()
	if !dl.PublicKey().Equal(c.PublicKey) || dl.KeyID() != c.Info.KeyID || k != c.Plan.K || t != c.Plan.T || l != c.Plan.L {
		return nil, fmt.Errorf("%w: %s: the dealer's state is for another cluster", ErrWrongNode, path)
	}
	if err := c.checkDealerPlan(dl); err != nil {
		return nil, err
	}
	return dl, nil
}

// parsePublicKey parses an RSA public key from a PKIX ("PUBLIC KEY") PEM block.
func parsePublicKey(b []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("no PUBLIC KEY PEM block")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an RSA key", k)
	}
	return pub, nil
}
