// Command p11goclient is a Go program that issues a self-signed
// certificate with a PKCS #11 key, the way a Go CA (step-ca's pkcs11 KMS,
// crypto11) does: it loads a module (p11-kit-client.so, in front of
// "p11-kit server" running the tolerant module in its own process),
// finds the private key by label, and signs DigestInfos with CKM_RSA_PKCS
// through a crypto.Signer given to x509.CreateCertificate. The tests of
// the tolerant module run it; it is not an example of how to write a
// PKCS #11 client in general.
//
// Usage:
//
//	p11goclient -module SO -label LABEL -pin-file FILE -out CERT.pem
//	p11goclient -module SO -label LABEL -pin-file FILE -bench N -sessions S
//
// With -bench it signs N digests instead, over S sessions at once, and
// prints the rate.
package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/miekg/pkcs11"
)

// digestInfoPrefix is the DER prefix of a SHA-256 DigestInfo (RFC 8017
// section 9.2, note 1).
var digestInfoPrefix = []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

// signer is a crypto.Signer over a PKCS #11 private key.
type signer struct {
	ctx  *pkcs11.Ctx
	sess pkcs11.SessionHandle
	key  pkcs11.ObjectHandle
	pub  *rsa.PublicKey
}

// Public returns the key's public half.
func (s *signer) Public() crypto.PublicKey { return s.pub }

// Sign signs a SHA-256 digest with CKM_RSA_PKCS on its DigestInfo.
func (s *signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts.HashFunc() != crypto.SHA256 {
		return nil, errors.New("only SHA-256 PKCS #1 v1.5")
	}
	if err := s.ctx.SignInit(s.sess, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)}, s.key); err != nil {
		return nil, err
	}
	return s.ctx.Sign(s.sess, append(append([]byte{}, digestInfoPrefix...), digest...))
}

func main() {
	module := flag.String("module", "", "PKCS #11 module")
	label := flag.String("label", "", "label of the private key")
	pinFile := flag.String("pin-file", "", "file holding the PIN")
	out := flag.String("out", "", "certificate to write")
	bench := flag.Int("bench", 0, "sign this many digests instead, and print the rate")
	sessions := flag.Int("sessions", 16, "with -bench: sessions signing at once")
	flag.Parse()
	var err error
	if *bench > 0 {
		err = runBench(*module, *label, *pinFile, *bench, *sessions)
	} else {
		err = run(*module, *label, *pinFile, *out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "p11goclient:", err)
		os.Exit(1)
	}
}

// open loads the module, opens a session on its first token and logs in.
func open(module, pinFile string) (*pkcs11.Ctx, uint, pkcs11.SessionHandle, error) {
	pin, err := os.ReadFile(pinFile)
	if err != nil {
		return nil, 0, 0, err
	}
	p := pkcs11.New(module)
	if p == nil {
		return nil, 0, 0, fmt.Errorf("cannot load %s", module)
	}
	if err := p.Initialize(); err != nil {
		return nil, 0, 0, err
	}
	slots, err := p.GetSlotList(true)
	if err != nil || len(slots) == 0 {
		p.Finalize()
		return nil, 0, 0, fmt.Errorf("no slot: %v", err)
	}
	sess, err := p.OpenSession(slots[0], pkcs11.CKF_SERIAL_SESSION)
	if err == nil {
		err = p.Login(sess, pkcs11.CKU_USER, strings.TrimSpace(string(pin)))
	}
	if err != nil {
		p.Finalize()
		return nil, 0, 0, err
	}
	return p, slots[0], sess, nil
}

func run(module, label, pinFile, out string) error {
	p, _, sess, err := open(module, pinFile)
	if err != nil {
		return err
	}
	defer p.Finalize()
	s, err := findKey(p, sess, label)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Go client through p11-kit"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, s.pub, s)
	if err != nil {
		return err
	}
	return os.WriteFile(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// findKey finds the private key labelled label and reads its public half.
func findKey(p *pkcs11.Ctx, sess pkcs11.SessionHandle, label string) (*signer, error) {
	err := p.FindObjectsInit(sess, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	})
	if err != nil {
		return nil, err
	}
	objs, _, err := p.FindObjects(sess, 2)
	p.FindObjectsFinal(sess)
	if err != nil || len(objs) != 1 {
		return nil, fmt.Errorf("want one private key labelled %q, found %d (%v)", label, len(objs), err)
	}
	attrs, err := p.GetAttributeValue(sess, objs[0], []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_MODULUS, nil), pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, nil),
	})
	if err != nil {
		return nil, err
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(attrs[0].Value), E: int(new(big.Int).SetBytes(attrs[1].Value).Int64())}
	return &signer{ctx: p, sess: sess, key: objs[0], pub: pub}, nil
}

// runBench signs n SHA-256 digests over the given number of sessions at
// once and prints the rate.
func runBench(module, label, pinFile string, n, sessions int) error {
	p, slot, _, err := open(module, pinFile) // its session keeps the user logged in
	if err != nil {
		return err
	}
	defer p.Finalize()
	work := make(chan int)
	errs := make(chan error, sessions)
	var wg sync.WaitGroup
	start := time.Now()
	for range sessions {
		h, err := p.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION) // logged in: the login is the token's
		if err != nil {
			return err
		}
		s, err := findKey(p, h, label)
		if err != nil {
			return err
		}
		wg.Go(func() {
			for i := range work {
				d := sha256.Sum256(fmt.Appendf(nil, "bench %d", i))
				if _, err := s.Sign(nil, d[:], crypto.SHA256); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	el := time.Since(start)
	select {
	case err := <-errs:
		return err
	default:
	}
	fmt.Printf("%d signatures over %d sessions in %v: %.1f/s\n", n, sessions, el.Round(time.Millisecond), float64(n)/el.Seconds())
	return nil
}
