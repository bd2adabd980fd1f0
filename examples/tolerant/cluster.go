package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"

	"filippo.io/age"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// recorder is the x509sign.Cluster of this program: it signs through the
// in-process distributor and keeps the outcome of every signature, so that
// the program can tell which nodes did what.
type recorder struct {
	dist *broadcast.Distributor

	mu       sync.Mutex
	outcomes []*broadcast.Outcome
}

// Sign implements x509sign.Cluster.
func (r *recorder) Sign(ctx context.Context, req *share.Request) ([]byte, error) {
	o, err := r.dist.SignDetailed(ctx, req)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.outcomes = append(r.outcomes, o)
	r.mu.Unlock()
	return o.Signature, nil
}

// last returns the outcome of the latest signature.
func (r *recorder) last() *broadcast.Outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.outcomes) == 0 {
		return nil
	}
	return r.outcomes[len(r.outcomes)-1]
}

// clusterDir is the key material of a cluster directory written by deal.
type clusterDir struct {
	pub     *rsa.PublicKey
	keyID   string
	sealed  bool
	dealing *share.Dealing
	// Calculators and combiners whose bundles (or, for a sealed directory,
	// identity files) are absent: they are left out of the dealing (not
	// started), so that a directory holding only some nodes' files still
	// signs when enough of them are there.
	missingCalcs, missingCombs []int
	// noDistributor is set when distributor 1's bundle or identity is
	// absent: the in-process cluster cannot run without it.
	noDistributor bool
}

// loadCluster reads the cluster directory dir through package seal, which
// checks every bundle against the public files (public key, key id, epoch,
// plan, roster) and against the node it should hold. Sealed bundles are
// opened with the identity files in idDir, named as "tolerant keygen"
// output is kept on one host for an in-process cluster:
//
//	idDir/calculator-J.key, idDir/combiner-A.key, idDir/distributor-N.key
//
// A node whose bundle or identity file is absent is left out; a bundle that
// does not open (wrong identity, tampered) is an error.
func loadCluster(dir, idDir string) (*clusterDir, error) {
	c, err := loadTrustedPublic(dir, idDir)
	if err != nil {
		return nil, err
	}
	ids := clusterIdentities{sealed: c.Sealed(), dir: idDir}
	cd := &clusterDir{pub: c.PublicKey, keyID: c.Info.KeyID, sealed: c.Sealed(), dealing: &share.Dealing{Plan: c.Plan}}
	calcs := make([]int, c.Plan.K)
	for j := range calcs {
		calcs[j] = j + 1
	}
	if cd.dealing.Calculators, cd.missingCalcs, err = loadNodes(ids, share.RoleCalculator, calcs, c.Calculator); err != nil {
		return nil, err
	}
	// A removed combiner has no bundle.
	if cd.dealing.Combiners, cd.missingCombs, err = loadNodes(ids, share.RoleCombiner, seal.InService(c.Plan), c.Combiner); err != nil {
		return nil, err
	}
	if err := cd.loadDistributor(c, ids); err != nil {
		return nil, err
	}
	if n := c.Plan.K - len(cd.missingCalcs); n < c.Plan.T {
		return nil, fmt.Errorf("%s: key material for %d calculators, a signature needs t=%d", dir, n, c.Plan.T)
	}
	if len(cd.dealing.Combiners) == 0 {
		return nil, fmt.Errorf("%s: no combiner key material", dir)
	}
	return cd, nil
}

// loadTrustedPublic reads the public files of the cluster directory dir,
// checked against the dealer key pinned in idDir, and refuses sealed
// bundles without an identity directory.
func loadTrustedPublic(dir, idDir string) (*seal.Cluster, error) {
	trust, pin, err := dealerTrust("", identitiesPin(idDir))
	c, err := loadPinned(dir, trust, pin, err)
	if err != nil {
		return nil, err
	}
	if c.Sealed() && idDir == "" {
		return nil, fmt.Errorf("%s holds sealed bundles: pass -identities DIR, a directory of the nodes' identity files "+
			"(calculator-J.key, combiner-A.key, distributor-N.key, made with tolerant keygen)", dir)
	}
	return c, nil
}

// clusterIdentities are the nodes' identity files in dir, for a cluster
// whose bundles are sealed (none are needed otherwise).
type clusterIdentities struct {
	sealed bool
	dir    string
}

// identity returns node n's identity, or ok=false when its file is absent.
func (ids clusterIdentities) identity(n share.Node) (id age.Identity, ok bool, err error) {
	if !ids.sealed {
		return nil, true, nil
	}
	x, err := seal.ReadIdentityFile(filepath.Join(ids.dir, seal.IdentityFile(n)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return x, true, nil
}

// loadNodes opens with open the bundle of every node of role numbered in
// numbers, returning their key material and the numbers of the nodes
// without an identity or a bundle.
func loadNodes[K any](ids clusterIdentities, role share.Role, numbers []int,
	open func(int, age.Identity) (K, error)) (keys []K, missing []int, err error) {
	for _, n := range numbers {
		id, ok, err := ids.identity(share.Node{Role: role, Number: n})
		if err != nil {
			return nil, nil, err
		}
		var k K
		if ok {
			k, err = open(n, id)
		}
		if !ok || errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, n)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		keys = append(keys, k)
	}
	return keys, missing, nil
}

// loadDistributor opens the bundle of distributor 1 of c, setting
// cd.noDistributor when it has no identity or no bundle.
func (cd *clusterDir) loadDistributor(c *seal.Cluster, ids clusterIdentities) error {
	id, ok, err := ids.identity(share.Node{Role: share.RoleDistributor, Number: 1})
	if err != nil {
		return err
	}
	var dk *share.DistributorKey
	if ok {
		dk, err = c.Distributor(1, id)
	}
	switch {
	case !ok || errors.Is(err, fs.ErrNotExist):
		cd.noDistributor = true
	case err != nil:
		return err
	default:
		cd.dealing.Distributors = []*share.DistributorKey{dk}
	}
	return nil
}
