// Package peerbench measures tolerant against its peer, cloudflare/circl's
// threshold RSA (Shoup's protocol, tss/rsa), and against crypto/rsa, in one
// run on one key, so that the ratios can be compared on a noisy machine:
//
//	go test -run XXX -bench . ./internal/peerbench/
//
// It has no code of its own: circl is a test-only dependency of this one
// package. The key in testdata has safe primes, which circl's dealer needs
// (made once with circl's tss/rsa.GenerateKey); it is public, for benchmarks only.
package peerbench
