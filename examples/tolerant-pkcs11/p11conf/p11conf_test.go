package p11conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWriteLoadAndPIN(t *testing.T) {
	dir := t.TempDir()
	h, err := HashPIN([]byte("123456"))
	require.NoError(t, err)
	require.Equal(t, 1<<15, h.N)
	c := &Config{Cluster: "cluster", Distributor: "cluster/distributor-1.age", Identity: "d.key",
		DealerKey: "k", KeyID: "ca", NATS: NATS{URL: "nats://127.0.0.1:4222"}, PIN: h}
	path := filepath.Join(dir, "p11.conf")
	require.NoError(t, Write(path, c))
	require.Error(t, Write(path, c), "never overwrites")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NotContains(t, string(b), "123456", "only the hash is stored")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	got, err := Load(path)
	require.NoError(t, err)
	require.True(t, got.PIN.Check([]byte("123456")))
	require.False(t, got.PIN.Check([]byte("123457")))
	require.Equal(t, filepath.Join(dir, "cluster"), got.Path(got.Cluster), "relative to the file")
	require.Equal(t, path+".failures", got.FailurePath())
	require.Equal(t, DefaultMaxPINFailures, got.MaxFailures())
	tok, key := got.Labels()
	require.Equal(t, []string{"ca", "ca"}, []string{tok, key})
	_, err = HashPIN([]byte("123"))
	require.ErrorIs(t, err, ErrPINLength)
}

func TestLoadRefuses(t *testing.T) {
	h, err := InsecureWeakHashPIN([]byte("123456"))
	require.NoError(t, err)
	good := func() Config {
		return Config{Version: Version, Cluster: "c", Distributor: "d", Identity: "i", DealerKey: "k", KeyID: "ca",
			NATS: NATS{URL: "nats://x"}, PIN: h}
	}
	for name, mod := range map[string]func(*Config){
		"no identity":       func(c *Config) { c.Identity = "" },
		"no dealer key":     func(c *Config) { c.DealerKey = "" },
		"unbounded scrypt":  func(c *Config) { c.PIN.N = 1 << 30 },
		"weak scrypt":       func(c *Config) { c.PIN.N = 16 },
		"other version":     func(c *Config) { c.Version = 2 },
		"bad timeout":       func(c *Config) { c.Timeout = "soon" },
		"negative failures": func(c *Config) { c.MaxPINFailures = -1 },
	} {
		c := good()
		mod(&c)
		err := c.check()
		require.ErrorIs(t, err, ErrConfig, name)
		require.False(t, strings.Contains(err.Error(), "123456"), name)
	}
	c := good()
	c.Identity, c.InsecurePlaintextKeys = "", true
	require.NoError(t, c.check())
}
