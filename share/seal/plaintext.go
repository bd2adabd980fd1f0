package seal

import (
	"errors"

	"github.com/tolerantca/tolerant/share"
)

// ErrPlaintext: a loader of sealed key material was given a plaintext
// (.json) file. Plaintext is loaded only by the functions named for it
// ([InsecureLoadPlaintextCalculator] and friends).
var ErrPlaintext = errors.New("seal: key material in PLAINTEXT")

// InsecureLoadPlaintextCalculator loads a calculator's bundle written in
// PLAINTEXT (calculator-J.json, from deal -insecure-plaintext-keys), with
// the checks of [LoadCalculator]. For tests and demonstrations only: the
// shares are readable by whoever reads the file.
func InsecureLoadPlaintextCalculator(path string, trust Trust) (*share.CalculatorKey, error) {
	return loadCalculator(path, nil, trust, true)
}

// InsecureLoadPlaintextCombiner loads a combiner's bundle written in
// PLAINTEXT, like [InsecureLoadPlaintextCalculator].
func InsecureLoadPlaintextCombiner(path string, trust Trust) (*share.CombinerKey, error) {
	return loadCombiner(path, nil, trust, true)
}

// InsecureLoadPlaintextDistributor loads a distributor's bundle written in
// PLAINTEXT, like [InsecureLoadPlaintextCalculator].
func InsecureLoadPlaintextDistributor(path string, trust Trust) (*share.DistributorKey, error) {
	return loadDistributor(path, nil, trust, true)
}

// InsecureLoadPlaintextDealer loads the dealer's state written in
// PLAINTEXT (dealer.json), like [InsecureLoadPlaintextCalculator].
func InsecureLoadPlaintextDealer(path string) (*share.Dealer, error) {
	return loadDealer(path, "", true)
}
