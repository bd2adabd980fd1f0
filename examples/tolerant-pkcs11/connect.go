package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/natsbus"
	"github.com/tolerantca/tolerant/examples/tolerant-pkcs11/p11conf"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
	"github.com/tolerantca/tolerant/x509sign"
)

// newToken builds the token of a configuration: it loads the cluster's
// public files (checked against the dealer's key) and the certificate,
// but connects to the cluster only when the first signature is asked for,
// so that listing the token and its objects works without NATS.
func newToken(c *p11conf.Config, log *slog.Logger) (*token, error) {
	dk, err := seal.ParseDealerKey(c.DealerKey)
	if err != nil {
		return nil, err
	}
	trust := seal.Trust{DealerKey: dk}
	cl, err := seal.LoadPublic(c.Path(c.Cluster), trust)
	if err != nil {
		return nil, err
	}
	if cl.Info.KeyID != c.KeyID {
		return nil, fmt.Errorf("%w: the cluster is key %s, the configuration names %s", p11conf.ErrConfig, cl.Info.KeyID, c.KeyID)
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
		return dialCluster(ctx, c, cl, trust, log)
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

// remoteCluster is the distributor's connection: it closes both.
type remoteCluster struct {
	bus  *natsbus.Bus
	dist *broadcast.Distributor
}

// Close stops the distributor and drains the NATS connection.
func (r *remoteCluster) Close() error {
	r.dist.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.bus.Shutdown(ctx)
}

// dialCluster opens the distributor's bundle, connects to NATS and
// starts a task distributor ([0047], [0106]) of the cluster cl.
func dialCluster(ctx context.Context, c *p11conf.Config, cl *seal.Cluster, trust seal.Trust, log *slog.Logger) (clusterSigner, io.Closer, error) {
	dk, err := loadDistributor(c, trust)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case !dk.PublicKey.Equal(cl.PublicKey):
		return nil, nil, errors.New("the distributor bundle is of another public key than the cluster")
	case dk.KeyID != cl.Info.KeyID || dk.Epoch != cl.Info.Epoch:
		return nil, nil, fmt.Errorf("the distributor bundle is key %s epoch %d, the cluster key %s epoch %d", dk.KeyID, dk.Epoch, cl.Info.KeyID, cl.Info.Epoch)
	}
	log = log.With("key", dk.KeyID, "role", "distributor", "number", dk.NodeKey.Number)
	o, err := natsOptions(c, dk)
	if err != nil {
		return nil, nil, err
	}
	o.Logger = log
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	bus, err := natsbus.Dial(ctx, o)
	if err != nil {
		return nil, nil, fmt.Errorf("NATS: %w", err)
	}
	dist, err := broadcast.NewDistributor(bus, dk, &broadcast.DistributorOptions{Logger: log})
	if err != nil {
		bus.Close()
		return nil, nil, err
	}
	r := &remoteCluster{bus: bus, dist: dist}
	s, err := x509sign.New(cl.PublicKey, dk.KeyID, dist, &x509sign.Options{Timeout: -1})
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return s, r, nil
}

// loadDistributor opens the distributor's bundle, sealed to its identity
// or, when the configuration says so, in plaintext.
func loadDistributor(c *p11conf.Config, trust seal.Trust) (*share.DistributorKey, error) {
	path := c.Path(c.Distributor)
	if c.InsecurePlaintextKeys && c.Identity == "" {
		return seal.InsecureLoadPlaintextDistributor(path, trust)
	}
	id, err := seal.ReadIdentityFile(c.Path(c.Identity))
	if err != nil {
		return nil, err
	}
	return seal.LoadDistributor(path, id, trust)
}

// natsOptions are the NATS options of the configuration.
func natsOptions(c *p11conf.Config, dk *share.DistributorKey) (natsbus.Options, error) {
	n := c.NATS
	o := natsbus.Options{URL: n.URL, Cluster: n.Cluster, Name: natsbus.NodeName(dk.NodeKey.Node) + "-pkcs11",
		CredsFile: c.Path(n.Creds), User: n.User, ClientCert: c.Path(n.TLSCert), ClientKey: c.Path(n.TLSKey)}
	if o.Cluster == "" {
		o.Cluster = natsbus.DefaultCluster(dk.KeyID)
	}
	if n.TLSCA != "" {
		o.RootCAs = []string{c.Path(n.TLSCA)}
	}
	if n.PasswordFile != "" {
		b, err := os.ReadFile(c.Path(n.PasswordFile))
		if err != nil {
			return o, err
		}
		o.Password = firstLine(b)
		clear(b)
	}
	return o, nil
}

// firstLine returns the first line of b, without its line ending.
func firstLine(b []byte) string {
	for i, c := range b {
		if c == '\n' || c == '\r' {
			return string(b[:i])
		}
	}
	return string(b)
}
