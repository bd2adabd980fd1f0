package seal

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"filippo.io/age"

	"github.com/tolerantca/tolerant/internal/fileio"
	"github.com/tolerantca/tolerant/share"
)

// readFile reads path, refusing files larger than limit.
func readFile(path string, limit int64) ([]byte, error) { return fileio.ReadFile(path, limit) }

// readBundle returns the plaintext of the bundle at path: opened with id
// for .age, read as is for .json when plaintext is allowed. The caller
// clears it.
func readBundle(path string, id age.Identity, plaintext bool) ([]byte, error) {
	if filepath.Ext(path) == SealedExt && id == nil {
		return nil, fmt.Errorf("seal: %s is sealed: an identity is needed to open it", path)
	}
	return readByExt(path, plaintext, "InsecureLoadPlaintext... functions load", func(b []byte) ([]byte, error) { return Open(b, id) })
}

// readByExt returns the plaintext of the file at path by its extension:
// read as is for .json when plaintext is allowed (else [ErrPlaintext],
// saying that only loaders load it), or read and opened with open for .age.
// The caller clears it.
func readByExt(path string, plaintext bool, loaders string, open func([]byte) ([]byte, error)) ([]byte, error) {
	switch filepath.Ext(path) {
	case PlaintextExt:
		if !plaintext {
			return nil, fmt.Errorf("%w: %s: only %s it", ErrPlaintext, path, loaders)
		}
		b, err := readFile(path, maxPlaintextSize)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		return b, nil
	case SealedExt:
		b, err := readFile(path, MaxSealedSize)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		pt, err := open(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return pt, nil
	}
	return nil, fmt.Errorf("seal: %s: want a %s (sealed) or %s (plaintext) file", path, SealedExt, PlaintextExt)
}

// numberFromName returns N when path's base name is ROLE-N.age or
// ROLE-N.json.
func numberFromName(path string, role share.Role) (int, bool) {
	base := filepath.Base(path)
	base = strings.TrimSuffix(strings.TrimSuffix(base, SealedExt), PlaintextExt)
	rest, ok := strings.CutPrefix(base, role.String()+"-")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 1 || strconv.Itoa(n) != rest {
		return 0, false
	}
	return n, true
}

// checkName fails with ErrWrongNode when path has the canonical name of
// another node of role than got.
func checkName(path string, role share.Role, got int) error {
	if n, ok := numberFromName(path, role); ok && n != got {
		return fmt.Errorf("%w: %s holds %v %d", ErrWrongNode, path, role, got)
	}
	return nil
}

// readSigned reads the bundle at path like readBundle and checks its
// dealer signature against trust: the bundle of a node of role. The caller
// clears the returned material.
func readSigned(path string, id age.Identity, role share.Role, trust Trust, plaintext bool) (*signedBundle, error) {
	if err := trust.ready(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b, err := readBundle(path, id, plaintext)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	sb, err := openBundle(b, role, trust)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sb, nil
}

// LoadCalculator loads a calculator's bundle sealed to id (path ends in
// .age); a plaintext one (.json) is refused with [ErrPlaintext]: see
// [InsecureLoadPlaintextCalculator]. The bundle must be signed by the dealer trust names, or the error wraps
// [ErrWrongDealer], [ErrBadSignature], [ErrUnsigned], [ErrWrongEpoch] or
// [ErrNoTrust]. When the file has the canonical name calculator-J.age (or
// .json), the key inside must be calculator J, or the error wraps
// [ErrWrongNode]; for any other name the caller must check ck.J itself.
// [Cluster.Calculator] also checks the key against the cluster's public
// files.
func LoadCalculator(path string, id age.Identity, trust Trust) (*share.CalculatorKey, error) {
	return loadCalculator(path, id, trust, false)
}

func loadCalculator(path string, id age.Identity, trust Trust, plaintext bool) (*share.CalculatorKey, error) {
	return loadNode(path, id, trust, plaintext, share.RoleCalculator, share.ParseCalculatorKey,
		func(ck *share.CalculatorKey) (int, *share.Meta, error) { return ck.Number, &ck.Meta, nil })
}

// loadNode loads the bundle of a node of role at path: it checks the
// dealer's signature (readSigned) before parsing the material with parse,
// then that the signature and the file's canonical name are for the node
// that node reads from the key (its number and public part).
func loadNode[K any](path string, id age.Identity, trust Trust, plaintext bool, role share.Role,
	parse func([]byte) (K, error), node func(K) (int, *share.Meta, error)) (K, error) {
	var zero K
	sb, err := readSigned(path, id, role, trust, plaintext)
	if err != nil {
		return zero, err
	}
	defer clear(sb.Material)
	k, err := parse(sb.Material)
	if err != nil {
		return zero, fmt.Errorf("seal: %s: %w", path, err)
	}
	number, meta, err := node(k)
	if err != nil {
		return zero, fmt.Errorf("seal: %s: %w", path, err)
	}
	if err := checkSigned(sb, number, meta); err != nil {
		return zero, fmt.Errorf("%s: %w", path, err)
	}
	if err := checkName(path, role, number); err != nil {
		return zero, err
	}
	return k, nil
}

// LoadCombiner loads a combiner's bundle like [LoadCalculator], binding it
// to the number in a canonical name combiner-A.age.
func LoadCombiner(path string, id age.Identity, trust Trust) (*share.CombinerKey, error) {
	return loadCombiner(path, id, trust, false)
}

func loadCombiner(path string, id age.Identity, trust Trust, plaintext bool) (*share.CombinerKey, error) {
	return loadNode(path, id, trust, plaintext, share.RoleCombiner, share.ParseCombinerKey,
		func(ck *share.CombinerKey) (int, *share.Meta, error) { return ck.Number, &ck.Meta, nil })
}

// LoadDistributor loads a distributor's bundle like [LoadCalculator],
// binding it to the number in a canonical name distributor-N.age.
func LoadDistributor(path string, id age.Identity, trust Trust) (*share.DistributorKey, error) {
	return loadDistributor(path, id, trust, false)
}

func loadDistributor(path string, id age.Identity, trust Trust, plaintext bool) (*share.DistributorKey, error) {
	return loadNode(path, id, trust, plaintext, share.RoleDistributor, share.ParseDistributorKey,
		func(dk *share.DistributorKey) (int, *share.Meta, error) {
			if dk.NodeKey == nil {
				return 0, nil, errNoNodeKey
			}
			return dk.NodeKey.Number, &dk.Meta, nil
		})
}

// errNoNodeKey is the error of a distributor's bundle without a node key.
var errNoNodeKey = errors.New("no node key")

// LoadDealer loads the dealer's state sealed to passphrase (dealer.age); a
// plaintext one (dealer.json) is refused with [ErrPlaintext]: see
// [InsecureLoadPlaintextDealer]. A wrong passphrase gives
// [ErrWrongPassphrase].
func LoadDealer(path, passphrase string) (*share.Dealer, error) {
	return loadDealer(path, passphrase, false)
}

func loadDealer(path, passphrase string, plaintext bool) (*share.Dealer, error) {
	b, err := readByExt(path, plaintext, "InsecureLoadPlaintextDealer loads", func(sealed []byte) ([]byte, error) {
		return OpenWithPassphrase(sealed, passphrase)
	})
	if err != nil {
		return nil, err
	}
	defer clear(b)
	dl, err := share.ParseDealerState(b)
	if err != nil {
		return nil, fmt.Errorf("seal: %s: %w", path, err)
	}
	return dl, nil
}
