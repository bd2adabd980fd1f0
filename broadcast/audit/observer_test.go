package audit_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/audit"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/policy"
)

// tbsRequest returns the request to sign a TBSCertificate for cn, valid
// for days, and the TBS.
func tbsRequest(t *testing.T, cn string, serial int64, days int) (*share.Request, []byte) {
	t.Helper()
	issuer, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Now().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: now, NotAfter: now.Add(time.Duration(days) * 24 * time.Hour),
		DNSNames: []string{cn},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &issuer.PublicKey, issuer)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	tbs := cert.RawTBSCertificate
	sum := sha256.Sum256(tbs)
	return &share.Request{Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15, Content: tbs}, tbs
}

var roles = map[share.Role]audit.Role{
	share.RoleCalculator: audit.RoleCalculator, share.RoleCombiner: audit.RoleCombiner, share.RoleDistributor: audit.RoleDistributor,
}

// auditedCluster is a Local cluster whose every node writes its audit log
// in dir, with the calculators applying a policy.
type auditedCluster struct {
	*broadcast.Local
	dir   string
	mu    sync.Mutex
	ws    map[string]*audit.Writer
	obs   map[string]*audit.Observer
	paths []string
}

func startAudited(t *testing.T, d *share.Dealing) *auditedCluster {
	t.Helper()
	c := &auditedCluster{dir: t.TempDir(), ws: map[string]*audit.Writer{}, obs: map[string]*audit.Observer{}}
	pol := &policy.Policy{Kinds: []string{policy.KindCertificate}, DigestOnly: []uint32{1}, MaxValidityDays: 30}
	approve, err := pol.Approver(nil)
	require.NoError(t, err)
	m := d.Distributors[0].Meta
	c.Local, err = broadcast.StartLocal(context.Background(), d, &broadcast.LocalOptions{
		Approve: approve,
		Observer: func(role share.Role, number int) broadcast.Observer {
			name := fmt.Sprintf("%s-%d", roles[role], number)
			path := filepath.Join(c.dir, name+".jsonl")
			w, err := audit.OpenWriter(path, audit.Header{
				Role: roles[role], Number: number,
				Keys: []audit.KeyInfo{{KeyID: m.KeyID, Epoch: m.Epoch, T: m.T}},
			})
			require.NoError(t, err)
			c.mu.Lock()
			defer c.mu.Unlock()
			c.ws[name], c.obs[name] = w, audit.NewObserver(w)
			c.paths = append(c.paths, path)
			return c.obs[name]
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { c.close(t) })
	return c
}

// close stops the cluster and closes the logs, checking that every append
// succeeded, and returns the heads.
func (c *auditedCluster) close(t *testing.T) []audit.Head {
	c.Local.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	var heads []audit.Head
	for name, w := range c.ws {
		require.NoError(t, c.obs[name].Err(), name)
		require.Zero(t, c.obs[name].Failures(), name)
		heads = append(heads, w.Head())
		require.NoError(t, w.Close())
	}
	return heads
}

func (c *auditedCluster) path(name string) string { return filepath.Join(c.dir, name+".jsonl") }

func readChain(t *testing.T, path string) *audit.Chain {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	ch, err := audit.ReadChain(f)
	require.NoError(t, err)
	return ch
}

// entries returns the entries of kind k of task in the log at path.
func entries(t *testing.T, path string, k audit.Kind, task uint64) []audit.Event {
	var out []audit.Event
	for _, e := range readChain(t, path).Entries {
		if e.Event.Kind == k && e.Event.Task == task {
			out = append(out, e.Event)
		}
	}
	return out
}

func requireOK(t *testing.T, r *audit.Report) {
	t.Helper()
	if !r.OK() {
		var b strings.Builder
		r.WriteTo(&b)
		require.FailNow(t, "audit logs do not verify", b.String())
	}
}

// TestClusterAuditLogs: every node of a cluster writes its audit log
// through audit.Observer while it signs two certificates and a digest-only
// request and refuses a certificate by policy; the logs verify and
// cross-check, name the content, the certificate, the rule and the
// signature, hold no secret, and a truncated or edited log is detected.
func TestClusterAuditLogs(t *testing.T) {
	d := testcluster.Deal(t, 5, 3, 2, nil)
	c := startAudited(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dist := c.Distributor()

	certReq, tbs := tbsRequest(t, "www.example.com", 4242, 10)
	cert, err := dist.SignDetailed(ctx, certReq)
	require.NoError(t, err)
	second, _ := tbsRequest(t, "mail.example.com", 4243, 20)
	_, err = dist.SignDetailed(ctx, second)
	require.NoError(t, err)
	sum := sha256.Sum256([]byte("an OCSP response"))
	digestOnly, err := dist.SignDetailed(ctx, &share.Request{Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15})
	require.NoError(t, err)
	long, _ := tbsRequest(t, "long.example.com", 4244, 400)
	_, err = dist.SignDetailed(ctx, long)
	require.ErrorIs(t, err, broadcast.ErrRefused)
	var se *broadcast.SignError
	require.ErrorAs(t, err, &se)
	heads := c.close(t)

	r := audit.VerifyFiles(c.paths, heads)
	requireOK(t, r)
	require.Equal(t, 3, r.Releases)

	// The distributor's release names the signature; the calculators'
	// entries name the content and the certificate, and the rules.
	rel := entries(t, c.path("distributor-1"), audit.KindReleased, cert.Task)
	require.Len(t, rel, 1)
	require.Equal(t, audit.ContentSHA256(cert.Signature), rel[0].SignatureSHA256)
	require.Equal(t, audit.ContentSHA256(tbs), rel[0].ContentSHA256)
	require.Equal(t, cert.Combiner, rel[0].Combiner)
	require.Equal(t, audit.RepOf(cert.Rep), rel[0].Rep)
	for _, j := range cert.Calculators {
		name := fmt.Sprintf("calculator-%d", j)
		acc := entries(t, c.path(name), audit.KindAccepted, cert.Task)
		require.Len(t, acc, 1, name)
		require.Equal(t, policy.KindCertificate, acc[0].Rule)
		require.NotNil(t, acc[0].Cert, name)
		require.Equal(t, "CN=www.example.com", acc[0].Cert.Subject)
		require.Equal(t, "1092", acc[0].Cert.Serial)
		sent := entries(t, c.path(name), audit.KindPartialSent, cert.Task)
		require.NotEmpty(t, sent, name)
		require.Equal(t, j, sent[0].Rep[0].J)
		require.Equal(t, audit.ContentSHA256(tbs), sent[0].ContentSHA256, "a partial names its content")
		require.NotNil(t, sent[0].Cert)
	}
	signed := entries(t, c.path(fmt.Sprintf("combiner-%d", cert.Combiner)), audit.KindSigned, cert.Task)
	require.Len(t, signed, 1)
	require.Equal(t, audit.ContentSHA256(tbs), signed[0].ContentSHA256)
	require.Equal(t, "CN=www.example.com", signed[0].Cert.Subject)

	acc := entries(t, c.path(fmt.Sprintf("calculator-%d", digestOnly.Calculators[0])), audit.KindAccepted, digestOnly.Task)
	require.Len(t, acc, 1)
	require.Equal(t, "digest-only", acc[0].Rule)
	require.Equal(t, hex.EncodeToString(sum[:]), acc[0].ContentSHA256)
	require.Nil(t, acc[0].Cert)

	refused := 0
	for j := 1; j <= 5; j++ {
		for _, e := range entries(t, c.path(fmt.Sprintf("calculator-%d", j)), audit.KindRefused, se.Task) {
			refused++
			require.Equal(t, policy.RuleValidity, e.Rule)
			require.Contains(t, e.Reason, "policy")
			require.Equal(t, "CN=long.example.com", e.Cert.Subject)
		}
	}
	require.GreaterOrEqual(t, refused, 3, "k-t+1 refusals end the task")
	failed := entries(t, c.path("distributor-1"), audit.KindFailed, se.Task)
	require.Len(t, failed, 1)
	require.NotEmpty(t, failed[0].Reason)

	requireNoSecret(t, d, c.paths)

	t.Run("truncated", func(t *testing.T) {
		// Cut a calculator's log before its partial for the certificate:
		// the release lacks it, and the head reported is missing.
		name := fmt.Sprintf("calculator-%d", cert.Calculators[0])
		ls := splitLines(t, c.path(name))
		cut := slices.IndexFunc(ls, func(l []byte) bool {
			return bytes.Contains(l, []byte(`"partial_sent"`)) && bytes.Contains(l, fmt.Appendf(nil, `"task":%d,`, cert.Task))
		})
		require.Positive(t, cut)
		paths := replaced(t, c.paths, c.path(name), ls[:cut])
		r := audit.VerifyFiles(paths, nil)
		require.False(t, r.OK(), "cross-check")
		require.Contains(t, strings.Join(r.Problems, "\n"), fmt.Sprintf("calculator %d's log shows no partial", cert.Calculators[0]))
		require.False(t, audit.VerifyFiles(paths, heads).OK(), "against the heads")
	})
	t.Run("edited", func(t *testing.T) {
		// Change the signature hash of the distributor's release.
		ls := splitLines(t, c.path("distributor-1"))
		at := slices.IndexFunc(ls, func(l []byte) bool { return bytes.Contains(l, []byte(`"released"`)) })
		require.Positive(t, at)
		require.Less(t, at, len(ls)-1, "not the last line")
		edited := slices.Clone(ls)
		edited[at] = bytes.Replace(ls[at], []byte(rel[0].SignatureSHA256[:8]), []byte("00000000"), 1)
		paths := replaced(t, c.paths, c.path("distributor-1"), edited)
		r := audit.VerifyFiles(paths, nil)
		require.False(t, r.OK())
		for _, f := range r.Files {
			if strings.HasSuffix(f.Path, "distributor-1.jsonl") {
				require.ErrorIs(t, f.Err, audit.ErrBroken)
			}
		}
	})
}

// requireNoSecret fails when a log holds a d_ji or a c_a, in hexadecimal
// or decimal, or a node's private key.
func requireNoSecret(t *testing.T, d *share.Dealing, paths []string) {
	t.Helper()
	var secrets []string
	add := func(x *big.Int) {
		a := new(big.Int).Abs(x)
		secrets = append(secrets, a.Text(16), strings.ToUpper(a.Text(16)), a.Text(10), hex.EncodeToString(a.Bytes()))
	}
	for _, ck := range d.Calculators {
		for _, s := range ck.Shares {
			add(s)
		}
		secrets = append(secrets, hex.EncodeToString(ck.NodeKey.Private))
	}
	for _, ck := range d.Combiners {
		for _, e := range ck.Entries {
			add(e.C)
		}
		secrets = append(secrets, hex.EncodeToString(ck.NodeKey.Private))
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		lower := bytes.ToLower(b)
		for _, s := range secrets {
			// Any 32 digits of a secret would do; the whole is checked in
			// pieces so that a partial leak is found too.
			for i := 0; i+32 <= len(s); i += 32 {
				piece := []byte(s[i : i+32])
				require.False(t, bytes.Contains(b, piece) || bytes.Contains(lower, bytes.ToLower(piece)), "%s holds a secret", p)
			}
		}
	}
}

func splitLines(t *testing.T, path string) [][]byte {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return bytes.SplitAfter(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

// replaced returns paths with old replaced by a copy holding lines.
func replaced(t *testing.T, paths []string, old string, lines [][]byte) []string {
	t.Helper()
	p := filepath.Join(t.TempDir(), filepath.Base(old))
	b := bytes.Join(lines, nil)
	if !bytes.HasSuffix(b, []byte("\n")) {
		b = append(b, '\n')
	}
	require.NoError(t, os.WriteFile(p, b, 0o600))
	out := slices.Clone(paths)
	out[slices.Index(out, old)] = p
	return out
}

// TestObserverAppendFailure: an append that fails is remembered and
// counted, never silent, and the node goes on.
func TestObserverAppendFailure(t *testing.T) {
	w, err := audit.OpenWriter(filepath.Join(t.TempDir(), "c.jsonl"), audit.Header{
		Role: audit.RoleCalculator, Number: 1, Keys: []audit.KeyInfo{{KeyID: "k", Epoch: 1, T: 2}},
	})
	require.NoError(t, err)
	o := audit.NewObserver(w)
	o.Observe(&broadcast.Event{Kind: broadcast.EventTaskSeen, KeyID: "k", Epoch: 1, Distributor: 1, Task: 1})
	require.NoError(t, o.Err())
	require.NoError(t, w.Close())
	for range 2 {
		o.Observe(&broadcast.Event{Kind: broadcast.EventAccepted, KeyID: "k", Epoch: 1, Distributor: 1, Task: 1})
	}
	require.ErrorIs(t, o.Err(), audit.ErrClosed)
	require.Equal(t, uint64(2), o.Failures())

	none := audit.NewObserver(nil)
	none.Observe(&broadcast.Event{Kind: broadcast.EventTaskSeen})
	require.ErrorIs(t, none.Err(), audit.ErrClosed)
}

// TestEventOf: every kind of event but dropped has its audit kind; the
// fields are carried over, text bounded.
func TestEventOf(t *testing.T) {
	for k := broadcast.EventTaskSeen; k <= broadcast.EventFailed; k++ {
		e, ok := audit.EventOf(&broadcast.Event{Kind: k})
		if k == broadcast.EventDropped {
			require.False(t, ok)
			continue
		}
		require.True(t, ok, "%v", k)
		require.Equal(t, k.String(), string(e.Kind), "the names agree")
	}
	_, ok := audit.EventOf(&broadcast.Event{Kind: broadcast.EventFailed + 1})
	require.False(t, ok)

	sig := []byte("signature")
	e, ok := audit.EventOf(&broadcast.Event{
		Kind: broadcast.EventVerified, KeyID: "k", Epoch: 2, Distributor: 3, Task: 4,
		Err: broadcast.ErrBadSignature, Combiner: 2, Signature: sig,
		Request: &share.Request{Hash: crypto.SHA384, Digest: make([]byte, 48)},
	})
	require.True(t, ok)
	require.Equal(t, audit.ResultInvalid, e.Result)
	require.Equal(t, broadcast.ErrBadSignature.Error(), e.Reason)
	require.Equal(t, audit.ContentSHA256(sig), e.SignatureSHA256)
	require.Empty(t, e.ContentSHA256, "a SHA-384 digest is no SHA-256 of the content")
	require.Equal(t, "k", e.KeyID)

	long := &broadcast.Event{Kind: broadcast.EventRefused, Rule: strings.Repeat("r", 1000), Err: fmt.Errorf("%s\x00", strings.Repeat("x", 1000))}
	e, _ = audit.EventOf(long)
	require.LessOrEqual(t, len(e.Rule), audit.MaxText)
	require.LessOrEqual(t, len(e.Reason), audit.MaxText)
	require.NotContains(t, e.Reason, "\x00")
}
