package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/x509sign"
)

// issueSetup returns a signer, a root certificate of its key written to
// dir, and a leaf configuration writing into dir.
func issueSetup(t *testing.T) (*x509sign.Signer, *x509.Certificate, *issueConfig) {
	t.Helper()
	key := testkeys.Must(testkeys.RSA2048)
	signer, err := x509sign.New(&key.PublicKey, "", testcluster.WholeKey{Key: key}, nil)
	require.NoError(t, err)
	dir := t.TempDir()
	root := &issueConfig{cn: "test root", out: filepath.Join(dir, "root.pem"), days: 1, selfSigned: true}
	require.NoError(t, issueRoot(root, signer, io.Discard))
	ca, err := readCertificate(root.out)
	require.NoError(t, err)
	leaf := &issueConfig{cn: "leaf.example.com", ca: root.out, out: filepath.Join(dir, "leaf.pem"),
		keyOut: filepath.Join(dir, "leaf-key.pem"), days: 1, count: 2, concurrency: 2}
	return signer, ca, leaf
}

// TestRegressionIssueKeepsExistingKeyFile: issue wrote leaf private keys
// with os.WriteFile, overwriting whatever -key-out named (and keeping its
// mode). It now refuses, before signing and again when writing.
func TestRegressionIssueKeepsExistingKeyFile(t *testing.T) {
	signer, ca, cfg := issueSetup(t)
	const old = "an older private key\n"
	require.NoError(t, os.WriteFile(cfg.keyOut, []byte(old), 0o644))

	err := issueLeaves(context.Background(), cfg, ca, signer, io.Discard)
	require.ErrorIs(t, err, errKeyFileExists)
	b, err := os.ReadFile(cfg.keyOut)
	require.NoError(t, err)
	require.Equal(t, old, string(b), "the existing key file was overwritten")
	require.NoFileExists(t, cfg.out, "certificates written without their keys")

	// The command refuses before asking the cluster for anything: the NATS
	// URL below is never dialled.
	_, _, err = runCmd(t, "issue", "-nats", "nats://127.0.0.1:1", "-cluster", t.TempDir(), "-cn", "x",
		"-ca", cfg.ca, "-out", cfg.out, "-key-out", cfg.keyOut)
	require.ErrorIs(t, err, errKeyFileExists)
	b, err = os.ReadFile(cfg.keyOut)
	require.NoError(t, err)
	require.Equal(t, old, string(b))

	// A symbolic link at -key-out is not followed.
	target := filepath.Join(t.TempDir(), "elsewhere.pem")
	link := filepath.Join(t.TempDir(), "link-key.pem")
	require.NoError(t, os.Symlink(target, link))
	cfg.keyOut = link
	require.ErrorIs(t, issueLeaves(context.Background(), cfg, ca, signer, io.Discard), errKeyFileExists)
	require.NoFileExists(t, target)
}

// TestIssueKeyFileMode: a new leaf key file is readable by its owner only,
// and holds every leaf's key.
func TestIssueKeyFileMode(t *testing.T) {
	signer, ca, cfg := issueSetup(t)
	require.NoError(t, issueLeaves(context.Background(), cfg, ca, signer, io.Discard))
	fi, err := os.Stat(cfg.keyOut)
	require.NoError(t, err)
	if runtime.GOOS != "windows" {
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	}
	b, err := os.ReadFile(cfg.keyOut)
	require.NoError(t, err)
	for range cfg.count {
		var block *pem.Block
		block, b = pem.Decode(b)
		require.NotNil(t, block)
		_, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		require.NoError(t, err)
	}
}
