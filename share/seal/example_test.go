package seal_test

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/seal"
)

// Deal a key, seal calculator 1's bundle to the age recipient its host
// printed, and open it there, trusting only the dealer's key.
func Example() {
	// Offline, on the dealer: split the CA key with the patent's
	// (k=5, t=3, l=2) plan ([0084]-[0087]).
	key, err := rsa.GenerateKey(rand.Reader, 2048) // in production: the CA's key
	if err != nil {
		panic(err)
	}
	dl, err := share.NewDealer(rand.Reader, key, 5, 3, 2, &share.Options{KeyID: "example-ca"})
	if err != nil {
		panic(err)
	}
	dealing, err := dl.Deal(grouping.PatentPlan())
	if err != nil {
		panic(err)
	}

	// On calculator 1's host: an identity, whose recipient (age1...) goes
	// to the dealer ("tolerant keygen" does this and writes the file).
	id, err := age.GenerateX25519Identity()
	if err != nil {
		panic(err)
	}
	recipient := id.Recipient()

	// On the dealer: sign calculator 1's material and seal it.
	node := share.Node{Role: share.RoleCalculator, Number: 1}
	material, err := dealing.Calculators[0].Marshal()
	if err != nil {
		panic(err)
	}
	bundle, err := seal.SignedBundle(dl, node, material)
	if err != nil {
		panic(err)
	}
	sealed, err := seal.Seal(bundle, recipient)
	if err != nil {
		panic(err)
	}
	clear(bundle)
	clear(material)
	fmt.Println(strings.SplitN(string(sealed), "\n", 2)[0])

	// On calculator 1's host: the file, the identity and the dealer key
	// (printed by "tolerant deal", given on the command line).
	dir, err := os.MkdirTemp("", "seal-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, seal.BundleFile(node, seal.SealedExt))
	if err := os.WriteFile(path, sealed, 0o600); err != nil {
		panic(err)
	}
	trust := seal.Trust{DealerKey: dl.DealerKey()}
	ck, err := seal.LoadCalculator(path, id, trust)
	if err != nil {
		panic(err)
	}
	fmt.Println(filepath.Base(path), "holds", ck)

	// Another node's identity opens nothing.
	other, err := age.GenerateX25519Identity()
	if err != nil {
		panic(err)
	}
	_, err = seal.LoadCalculator(path, other, trust)
	fmt.Println("another identity:", errors.Is(err, seal.ErrWrongIdentity))
	// Output:
	// -----BEGIN AGE ENCRYPTED FILE-----
	// calculator-1.age holds calculator 1 of key example-ca (epoch 0, k=5 t=3 l=2)
	// another identity: true
}
