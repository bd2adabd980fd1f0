// Package x509sign turns a tolerant signing cluster into a [crypto.Signer]
// that is also a [crypto.MessageSigner], so that crypto/x509 and
// golang.org/x/crypto/ocsp can issue certificates, CSRs, CRLs and OCSP
// responses with a key that no single machine holds.
//
// The cluster is anything with a Sign method taking a [share.Request]
// (package broadcast's Distributor is one). The [Signer] builds the request
// and checks what comes back:
//
//   - [Signer.SignMessage] (used by x509.CreateCertificate,
//     CreateCertificateRequest and CreateRevocationList since Go 1.25) sends
//     the message itself as the request's content, so every calculator and
//     combiner recomputes its hash and can show the TBS bytes to its approval
//     hook before any secret is used ([0092], [0110]);
//   - [Signer.Sign] (used by ocsp.CreateResponse) sends the digest only;
//   - for RSASSA-PSS the Signer builds the encoded message (with a fresh salt)
//     and the nodes check it with EMSA-PSS-VERIFY; for PKCS #1 v1.5 every node
//     builds the encoding itself;
//   - the signature is verified with the public key before it is returned
//     ([0116]): a Signer never returns a signature that does not verify.
//
// Only SHA-256, SHA-384 and SHA-512 are accepted; SHA-1, MD5, unhashed
// input and Ed25519-style options are refused with an error.
package x509sign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tolerantca/tolerant/internal/emsa"
	"github.com/tolerantca/tolerant/share"
)

// Cluster is the signing service behind a [Signer]: it takes a request that
// every node checks for itself and returns the signature S = M^d. A
// broadcast.Distributor is a Cluster.
type Cluster interface {
	Sign(ctx context.Context, req *share.Request) ([]byte, error)
}

// DefaultTimeout bounds one signature when [Options.Timeout] is zero.
const DefaultTimeout = 30 * time.Second

// Options tune a [Signer]. The zero value is usable.
type Options struct {
	// Timeout bounds each signature, including the time the nodes' approval
	// hooks take. Zero means DefaultTimeout; negative means no timeout
	// beyond the context's own.
	Timeout time.Duration
	// BaseContext returns the context under which Sign and SignMessage run
	// (they take no context of their own: crypto.Signer has none). nil
	// means context.Background. SignContext and SignMessageContext use the
	// context they are given instead.
	BaseContext func() context.Context
}

// Errors returned by a [Signer]. Cluster errors are wrapped as they are.
var (
	// ErrUnsupportedHash: the options ask for a hash other than SHA-256,
	// SHA-384 or SHA-512 (SHA-1 included), or for no hash at all. It is
	// [share.ErrUnsupportedHash] itself, so that one errors.Is test
	// catches the refusal whether the signer or a node made it.
	ErrUnsupportedHash = share.ErrUnsupportedHash
	// ErrOptions: nil options, or PSS options that cannot be used.
	ErrOptions = errors.New("x509sign: invalid signer options")
	// ErrDigestLength: the digest given to Sign is not the hash's size.
	// It is [share.ErrDigestLength] itself.
	ErrDigestLength = share.ErrDigestLength
	// ErrTooLarge: the message given to SignMessage exceeds
	// share.MaxContentSize. It is [share.ErrTooLarge] itself.
	ErrTooLarge = share.ErrTooLarge
	// ErrBadSignature: the cluster returned a signature that does not
	// verify with the public key. It is never returned to the caller.
	ErrBadSignature = errors.New("x509sign: cluster returned a signature that does not verify")
	// ErrKey: New was given an unusable public key or key id.
	ErrKey = errors.New("x509sign: invalid public key or key id")
)

// Signer signs with a CA key held by a tolerant cluster. It is safe for
// concurrent use when its Cluster is.
type Signer struct {
	pub     *rsa.PublicKey
	keyID   string
	cluster Cluster
	timeout time.Duration
	base    func() context.Context
}

var (
	_ crypto.Signer        = (*Signer)(nil)
	_ crypto.MessageSigner = (*Signer)(nil)
)

// New returns a Signer for the cluster c that holds the key pub under the key
// id keyID (the id the dealer wrote into the key material, [0124]). An empty
// keyID means share.KeyIDFor(pub), the dealer's default. opts may be nil.
func New(pub *rsa.PublicKey, keyID string, c Cluster, opts *Options) (*Signer, error) {
	if pub == nil || pub.N == nil || pub.N.Sign() <= 0 || pub.N.Bit(0) == 0 || pub.E < 3 || pub.E&1 == 0 {
		return nil, fmt.Errorf("%w: not a usable RSA public key", ErrKey)
	}
	if bits := pub.N.BitLen(); bits < 1024 || bits > share.MaxKeyBits {
		return nil, fmt.Errorf("%w: %d-bit modulus", ErrKey, bits)
	}
	if c == nil {
		return nil, errors.New("x509sign: nil cluster")
	}
	if keyID == "" {
		keyID = share.KeyIDFor(pub)
	}
	if keyID == "" || len(keyID) > 64 {
		return nil, fmt.Errorf("%w: key id %q", ErrKey, keyID)
	}
	s := &Signer{
		pub:     &rsa.PublicKey{N: pub.N, E: pub.E},
		keyID:   keyID,
		cluster: c,
		timeout: DefaultTimeout,
		base:    context.Background,
	}
	if opts != nil {
		if opts.Timeout != 0 {
			s.timeout = opts.Timeout
		}
		if opts.BaseContext != nil {
			s.base = opts.BaseContext
		}
	}
	return s, nil
}

// KeyedCluster is a [Cluster] that knows the public key and the key id it
// signs for, from its key material: a broadcast.Distributor is one.
type KeyedCluster interface {
	Cluster
	PublicKey() *rsa.PublicKey
	KeyID() string
}

// FromCluster returns a Signer for c, with the public key and key id of
// c's own key material, so that they are not asked for again. opts may be
// nil.
func FromCluster(c KeyedCluster, opts *Options) (*Signer, error) {
	if c == nil {
		return nil, errors.New("x509sign: nil cluster")
	}
	return New(c.PublicKey(), c.KeyID(), c, opts)
}

// Public returns the CA's public key, an *rsa.PublicKey.
func (s *Signer) Public() crypto.PublicKey { return s.pub }

// KeyID returns the key id sent with every request.
func (s *Signer) KeyID() string { return s.keyID }

// Sign signs digest, the hash of some content the Signer never sees, as
// crypto.Signer does. opts is a crypto.Hash for PKCS #1 v1.5 or an
// *rsa.PSSOptions for PSS. Prefer SignMessage where the caller supports it:
// then the nodes can check what they sign. rand is used for the PSS salt
// only; nil means crypto/rand.
func (s *Signer) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.SignContext(s.baseContext(), rand, digest, opts)
}

// SignMessage hashes msg with opts.HashFunc() and signs it, sending msg to
// the cluster so that every calculator and combiner can recompute the hash
// and approve the content itself ([0092], [0110]). For x509.CreateCertificate
// msg is the DER-encoded TBSCertificate.
func (s *Signer) SignMessage(rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.SignMessageContext(s.baseContext(), rand, msg, opts)
}

// SignContext is Sign under ctx.
func (s *Signer) SignContext(ctx context.Context, rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	h, err := hashOf(opts)
	if err != nil {
		return nil, err
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("%w: %d bytes for %v", ErrDigestLength, len(digest), h)
	}
	return s.sign(ctx, rand, h, digest, nil, opts)
}

// SignMessageContext is SignMessage under ctx.
func (s *Signer) SignMessageContext(ctx context.Context, rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	h, err := hashOf(opts)
	if err != nil {
		return nil, err
	}
	if len(msg) > share.MaxContentSize {
		return nil, fmt.Errorf("%w: %d bytes (max %d)", ErrTooLarge, len(msg), share.MaxContentSize)
	}
	hh := h.New()
	hh.Write(msg)
	content := msg
	if content == nil {
		content = []byte{} // an empty message is content too
	}
	return s.sign(ctx, rand, h, hh.Sum(nil), content, opts)
}

func (s *Signer) baseContext() context.Context {
	if ctx := s.base(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// hashOf returns the hash of opts, refusing everything but SHA-2.
func hashOf(opts crypto.SignerOpts) (crypto.Hash, error) {
	if opts == nil {
		return 0, fmt.Errorf("%w: nil options (want a crypto.Hash or *rsa.PSSOptions)", ErrOptions)
	}
	if pss, ok := opts.(*rsa.PSSOptions); ok && pss == nil {
		return 0, fmt.Errorf("%w: nil *rsa.PSSOptions", ErrOptions)
	}
	h := opts.HashFunc()
	switch h {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
		if !h.Available() {
			return 0, fmt.Errorf("%w: %v is not linked in", ErrUnsupportedHash, h)
		}
		return h, nil
	case 0:
		return 0, fmt.Errorf("%w: unhashed signing is not supported", ErrUnsupportedHash)
	}
	return 0, fmt.Errorf("%w: %v refused", ErrUnsupportedHash, h)
}

// saltLength resolves rsa.PSSOptions salt semantics to a length in bytes:
// PSSSaltLengthAuto signs with the largest salt that fits (as crypto/rsa
// does), PSSSaltLengthEqualsHash with the hash size.
func saltLength(o *rsa.PSSOptions, h crypto.Hash, modBits int) (int, error) {
	maxSalt := (modBits-1+7)/8 - h.Size() - 2
	var n int
	switch sl := o.SaltLength; {
	case sl == rsa.PSSSaltLengthAuto:
		n = maxSalt
	case sl == rsa.PSSSaltLengthEqualsHash:
		n = h.Size()
	case sl > 0:
		n = sl
	default:
		return 0, fmt.Errorf("%w: PSS salt length %d", ErrOptions, sl)
	}
	if n < 1 || n > maxSalt {
		return 0, fmt.Errorf("%w: PSS salt length %d does not fit a %d-bit key (max %d)", ErrOptions, n, modBits, maxSalt)
	}
	return n, nil
}

// sign builds the request, asks the cluster and verifies the answer.
func (s *Signer) sign(ctx context.Context, random io.Reader, h crypto.Hash, digest, content []byte, opts crypto.SignerOpts) ([]byte, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	req := &share.Request{
		KeyID:   s.keyID,
		Hash:    h,
		Digest:  digest,
		Scheme:  share.PKCS1v15,
		Content: content,
	}
	var pssOpts *rsa.PSSOptions
	if o, ok := opts.(*rsa.PSSOptions); ok {
		modBits := s.pub.N.BitLen()
		sLen, err := saltLength(o, h, modBits)
		if err != nil {
			return nil, err
		}
		if random == nil {
			random = rand.Reader
		}
		em, err := emsa.PSSEncode(random, h, digest, sLen, modBits)
		if err != nil {
			return nil, fmt.Errorf("x509sign: PSS encoding: %w", err)
		}
		req.Scheme, req.Encoded, req.SaltLength = share.PSS, em, sLen
		pssOpts = &rsa.PSSOptions{SaltLength: sLen, Hash: h}
	}
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	got, err := s.cluster.Sign(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("x509sign: cluster: %w", err)
	}
	sig := bytes.Clone(got) // what is verified is what is returned
	// [0116]: the output device checks the signature with the public key
	// before anything leaves.
	if pssOpts != nil {
		err = rsa.VerifyPSS(s.pub, h, digest, sig, pssOpts)
	} else {
		err = rsa.VerifyPKCS1v15(s.pub, h, digest, sig)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return sig, nil
}
