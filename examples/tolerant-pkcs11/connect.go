package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/tolerantca/tolerant/examples/tolerant-pkcs11/p11conf"
)

// newToken builds the token of a configuration: it loads the cluster's
// public files (checked against the dealer's key) and the certificate,
// but connects to the cluster only when the first signature is asked for,
// so that listing the token and its objects works without NATS.
func newToken(c *p11conf.Config, log *slog.Logger) (*token, error) {
	cl, err := c.LoadPublic()
	if err != nil {
		return nil, err
	}
	cert, err := loadCertificate(c.Path(c.Certificate))
	if err != nil {
		return nil, err
	}
	tokenLabel, keyLabel := c.Labels()
	objs, err := newObjects(cl.PublicKey, keyLabel, cert)
	if err != nil {
		return nil, err
	}
	timeout, err := c.SignTimeout()
	if err != nil {
		return nil, err
	}
	id := keyObjectID(cl.PublicKey)
	t := newTokenOf(cl.PublicKey, tokenLabel, hex.EncodeToString(id[:8]), objs,
		&pinGuard{hash: c.PIN, max: c.MaxFailures(), file: c.FailurePath()}, timeout, log)
	t.connect = func(ctx context.Context) (clusterSigner, io.Closer, error) {
		return c.Dial(ctx, cl, log)
	}
	return t, nil
}

// newTokenOf returns a token of the given parts, with no connection.
func newTokenOf(pub *rsa.PublicKey, label, serial string, objs []*object, pin *pinGuard, timeout time.Duration, log *slog.Logger) *token {
	return &token{label: label, serial: serial, pub: pub, objects: objs, pin: pin, timeout: timeout,
		log: log, sessions: make(map[uint]*session)}
}

// loadCertificate reads the optional PEM certificate of the key.
func loadCertificate(path string) (*x509.Certificate, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: not a PEM certificate", path)
	}
	return x509.ParseCertificate(blk.Bytes)
}
