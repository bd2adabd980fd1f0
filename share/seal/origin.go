package seal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tolerantca/tolerant/share"
)

// Errors about the origin of key material and public files: who dealt them.
var (
	// ErrUnsigned means the file carries no dealer signature: it was
	// written before dealers signed their output. Deal the cluster again.
	ErrUnsigned = errors.New("seal: no dealer signature (written by an older version): deal the cluster again")
	// ErrWrongDealer means the file is signed by another dealer than the
	// trusted one: it was substituted, or dealt by another dealer.
	ErrWrongDealer = errors.New("seal: signed by another dealer than the trusted one")
	// ErrBadSignature means the dealer's signature does not verify: the
	// file was edited after dealing, or forged.
	ErrBadSignature = errors.New("seal: the dealer's signature does not verify")
	// ErrWrongEpoch means the file is of another dealing (epoch) than the
	// one expected. It is [share.ErrWrongEpoch] itself.
	ErrWrongEpoch = share.ErrWrongEpoch
	// ErrNoTrust means the caller named no dealer key to trust and did not
	// ask for trust on first use.
	ErrNoTrust = errors.New("seal: no trusted dealer key given")
)

// Trust says which dealer a loader accepts key material and public files
// from. The zero value accepts nothing: name the dealer key, or ask for
// trust on first use explicitly.
type Trust struct {
	// DealerKey is the dealer's public key ([share.Dealer.DealerKey],
	// printed by "tolerant deal"). Anything not signed by it is refused
	// with [ErrWrongDealer] or [ErrBadSignature].
	DealerKey ed25519.PublicKey
	// Epoch, when not nil, is the only epoch accepted ([ErrWrongEpoch]).
	Epoch *uint32
	// InsecureTrustOnFirstUse, when DealerKey is empty, accepts a file
	// signed by whatever dealer key it names, as long as the signature
	// verifies. The caller must then pin the key the loaded material names
	// (Meta.DealerKey, Cluster.DealerKey), for example with [Pin], and give
	// it as DealerKey from then on. A forger who reaches the first load wins.
	InsecureTrustOnFirstUse bool
}

// check returns nil when trust accepts a file signed by signer.
func (t Trust) check(signer ed25519.PublicKey) error {
	switch {
	case len(t.DealerKey) != 0:
		if len(t.DealerKey) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: the trusted dealer key has %d bytes", ErrNoTrust, len(t.DealerKey))
		}
		if !t.DealerKey.Equal(signer) {
			return ErrWrongDealer
		}
	case !t.InsecureTrustOnFirstUse:
		return ErrNoTrust
	}
	return nil
}

// ready fails before any file is read when t can accept nothing.
func (t Trust) ready() error {
	if len(t.DealerKey) == 0 && !t.InsecureTrustOnFirstUse {
		return ErrNoTrust
	}
	return nil
}

// FormatDealerKey encodes a dealer key as "tolerant deal" prints it and
// [ParseDealerKey] reads it: standard base64, as in the JSON files.
func FormatDealerKey(k ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(k) }

// ParseDealerKey decodes what [FormatDealerKey] wrote.
func ParseDealerKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("seal: a dealer key is 32 bytes in base64 (as tolerant deal prints it)")
	}
	return ed25519.PublicKey(b), nil
}

// bundleFormat is the format (and version) of a signed bundle: the plaintext
// that is sealed to a node.
const bundleFormat = "tolerant signed bundle v1"

// signedBundle is the plaintext of a bundle: one node's key material (the
// JSON of package share) with the dealer's signature over it, its node, key
// id and epoch.
type signedBundle struct {
	Format    string     `json:"format"`
	Role      share.Role `json:"role"`
	Number    int        `json:"number"`
	KeyID     string     `json:"key_id"`
	Epoch     uint32     `json:"epoch"`
	DealerKey []byte     `json:"dealer_key"`
	Material  []byte     `json:"material"` // secret
	Signature []byte     `json:"signature"`
}

// bundleMessage is what the dealer signs for a bundle: a label, the node,
// key id, epoch and the key material, each of fixed length or
// length-prefixed so that no two bundles share a message.
func bundleMessage(n share.Node, keyID string, epoch uint32, material []byte) []byte {
	msg := make([]byte, 0, 64+len(keyID)+len(material))
	msg = append(msg, "tolerant bundle\x00"...)
	msg = append(msg, byte(n.Role))
	msg = binary.BigEndian.AppendUint32(msg, uint32(n.Number))
	msg = binary.BigEndian.AppendUint32(msg, epoch)
	msg = binary.BigEndian.AppendUint32(msg, uint32(len(keyID)))
	msg = append(msg, keyID...)
	return append(msg, material...)
}

// signBundle wraps node n's key material in a bundle signed by dl. The
// result holds the secrets of material; the caller clears it.
func signBundle(dl *share.Dealer, n share.Node, keyID string, epoch uint32, material []byte) ([]byte, error) {
	msg := bundleMessage(n, keyID, epoch, material)
	sig := dl.SignAsDealer(msg)
	clear(msg)
	return json.MarshalIndent(signedBundle{Format: bundleFormat, Role: n.Role, Number: n.Number, KeyID: keyID,
		Epoch: epoch, DealerKey: dl.DealerKey(), Material: material, Signature: sig}, "", "  ")
}

// openBundle checks the signed bundle b of a node of role against trust and
// returns its node, its signer and its key material, which the caller
// clears. It never returns material that trust does not accept.
func openBundle(b []byte, role share.Role, trust Trust) (*signedBundle, error) {
	var sb signedBundle
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sb); err != nil {
		clear(sb.Material)
		if isOldKeyFormat(b) {
			return nil, ErrUnsigned
		}
		return nil, fmt.Errorf("%w: not a signed bundle", share.ErrMalformed)
	}
	err := checkBundle(&sb, role, trust)
	if err != nil {
		clear(sb.Material)
		return nil, err
	}
	return &sb, nil
}

func checkBundle(sb *signedBundle, role share.Role, trust Trust) error {
	if sb.Format != bundleFormat {
		return fmt.Errorf("%w: format %q, want %q", share.ErrMalformed, sb.Format, bundleFormat)
	}
	if sb.Role != role {
		return fmt.Errorf("%w: a bundle of a %v, want a %v", ErrWrongNode, sb.Role, role)
	}
	if sb.Number < 1 || sb.Number > 1<<16 || len(sb.KeyID) > 64 {
		return fmt.Errorf("%w: bundle header", share.ErrMalformed)
	}
	if err := trust.check(sb.DealerKey); err != nil {
		return err
	}
	n := share.Node{Role: sb.Role, Number: sb.Number}
	msg := bundleMessage(n, sb.KeyID, sb.Epoch, sb.Material)
	ok := share.VerifyDealer(sb.DealerKey, msg, sb.Signature)
	clear(msg)
	if !ok {
		return ErrBadSignature
	}
	if trust.Epoch != nil && *trust.Epoch != sb.Epoch {
		return fmt.Errorf("%w: epoch %d, want %d", ErrWrongEpoch, sb.Epoch, *trust.Epoch)
	}
	return nil
}

// checkSigned checks that the key material parsed from a signed bundle
// says what the signed header says.
func checkSigned(sb *signedBundle, number int, m *share.Meta) error {
	if number != sb.Number || m.KeyID != sb.KeyID || m.Epoch != sb.Epoch || !m.DealerKey.Equal(ed25519.PublicKey(sb.DealerKey)) {
		return fmt.Errorf("%w: the key material does not match its signed header", ErrBadSignature)
	}
	return nil
}

// isOldKeyFormat reports whether b is key material of package share as
// written before bundles were signed.
func isOldKeyFormat(b []byte) bool {
	var head struct {
		Format string `json:"format"`
	}
	if json.Unmarshal(b, &head) != nil {
		return false
	}
	return strings.HasPrefix(head.Format, "tolerant ") && strings.HasSuffix(head.Format, " key v1")
}

// SignatureFile names the dealer's signature of the public files.
const SignatureFile = "cluster.sig"

// manifestFormat is the format (and version) of cluster.sig.
const manifestFormat = "tolerant cluster signature v1"

// manifest is cluster.sig: the SHA-256 of every public file of a cluster
// directory, signed by the dealer, so that the public files are checked
// as one set: none edited, none of another dealing.
type manifest struct {
	Format    string         `json:"format"`
	KeyID     string         `json:"key_id"`
	Epoch     uint32         `json:"epoch"`
	DealerKey []byte         `json:"dealer_key"`
	Files     []manifestFile `json:"files"`
	Signature []byte         `json:"signature"`
}

type manifestFile struct {
	Name   string `json:"name"`
	SHA256 []byte `json:"sha256"`
}

// message is what the dealer signs for the manifest.
func (m *manifest) message() []byte {
	msg := []byte("tolerant cluster\x00")
	msg = binary.BigEndian.AppendUint32(msg, m.Epoch)
	msg = binary.BigEndian.AppendUint32(msg, uint32(len(m.KeyID)))
	msg = append(msg, m.KeyID...)
	for _, f := range m.Files {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(f.Name)))
		msg = append(msg, f.Name...)
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(f.SHA256)))
		msg = append(msg, f.SHA256...)
	}
	return msg
}

// signPublic returns cluster.sig for the public files.
func signPublic(dl *share.Dealer, keyID string, epoch uint32, files []fileOut) (fileOut, error) {
	m := manifest{Format: manifestFormat, KeyID: keyID, Epoch: epoch, DealerKey: dl.DealerKey()}
	for _, f := range files {
		sum := sha256.Sum256(f.data)
		m.Files = append(m.Files, manifestFile{Name: f.name, SHA256: sum[:]})
	}
	m.Signature = dl.SignAsDealer(m.message())
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fileOut{}, fmt.Errorf("seal: %s: %w", SignatureFile, err)
	}
	return fileOut{SignatureFile, append(b, '\n'), 0o644}, nil
}

// parseManifest decodes cluster.sig and checks its signature against trust.
func parseManifest(b []byte, trust Trust) (*manifest, error) {
	var m manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil || m.Format != manifestFormat {
		return nil, fmt.Errorf("%w: not a %s", ErrBadSignature, manifestFormat)
	}
	if err := trust.check(m.DealerKey); err != nil {
		return nil, err
	}
	if !share.VerifyDealer(m.DealerKey, m.message(), m.Signature) {
		return nil, ErrBadSignature
	}
	if trust.Epoch != nil && *trust.Epoch != m.Epoch {
		return nil, fmt.Errorf("%w: epoch %d, want %d", ErrWrongEpoch, m.Epoch, *trust.Epoch)
	}
	return &m, nil
}

// check fails unless the manifest lists the file name with the SHA-256 of b.
func (m *manifest) check(name string, b []byte) error {
	sum := sha256.Sum256(b)
	for _, f := range m.Files {
		if f.Name == name {
			if !bytes.Equal(f.SHA256, sum[:]) {
				return fmt.Errorf("%w: %s was changed after dealing", ErrBadSignature, name)
			}
			return nil
		}
	}
	return fmt.Errorf("%w: %s is not signed", ErrBadSignature, name)
}

// TrustOnFirstUse returns the trust of a node that keeps its dealer's key
// in the pin file pinPath: the key pinned there, or, when pinPath does not
// exist yet, [Trust.InsecureTrustOnFirstUse]. After the first successful
// load, call [Pin] with the dealer key of what was loaded.
func TrustOnFirstUse(pinPath string) (Trust, error) {
	b, err := readFile(pinPath, 1024)
	if errors.Is(err, fs.ErrNotExist) {
		return Trust{InsecureTrustOnFirstUse: true}, nil
	}
	if err != nil {
		return Trust{}, fmt.Errorf("seal: dealer pin: %w", err)
	}
	k, err := ParseDealerKey(string(b))
	if err != nil {
		return Trust{}, fmt.Errorf("%s: %w", pinPath, err)
	}
	return Trust{DealerKey: k}, nil
}

// Pin records the dealer key in the pin file pinPath (mode 0600) when
// pinPath does not exist. When it does, it must hold key, or the error
// wraps [ErrWrongDealer].
func Pin(pinPath string, key ed25519.PublicKey) error {
	if len(key) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: no dealer key to pin", ErrNoTrust)
	}
	t, err := TrustOnFirstUse(pinPath)
	if err != nil {
		return err
	}
	if len(t.DealerKey) != 0 {
		if !t.DealerKey.Equal(key) {
			return fmt.Errorf("%w: %s pins another dealer key", ErrWrongDealer, pinPath)
		}
		return nil
	}
	return writeNew(pinPath, []byte(FormatDealerKey(key)+"\n"), 0o600)
}

// loadManifest reads and checks the cluster.sig of dir. A directory
// without cluster.json gives an error wrapping fs.ErrNotExist.
func loadManifest(dir string, trust Trust) (*manifest, error) {
	if err := trust.ready(); err != nil {
		return nil, fmt.Errorf("seal: %s: %w", dir, err)
	}
	p := filepath.Join(dir, SignatureFile)
	b, err := readFile(p, maxPublicFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		if _, ierr := os.Lstat(filepath.Join(dir, InfoFile)); ierr != nil {
			return nil, fmt.Errorf("seal: %w", ierr)
		}
		return nil, fmt.Errorf("%s: %w", dir, ErrUnsigned)
	}
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	m, err := parseManifest(b, trust)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return m, nil
}

// trust is the trust of the bundles of c: its dealer and its epoch.
func (c *Cluster) trust() Trust {
	epoch := c.Info.Epoch
	return Trust{DealerKey: c.DealerKey, Epoch: &epoch}
}

// SignedBundle returns the plaintext of node n's bundle as [WriteCluster]
// seals it: material (what package share's Marshal wrote for node n, dealt
// by dl) signed by dl. Seal it to the node with [Seal]. The result holds
// the material's secrets: clear it after sealing.
func SignedBundle(dl *share.Dealer, n share.Node, material []byte) ([]byte, error) {
	var head struct {
		KeyID string `json:"key_id"`
		Epoch uint32 `json:"epoch"`
	}
	dec := json.NewDecoder(bytes.NewReader(material))
	if err := dec.Decode(&head); err != nil || head.KeyID != dl.KeyID() {
		return nil, fmt.Errorf("seal: %v: not key material of key %s", n, dl.KeyID())
	}
	return signBundle(dl, n, head.KeyID, head.Epoch, material)
}
