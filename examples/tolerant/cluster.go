package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
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
	dealing *share.Dealing
	// Calculators and combiners whose files are absent: they are left out
	// of the dealing (not started), so that a directory holding only some
	// nodes' files still signs when enough of them are there.
	missingCalcs, missingCombs []int
}

// loadCluster reads and cross-checks DIR/plan.json, DIR/public.pem and every
// node's key file.
func loadCluster(dir string) (*clusterDir, error) {
	b, err := os.ReadFile(filepath.Join(dir, planFile))
	if err != nil {
		return nil, err
	}
	plan, err := grouping.ParsePlan(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, planFile), err)
	}
	pub, err := readPublicKey(filepath.Join(dir, publicFile))
	if err != nil {
		return nil, err
	}
	cd := &clusterDir{pub: pub, dealing: &share.Dealing{Plan: plan}}
	var meta *share.Meta
	same := func(path string, m *share.Meta) error {
		switch {
		case !m.PublicKey.Equal(pub):
			return fmt.Errorf("%s: key material for another public key than %s", path, publicFile)
		case m.K != plan.K || m.T != plan.T || m.L != plan.L:
			return fmt.Errorf("%s: k=%d t=%d l=%d, but the plan says k=%d t=%d l=%d", path, m.K, m.T, m.L, plan.K, plan.T, plan.L)
		case meta == nil:
			meta = m
		case m.KeyID != meta.KeyID || m.Epoch != meta.Epoch:
			return fmt.Errorf("%s: key %s epoch %d, other files have key %s epoch %d", path, m.KeyID, m.Epoch, meta.KeyID, meta.Epoch)
		}
		return nil
	}
	for j := 1; j <= plan.K; j++ {
		path := filepath.Join(dir, calculatorFile(j))
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			cd.missingCalcs = append(cd.missingCalcs, j)
			continue
		}
		if err != nil {
			return nil, err
		}
		ck, err := share.ParseCalculatorKey(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if ck.J != j {
			return nil, fmt.Errorf("%s: holds calculator %d", path, ck.J)
		}
		if err := same(path, &ck.Meta); err != nil {
			return nil, err
		}
		cd.dealing.Calculators = append(cd.dealing.Calculators, ck)
	}
	for a := 1; a <= len(plan.Combiners); a++ {
		path := filepath.Join(dir, combinerFile(a))
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			cd.missingCombs = append(cd.missingCombs, a)
			continue
		}
		if err != nil {
			return nil, err
		}
		ck, err := share.ParseCombinerKey(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if ck.Number != a {
			return nil, fmt.Errorf("%s: holds combiner %d", path, ck.Number)
		}
		if err := same(path, &ck.Meta); err != nil {
			return nil, err
		}
		reps := ck.Reps()
		if len(reps) != len(plan.Combiners[a-1]) {
			return nil, fmt.Errorf("%s: %d representations, the plan gives combiner %d %d", path, len(reps), a, len(plan.Combiners[a-1]))
		}
		for n, r := range reps {
			if !r.Equal(plan.Combiners[a-1][n]) {
				return nil, fmt.Errorf("%s: representation %v, the plan says %v", path, r, plan.Combiners[a-1][n])
			}
		}
		cd.dealing.Combiners = append(cd.dealing.Combiners, ck)
	}
	if meta == nil {
		return nil, fmt.Errorf("%s: no calculator or combiner key file", dir)
	}
	if n := plan.K - len(cd.missingCalcs); n < plan.T {
		return nil, fmt.Errorf("%s: key files for %d calculators, a signature needs t=%d", dir, n, plan.T)
	}
	if len(cd.missingCombs) == len(plan.Combiners) {
		return nil, fmt.Errorf("%s: no combiner key file", dir)
	}
	cd.keyID = meta.KeyID
	return cd, nil
}

// readPublicKey reads an RSA public key from a PKIX ("PUBLIC KEY") PEM file.
func readPublicKey(path string) (*rsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%s: no PUBLIC KEY PEM block", path)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pub, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T, not an RSA key", path, k)
	}
	return pub, nil
}
