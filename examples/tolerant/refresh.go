package main

import (
	"crypto/rand"
	"fmt"
	"io"

	"github.com/tolerantca/tolerant/share/seal"
)

const refreshUsage = `Usage: tolerant refresh -cluster DIR -out NEWDIR -recipients FILE [-passphrase-file FILE]
       tolerant refresh -cluster DIR -out NEWDIR -insecure-plaintext-keys

Refreshes every share of the key for the next epoch from the dealer's state
alone, without the CA key: new shares d_ji for every calculator, new second
sub-keys c_a for the current plan, the same public key, key id, plan and
dealer key. NEWDIR gets every node's bundle of epoch e+1 (with new node
keys: nodes of two epochs never accept each other's packets) and the
dealer's state, which keeps the combiners' histories of every epoch.

Shares of two epochs are drawn independently: a combiner that keeps its
bundles of both epochs, with t-1 calculators that keep theirs, learns no
more about d than it would from either epoch alone.

Cutover: start the nodes of epoch e+1 next to those of epoch e (a node of
one epoch ignores the other's tasks), move the distributors to epoch e+1,
then stop the nodes of epoch e and destroy their bundles. The recipients
file lists every node of the cluster (they may keep their identities).

`

// runRefresh implements "tolerant refresh".
func runRefresh(args []string, stdout, stderr io.Writer) error {
	cc := newClusterChange("refresh", refreshUsage, stderr)
	if help, err := cc.parse(args); help || err != nil {
		return err
	}
	c, dl, rc, passphrase, err := cc.open()
	if err != nil {
		return err
	}
	if dl.Epoch() != c.Info.Epoch {
		return fmt.Errorf("refresh: %s: %w: the dealer's state is of epoch %d, %s of epoch %d",
			*cc.dir, seal.ErrWrongEpoch, dl.Epoch(), seal.InfoFile, c.Info.Epoch)
	}
	k, _, l := dl.Params()
	cc.progress("drawing %d new shares for each of %d calculators (epoch %d)", l, k, dl.Epoch()+1)
	dealing, err := dl.Refresh(rand.Reader)
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	if err := cc.write(dl, dealing, rc, passphrase); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "refreshed key %s: epoch %d -> %d, %d calculators, %d combiners in service, the same public key\n",
		dl.KeyID(), dl.Epoch()-1, dl.Epoch(), k, len(dealing.Combiners))
	fmt.Fprintf(stdout, "start every node of %s next to its epoch %d node, move the distributors to it, then stop the epoch %d nodes and destroy their bundles\n",
		*cc.out, dl.Epoch()-1, dl.Epoch()-1)
	return nil
}
