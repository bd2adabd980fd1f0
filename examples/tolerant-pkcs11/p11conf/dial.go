package p11conf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/audit"
	"github.com/tolerantca/tolerant/broadcast/natsbus"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
	"github.com/tolerantca/tolerant/x509sign"
)

// LoadPublic loads the cluster's public files, checked against the
// configured dealer key and key id.
func (c *Config) LoadPublic() (*seal.Cluster, error) {
	trust, err := c.trust()
	if err != nil {
		return nil, err
	}
	cl, err := seal.LoadPublic(c.Path(c.Cluster), trust)
	if err != nil {
		return nil, err
	}
	if cl.Info.KeyID != c.KeyID {
		return nil, fmt.Errorf("%w: the cluster is key %s, the configuration names %s", ErrConfig, cl.Info.KeyID, c.KeyID)
	}
	return cl, nil
}

// trust is the dealer trust of the configuration.
func (c *Config) trust() (seal.Trust, error) {
	dk, err := seal.ParseDealerKey(c.DealerKey)
	if err != nil {
		return seal.Trust{}, fmt.Errorf("%w: dealer_key: %v", ErrConfig, err)
	}
	return seal.Trust{DealerKey: dk}, nil
}

// remote is the distributor's connection: closing it stops the
// distributor and drains NATS.
type remote struct {
	bus   *natsbus.Bus
	dist  *broadcast.Distributor
	audit *audit.Writer // nil without AuditLog
}

// Close stops the distributor, drains the NATS connection and closes the
// audit log.
func (r *remote) Close() error {
	r.dist.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.bus.Shutdown(ctx)
	if r.audit != nil {
		err = errors.Join(err, r.audit.Close())
	}
	return err
}

// openAudit opens the distributor's audit log, when the configuration
// names one; nil, nil otherwise.
func (c *Config) openAudit(dk *share.DistributorKey) (*audit.Writer, broadcast.Observer, error) {
	if c.AuditLog == "" {
		return nil, nil, nil
	}
	w, err := audit.OpenWriter(c.Path(c.AuditLog), audit.Header{Role: audit.RoleDistributor, Number: dk.NodeKey.Number,
		Keys: []audit.KeyInfo{{KeyID: dk.KeyID, Epoch: dk.Epoch, T: dk.T}}})
	if err != nil {
		return nil, nil, fmt.Errorf("audit_log: %w", err)
	}
	return w, audit.NewObserver(w), nil
}

// Dial opens the distributor's bundle, connects to NATS, starts a task
// distributor ([0047], [0106]) of the cluster cl and returns it as an
// x509sign.Signer (whose own timeout is off: the caller bounds each
// signature with its context). The caller closes the Closer.
func (c *Config) Dial(ctx context.Context, cl *seal.Cluster, log *slog.Logger) (*x509sign.Signer, io.Closer, error) {
	dk, err := c.loadDistributor()
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
	o, err := c.natsOptions(dk)
	if err != nil {
		return nil, nil, err
	}
	o.Logger = log
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	bus, err := natsbus.Dial(dctx, o)
	if err != nil {
		return nil, nil, fmt.Errorf("NATS: %w", err)
	}
	aw, obs, err := c.openAudit(dk)
	if err != nil {
		bus.Close()
		return nil, nil, err
	}
	dist, err := broadcast.NewDistributor(bus, dk, &broadcast.DistributorOptions{Logger: log, Observer: obs})
	if err != nil {
		if aw != nil {
			aw.Close()
		}
		bus.Close()
		return nil, nil, err
	}
	r := &remote{bus: bus, dist: dist, audit: aw}
	s, err := x509sign.New(cl.PublicKey, dk.KeyID, dist, &x509sign.Options{Timeout: -1})
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return s, r, nil
}

// loadDistributor opens the distributor's bundle, sealed to its identity
// or, when the configuration says so, in plaintext.
func (c *Config) loadDistributor() (*share.DistributorKey, error) {
	trust, err := c.trust()
	if err != nil {
		return nil, err
	}
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
func (c *Config) natsOptions(dk *share.DistributorKey) (natsbus.Options, error) {
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
		line, _, _ := strings.Cut(string(b), "\n")
		clear(b)
		o.Password = strings.TrimRight(line, "\r")
	}
	return o, nil
}
