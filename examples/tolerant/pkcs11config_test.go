package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/examples/tolerant-pkcs11/p11conf"
	"github.com/tolerantca/tolerant/internal/testkeys"
)

func TestPKCS11Config(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(key, testkeys.PEM(testkeys.RSA2048), 0o600))
	cdir := filepath.Join(dir, "cluster")
	_, e, err := runCmd(t, "deal", "-key", key, "-k", "3", "-t", "2", "-l", "2", "-insecure-plaintext-keys", "-out", cdir)
	require.NoError(t, err, e)
	pin := filepath.Join(dir, "pin")
	require.NoError(t, os.WriteFile(pin, []byte("13579246\n"), 0o600))
	conf := filepath.Join(dir, "p11.conf")
	args := []string{"pkcs11-config", "-cluster", cdir, "-insecure-plaintext-keys", "-nats", "nats://127.0.0.1:4222",
		"-pin-file", pin, "-token-label", "My CA", "-out", conf}
	out, e, err := runCmd(t, args...)
	require.NoError(t, err, e)
	require.Contains(t, out, "TOLERANT_PKCS11_CONFIG=")

	b, err := os.ReadFile(conf)
	require.NoError(t, err)
	require.NotContains(t, string(b), "13579246", "the PIN is stored only as a hash")
	c, err := p11conf.Load(conf)
	require.NoError(t, err)
	require.True(t, c.PIN.Check([]byte("13579246")))
	tok, keyLabel := c.Labels()
	require.Equal(t, "My CA", tok)
	require.Equal(t, c.KeyID, keyLabel)
	_, err = c.LoadPublic()
	require.NoError(t, err, "the configuration names the dealer of the cluster")

	_, _, err = runCmd(t, args...)
	require.Error(t, err, "an existing configuration is never overwritten")

	// A plaintext bundle without -insecure-plaintext-keys, a PIN too short,
	// and missing flags are refused.
	_, _, err = runCmd(t, "pkcs11-config", "-cluster", cdir, "-nats", "nats://x", "-pin-file", pin, "-out", conf+"2")
	require.ErrorContains(t, err, "PLAINTEXT")
	require.NoError(t, os.WriteFile(pin, []byte("123\n"), 0o600))
	_, _, err = runCmd(t, "pkcs11-config", "-cluster", cdir, "-insecure-plaintext-keys", "-nats", "nats://x", "-pin-file", pin, "-out", conf+"3")
	require.ErrorIs(t, err, p11conf.ErrPINLength)
	_, e, err = runCmd(t, "pkcs11-config", "-cluster", cdir)
	require.True(t, errors.Is(err, errUsage) && strings.Contains(e, "-pin-file"), e)
}
