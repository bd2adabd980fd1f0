package wire

// Known-answer packets: one or more of every packet type, in
// testdata/golden as hexadecimal text, named by the encoding version. The
// tests require that today's code encodes the packets below to exactly
// those bytes, decodes the bytes to exactly those packets, and that every
// type String names has a file, so that a change of the encoding without a
// new Version fails them; files of older versions must be refused with
// ErrVersion. After a deliberate change, with a new Version, write the new
// version's files (the old ones stay) with
//
//	go test ./internal/wire -run TestGolden -update

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/share"
)

var update = flag.Bool("update", false, "write the golden packets of testdata/golden")

const goldenDir = "testdata/golden"

// goldenPackets returns the packets on file by name (without the version).
func goldenPackets(t *testing.T) map[string]Packet {
	t.Helper()
	h := Header{Distributor: 2, Task: 1<<33 + 7, KeyID: "golden", Epoch: 1, Time: 1767225600_000000000, Instance: 0x0123456789abcdef}
	content := []byte("tolerant golden request")
	sum := sha256.Sum256(content)
	task := &Task{Header: h, Request: share.Request{KeyID: h.KeyID, Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15, Content: content}}
	taskBytes, err := Marshal(task)
	require.NoError(t, err)
	fp := Fingerprint(taskBytes)
	pss := &Task{Header: h, Request: share.Request{KeyID: h.KeyID, Hash: crypto.SHA512, Digest: bytes.Repeat([]byte{0x5a}, 64),
		Scheme: share.PSS, Encoded: bytes.Repeat([]byte{0xa5}, 128), SaltLength: 64}}
	ack := &Ack{Header: h, TaskHash: fp, Calculator: 3, K: 5, T: 3, Status: Accepted}
	ackBytes, err := Marshal(ack)
	require.NoError(t, err)
	node := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	role := uint8(share.RoleCalculator)
	return map[string]Packet{
		"task-pkcs1v15": task,
		"task-pss":      pss,
		"ack-accepted":  ack,
		"ack-refused":   &Ack{Header: h, TaskHash: fp, Calculator: 4, K: 5, T: 3, Status: Refused, Reason: ReasonPolicy, Detail: "subjects"},
		"ack-computed":  &Ack{Header: h, TaskHash: fp, Calculator: 5, K: 5, T: 3, Status: Computed},
		"partials": &Partials{Header: h, TaskHash: fp, Calculator: 2, Shares: []Share{
			{Index: 1, Value: bytes.Repeat([]byte{0x11}, 128)}, {Index: 2, Value: bytes.Repeat([]byte{0x22}, 128)}}},
		"result": &Result{Header: h, TaskHash: fp, Combiner: 1, Signature: bytes.Repeat([]byte{0x33}, 128),
			Rep: grouping.Rep{{J: 1, I: 1}, {J: 2, I: 2}, {J: 3, I: 1}}, Calculators: []int{1, 2, 3, 5}, Inconsistent: []int{5}, Suspects: []int{4}},
		"done": &Done{Header: h, TaskHash: fp},
		"signed": &Signed{Role: role, Number: 3, Body: ackBytes,
			Sig: ed25519.Sign(node, SignedMessage(role, 3, ackBytes))},
	}
}

func goldenFile(name string) string {
	return filepath.Join(goldenDir, fmt.Sprintf("%s-v%d.hex", name, Version))
}

// TestGoldenPackets: every packet encodes to its file's bytes, and the
// file's bytes decode to the packet and encode again unchanged.
func TestGoldenPackets(t *testing.T) {
	packets := goldenPackets(t)
	if *update {
		require.NoError(t, os.MkdirAll(goldenDir, 0o755))
		for name, p := range packets {
			b, err := Marshal(p)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(goldenFile(name), []byte(hex.EncodeToString(b)+"\n"), 0o644))
		}
	}
	for name, p := range packets {
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(goldenFile(name))
			require.NoError(t, err, "no golden file: a new encoding Version needs -update")
			want, err := hex.DecodeString(strings.TrimSpace(string(text)))
			require.NoError(t, err)
			got, err := Marshal(p)
			require.NoError(t, err)
			require.Equal(t, hex.EncodeToString(want), hex.EncodeToString(got), "encoding changed")
			q, err := Unmarshal(want)
			require.NoError(t, err, "today's code does not read the golden packet")
			require.Empty(t, cmp.Diff(p, q), "decoding changed (-want +got)")
			again, err := Marshal(q)
			require.NoError(t, err)
			require.Equal(t, want, again)
		})
	}
}

// TestGoldenOldVersions: packets of an older encoding version on file are
// refused with ErrVersion, never misread.
func TestGoldenOldVersions(t *testing.T) {
	entries, err := os.ReadDir(goldenDir)
	require.NoError(t, err)
	current := fmt.Sprintf("-v%d.hex", Version)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), current) {
			continue
		}
		text, err := os.ReadFile(filepath.Join(goldenDir, e.Name()))
		require.NoError(t, err)
		b, err := hex.DecodeString(strings.TrimSpace(string(text)))
		require.NoError(t, err)
		_, err = Unmarshal(b)
		require.ErrorIs(t, err, ErrVersion, "%s", e.Name())
	}
}

// TestGoldenEveryType: every packet type that Type.String names has a
// golden packet, so that a new type cannot be added without one.
func TestGoldenEveryType(t *testing.T) {
	have := map[Type]bool{}
	for _, p := range goldenPackets(t) {
		have[p.Type()] = true
	}
	for n := range 256 {
		typ := Type(n)
		if strings.HasPrefix(typ.String(), "Type(") {
			continue
		}
		require.True(t, have[typ], "packet type %v has no golden packet", typ)
	}
	require.Len(t, have, 6)
}
