// Package testkeys holds fixed RSA test keys (made with `openssl genpkey`),
// so that tests do not spend seconds generating keys. They are public: never
// use them for anything but tests.
package testkeys

import (
	"crypto/rsa"
	"crypto/x509"
	"embed"
	"encoding/pem"
	"fmt"
)

//go:embed testdata/*.pem
var files embed.FS

// Names of the embedded keys.
const (
	RSA1024  = "rsa1024"
	RSA2048  = "rsa2048-1"
	RSA2048b = "rsa2048-2"
	RSA2048c = "rsa2048-3"
	RSA3072  = "rsa3072"
	RSA4096  = "rsa4096"
)

// Key returns the named key, parsed fresh on every call.
func Key(name string) (*rsa.PrivateKey, error) {
	b, err := files.ReadFile("testdata/" + name + ".pem")
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("testkeys: %s: no PEM block", name)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("testkeys: %s: not RSA", name)
	}
	return rk, nil
}

// Must is Key for tests: it panics on a missing key, which is a bug in the test.
func Must(name string) *rsa.PrivateKey {
	k, err := Key(name)
	if err != nil {
		panic(err)
	}
	return k
}

// PEM returns the named key's PEM file.
func PEM(name string) []byte {
	b, err := files.ReadFile("testdata/" + name + ".pem")
	if err != nil {
		panic(err)
	}
	return b
}
