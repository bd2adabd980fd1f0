package seal

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"filippo.io/age"

	"github.com/tolerantca/tolerant/share"
)

// readFile reads path, refusing files larger than limit.
func readFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		clear(b)
		return nil, err
	}
	if int64(len(b)) > limit {
		clear(b)
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return b, nil
}

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
	sb, err := readSigned(path, id, share.RoleCalculator, trust, plaintext)
	if err != nil {
		return nil, err
	}
	defer clear(sb.Material)
	ck, err := share.ParseCalculatorKey(sb.Material)
	if err != nil {
		return nil, fmt.Errorf("seal: %s: %w", path, err)
	}
	if err := checkSigned(sb, ck.J, &ck.Meta); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := checkName(path, share.RoleCalculator, ck.J); err != nil {
		return nil, err
	}
	return ck, nil
}

// LoadCombiner loads a combiner's bundle like [LoadCalculator], binding it
// to the number in a canonical name combiner-A.age.
func LoadCombiner(path string, id age.Identity, trust Trust) (*share.CombinerKey, error) {
	return loadCombiner(path, id, trust, false)
}

func loadCombiner(path string, id age.Identity, trust Trust, plaintext bool) (*share.CombinerKey, error) {
	sb, err := readSigned(path, id, share.RoleCombiner, trust, plaintext)
	if err != nil {
		return nil, err
	}
	defer clear(sb.Material)
	ck, err := share.ParseCombinerKey(sb.Material)
	if err != nil {
		return nil, fmt.Errorf("seal: %s: %w", path, err)
	}
	if err := checkSigned(sb, ck.Number, &ck.Meta); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := checkName(path, share.RoleCombiner, ck.Number); err != nil {
		return nil, err
	}
	return ck, nil
}

// LoadDistributor loads a distributor's bundle like [LoadCalculator],
// binding it to the number in a canonical name distributor-N.age.
func LoadDistributor(path string, id age.Identity, trust Trust) (*share.DistributorKey, error) {
	return loadDistributor(path, id, trust, false)
}

func loadDistributor(path string, id age.Identity, trust Trust, plaintext bool) (*share.DistributorKey, error) {
	sb, err := readSigned(path, id, share.RoleDistributor, trust, plaintext)
	if err != nil {
		return nil, err
	}
	defer clear(sb.Material)
	dk, err := share.ParseDistributorKey(sb.Material)
	if err != nil {
		return nil, fmt.Errorf("seal: %s: %w", path, err)
	}
	if dk.NodeKey == nil {
		return nil, fmt.Errorf("seal: %s: no node key", path)
	}
	if err := checkSigned(sb, dk.NodeKey.Number, &dk.Meta); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := checkName(path, share.RoleDistributor, dk.NodeKey.Number); err != nil {
		return nil, err
	}
	return dk, nil
}

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
