package main

import (
	"crypto/rsa"
	"os"
	"testing"

	"github.com/tolerantca/tolerant/internal/testkeys"
)

// TestMain gives the in-process demos a fixed 2048-bit test key: generating
// one takes seconds under the race detector. The program itself always
// generates a fresh key; the test keys never enter it.
func TestMain(m *testing.M) {
	generate := demoKey
	demoKey = func(bits int) (*rsa.PrivateKey, error) {
		if bits == 2048 {
			return testkeys.Key(testkeys.RSA2048)
		}
		return generate(bits)
	}
	os.Exit(m.Run())
}
