package systemd

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireClientsEnv, set to 1 (as .ci/run does), makes a missing
// systemd-analyze a test failure instead of a skip.
const requireClientsEnv = "TOLERANT_REQUIRE_CLIENTS"

// installed is where the units expect the tolerant binary.
const installed = "/usr/local/bin/tolerant"

// maxExposure is the highest "overall exposure level" systemd-analyze
// security may give a unit (0 is best, 10 worst; below 2 is "OK").
const maxExposure = 2.0

var units = []string{"tolerant-node@.service", "tolerant-broker.service"}

func needAnalyze(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv(requireClientsEnv) == "1" {
			require.FailNow(t, "systemd-analyze is not installed and "+requireClientsEnv+"=1 (Debian: apt-get install systemd)")
		}
		t.Skipf("systemd-analyze is not installed: skipping (set %s=1 to make this a failure)", requireClientsEnv)
	}
	return path
}

// stage copies the units to a temporary directory with ExecStart pointing
// at an executable that exists (systemd-analyze verify checks it): this
// test's own binary. extra is appended to every unit.
func stage(t *testing.T, extra string) string {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	dir := t.TempDir()
	for _, u := range units {
		b, err := os.ReadFile(u)
		require.NoError(t, err)
		require.Contains(t, string(b), "ExecStart="+installed+" ", u)
		s := strings.ReplaceAll(string(b), installed, self) + extra
		require.NoError(t, os.WriteFile(filepath.Join(dir, u), []byte(s), 0o644))
	}
	return dir
}

// verify runs systemd-analyze verify on the staged units (the template
// through an instance) and returns its output and error.
func verify(t *testing.T, analyze, dir string) (string, error) {
	t.Helper()
	cmd := exec.Command(analyze, "verify", "--man=no",
		filepath.Join(dir, "tolerant-node@calculator-3.service"), filepath.Join(dir, "tolerant-broker.service"))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestVerify(t *testing.T) {
	analyze := needAnalyze(t)
	out, err := verify(t, analyze, stage(t, ""))
	require.NoError(t, err, out)
	require.Empty(t, out, "systemd-analyze verify warns")

	// The check can fail: an unknown directive is a warning, and a warning
	// fails this test.
	out, _ = verify(t, analyze, stage(t, "NoSuchDirective=yes\n"))
	require.Contains(t, out, "NoSuchDirective")
}

var exposure = regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)

func TestSecurity(t *testing.T) {
	analyze := needAnalyze(t)
	dir := stage(t, "")
	for _, u := range units {
		cmd := exec.Command(analyze, "security", "--offline=true", "--no-pager", filepath.Join(dir, u))
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		m := exposure.FindStringSubmatch(string(out))
		require.NotNil(t, m, "no exposure level in:\n%s", out)
		level, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
		t.Logf("%s: overall exposure level %.1f (0 best, 10 worst)", u, level)
		require.LessOrEqual(t, level, maxExposure, "%s:\n%s", u, out)
	}
}

// TestHardening: the options the deployment relies on are in both units,
// so that an edit that drops one fails here and not in production.
func TestHardening(t *testing.T) {
	for _, u := range units {
		b, err := os.ReadFile(u)
		require.NoError(t, err)
		for _, want := range []string{
			"DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
			"PrivateTmp=yes", "PrivateDevices=yes", "ProtectKernelTunables=yes", "ProtectKernelModules=yes",
			"ProtectKernelLogs=yes", "ProtectControlGroups=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
			"MemoryDenyWriteExecute=yes", "LockPersonality=yes", "SystemCallFilter=@system-service",
			"CapabilityBoundingSet=\n", "Restart=always", "LimitCORE=0", "UMask=0077", "LoadCredential=",
			"StateDirectory=tolerant/",
		} {
			require.Contains(t, string(b), want, u)
		}
	}
	b, err := os.ReadFile("tolerant-node@.service")
	require.NoError(t, err)
	for _, want := range []string{"LogsDirectory=tolerant/%i", "ReadWritePaths=/var/log/tolerant/%i", "EnvironmentFile=/etc/tolerant/%i.env"} {
		require.Contains(t, string(b), want)
	}
}
