package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/tolerantca/tolerant/share/seal"
)

// dealerPinExt names, next to a node's identity file, the file that pins
// the key of the dealer whose bundles the node accepts: IDENTITY.dealer.
const dealerPinExt = ".dealer"

// identitiesPinFile pins the dealer of an in-process cluster, in its
// directory of identity files.
const identitiesPinFile = "dealer.pin"

// dealerKeyUsage is the usage of the -dealer-key flag.
const dealerKeyUsage = "the dealer's key, as tolerant deal prints it: refuse any bundle it did not sign " +
	"(default: the key pinned in IDENTITY" + dealerPinExt + ", or, on first use, the key of the first bundle, which is then pinned there)"

// dealerTrust is how a command checks the origin of what it loads: against
// flagKey (-dealer-key) when given, which is then the only key trusted and
// no pin file is read or written; else against the key pinned in pinPath;
// else, on first use, against whatever dealer signed it, which pinDealer
// then records in pinPath. An empty pinPath (a plaintext bundle, which has
// no identity file to pin next to) trusts on every use without -dealer-key,
// like everything else about plaintext bundles.
func dealerTrust(flagKey, pinPath string) (trust seal.Trust, pin string, err error) {
	if flagKey != "" {
		k, err := seal.ParseDealerKey(flagKey)
		if err != nil {
			return seal.Trust{}, "", fmt.Errorf("-dealer-key: %w", err)
		}
		return seal.Trust{DealerKey: k}, "", nil
	}
	if pinPath == "" {
		return seal.Trust{InsecureTrustOnFirstUse: true}, "", nil
	}
	trust, err = seal.TrustOnFirstUse(pinPath)
	return trust, pinPath, err
}

// pinDealer records the dealer key in pinPath, or checks it against the key
// pinned there already; an empty pinPath pins nothing.
func pinDealer(pinPath string, key ed25519.PublicKey) error {
	if pinPath == "" {
		return nil
	}
	err := seal.Pin(pinPath, key)
	switch {
	case errors.Is(err, seal.ErrWrongDealer):
		return fmt.Errorf("%w: remove %s to trust a new dealer", err, pinPath)
	case err != nil:
		return fmt.Errorf("pinning the dealer's key (or pass -dealer-key %s): %w", seal.FormatDealerKey(key), err)
	}
	return nil
}

// trust is the trust of the node that opens bf, and where it pins its
// dealer: next to its identity file.
func (bf bundleFlags) trust() (seal.Trust, string, error) {
	pin := ""
	if bf.identity != "" {
		pin = bf.identity + dealerPinExt
	}
	return dealerTrust(bf.dealerKey, pin)
}

// loadPinned reads the public files of the cluster directory dir with
// trust, then pins their dealer key at pin (when not empty): the trust and
// pin of dealerTrust or bundleFlags.trust.
func loadPinned(dir string, trust seal.Trust, pin string, err error) (*seal.Cluster, error) {
	if err != nil {
		return nil, err
	}
	c, err := seal.LoadPublic(dir, trust)
	if err != nil {
		return nil, err
	}
	if err := pinDealer(pin, c.DealerKey); err != nil {
		return nil, err
	}
	return c, nil
}

// identitiesPin is where an in-process cluster pins its dealer: in its
// directory of identity files, or nowhere for a plaintext cluster.
func identitiesPin(idDir string) string {
	if idDir == "" {
		return ""
	}
	return filepath.Join(idDir, identitiesPinFile)
}
