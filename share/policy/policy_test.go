package policy_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/policy"
)

var caKey = testkeys.Must(testkeys.RSA2048)

// tbsCert returns the TBSCertificate of a certificate for dns, valid days,
// a CA when ca.
func tbsCert(t *testing.T, dns string, days int, ca bool, usage x509.KeyUsage, extra ...string) []byte {
	t.Helper()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: dns, Organization: []string{"Example"}},
		NotBefore: now, NotAfter: now.Add(time.Duration(days) * 24 * time.Hour),
		DNSNames: append([]string{dns}, extra...), IPAddresses: []net.IP{net.ParseIP("192.0.2.1")},
		KeyUsage: usage, BasicConstraintsValid: true, IsCA: ca,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c.RawTBSCertificate
}

func tbsCSR(t *testing.T) []byte {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "csr.example.com"}, DNSNames: []string{"csr.example.com"}}, caKey)
	require.NoError(t, err)
	c, err := x509.ParseCertificateRequest(der)
	require.NoError(t, err)
	return c.RawTBSCertificateRequest
}

func tbsCRL(t *testing.T) []byte {
	issuer := &x509.Certificate{Subject: pkix.Name{CommonName: "CA"}, SubjectKeyId: []byte{1}, KeyUsage: x509.KeyUsageCRLSign}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour)}, issuer, caKey)
	require.NoError(t, err)
	c, err := x509.ParseRevocationList(der)
	require.NoError(t, err)
	return c.RawTBSRevocationList
}

// tbsOCSP returns an RFC 6960 ResponseData responded by key hash.
func tbsOCSP(t *testing.T) []byte {
	keyHash, err := asn1.Marshal([]byte("01234567890123456789"))
	require.NoError(t, err)
	der, err := asn1.Marshal(struct {
		ResponderID asn1.RawValue
		ProducedAt  time.Time `asn1:"generalized"`
		Responses   []asn1.RawValue
	}{
		asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, IsCompound: true, Bytes: keyHash},
		time.Now().UTC().Truncate(time.Second),
		[]asn1.RawValue{{FullBytes: []byte{0x30, 0x00}}},
	})
	require.NoError(t, err)
	return der
}

func request(content []byte) *share.Request {
	sum := sha256.Sum256(content)
	return &share.Request{KeyID: "k", Hash: crypto.SHA256, Digest: sum[:], Scheme: share.PKCS1v15, Content: content}
}

func TestDecodeKinds(t *testing.T) {
	for kind, der := range map[string][]byte{
		policy.KindCertificate: tbsCert(t, "www.example.com", 90, false, x509.KeyUsageDigitalSignature),
		policy.KindCSR:         tbsCSR(t),
		policy.KindCRL:         tbsCRL(t),
		policy.KindOCSP:        tbsOCSP(t),
	} {
		d, err := policy.Decode(der)
		require.NoError(t, err, kind)
		require.Equal(t, kind, d.Kind)
	}
	for _, junk := range [][]byte{nil, []byte("hello"), {0x30, 0x00}, {0x30, 0x03, 0x02, 0x01, 0x00}} {
		_, err := policy.Decode(junk)
		require.ErrorIs(t, err, policy.ErrUnknownContent)
	}
	d, err := policy.Decode(tbsCert(t, "www.example.com", 90, false, x509.KeyUsageDigitalSignature))
	require.NoError(t, err)
	require.Equal(t, []string{"www.example.com", "192.0.2.1"}, d.SANs)
	require.Equal(t, "RSA 2048", d.Key)
	require.Contains(t, d.Subject, "CN=www.example.com")
}

// approve runs the approver of p on req as if from distributor dist.
func approve(t *testing.T, f share.ApproveFunc, dist uint32, req *share.Request) error {
	t.Helper()
	return f(broadcast.WithTask(context.Background(), broadcast.TaskInfo{Distributor: dist}), req)
}

func ruleOf(err error) string {
	var r *policy.Refusal
	if errors.As(err, &r) {
		return r.Rule
	}
	return ""
}

func TestRules(t *testing.T) {
	p, err := policy.Parse([]byte(`{
		"kinds": ["certificate", "crl"],
		"digest_only_distributors": [2],
		"hashes": ["SHA-256"], "schemes": ["PKCS1v15"],
		"subjects": ["CN=[a-z.]+\\.example\\.com,O=Example"],
		"sans": ["*.example.com", "192.0.2.*"],
		"max_validity_days": 398,
		"key_usages": ["digitalSignature", "keyEncipherment"]
	}`))
	require.NoError(t, err)
	f, err := p.Approver(nil)
	require.NoError(t, err)
	good := tbsCert(t, "www.example.com", 90, false, x509.KeyUsageDigitalSignature)
	require.NoError(t, approve(t, f, 1, request(good)))
	require.NoError(t, approve(t, f, 1, request(tbsCRL(t))))

	digestOnly := request(good)
	digestOnly.Content = nil
	pss := request(good)
	pss.Scheme = share.PSS
	sha512 := request(good)
	sha512.Hash = crypto.SHA512
	for _, c := range []struct {
		rule string
		dist uint32
		req  *share.Request
	}{
		{policy.RuleContent, 1, digestOnly},
		{policy.RuleKind, 1, request([]byte("hello"))},
		{policy.RuleKind, 1, request(tbsCSR(t))},
		{policy.RuleHash, 1, sha512},
		{policy.RuleScheme, 1, pss},
		{policy.RuleSubject, 1, request(tbsCert(t, "www.evil.org", 90, false, x509.KeyUsageDigitalSignature))},
		{policy.RuleSAN, 1, request(tbsCert(t, "www.example.com", 90, false, x509.KeyUsageDigitalSignature, "www.evil.org"))},
		{policy.RuleValidity, 1, request(tbsCert(t, "www.example.com", 400, false, x509.KeyUsageDigitalSignature))},
		{policy.RuleCA, 1, request(tbsCert(t, "www.example.com", 90, true, x509.KeyUsageDigitalSignature))},
		{policy.RuleKeyUsage, 1, request(tbsCert(t, "www.example.com", 90, false, x509.KeyUsageCertSign))},
	} {
		err := approve(t, f, c.dist, c.req)
		require.ErrorIs(t, err, share.ErrDeclined, c.rule)
		require.Equal(t, c.rule, ruleOf(err))
		require.NotContains(t, err.Error(), "example", "a refusal says only the rule")
	}
	require.NoError(t, approve(t, f, 2, digestOnly), "distributor 2 may send digests")
	require.Equal(t, policy.RuleTask, ruleOf(f(context.Background(), request(good))), "outside a node")
}

func TestZeroPolicyRefusesEverything(t *testing.T) {
	f, err := (&policy.Policy{}).Approver(nil)
	require.NoError(t, err)
	require.Equal(t, policy.RuleKind, ruleOf(approve(t, f, 1, request(tbsCert(t, "a.example.com", 1, false, 0)))))
	digest := request([]byte("x"))
	digest.Content = nil
	require.Equal(t, policy.RuleContent, ruleOf(approve(t, f, 1, digest)))
}

func TestParseRefusesBadPolicies(t *testing.T) {
	for _, js := range []string{`{"kinds":["pgp"]}`, `{"hashes":["MD5"]}`, `{"unknown":1}`, `{"subjects":["("]}`, `{"sans":["["]}`, `{"key_usages":["everything"]}`, `{"rate_per_minute":-1}`, `[`} {
		_, err := policy.Parse([]byte(js))
		require.Error(t, err, js)
	}
}

func TestRatePerDistributor(t *testing.T) {
	p := &policy.Policy{Kinds: []string{policy.KindCRL}, RatePerMinute: 2}
	f, err := p.Approver(nil)
	require.NoError(t, err)
	req := request(tbsCRL(t))
	require.NoError(t, approve(t, f, 1, req))
	require.NoError(t, approve(t, f, 1, req))
	require.Equal(t, policy.RuleRate, ruleOf(approve(t, f, 1, req)))
	require.NoError(t, approve(t, f, 2, req), "another distributor has its own rate")
}

func TestExecConfirm(t *testing.T) {
	p := &policy.Policy{Kinds: []string{policy.KindCertificate}}
	req := request(tbsCert(t, "www.example.com", 90, false, x509.KeyUsageDigitalSignature))
	ok, err := policy.Exec("grep -q tbs_sha256")
	require.NoError(t, err)
	f, err := p.Approver(ok)
	require.NoError(t, err)
	require.NoError(t, approve(t, f, 1, req), "the program reads the summary and exits 0")
	no, err := policy.Exec("false")
	require.NoError(t, err)
	f, err = p.Approver(no)
	require.NoError(t, err)
	require.Equal(t, policy.RuleConfirm, ruleOf(approve(t, f, 1, req)))
	_, err = policy.ParseApprove("exec:", nil, nil)
	require.Error(t, err)
	_, err = policy.ParseApprove("maybe", nil, nil)
	require.Error(t, err)
}

func TestPromptConfirm(t *testing.T) {
	p := &policy.Policy{Kinds: []string{policy.KindCertificate}}
	req := request(tbsCert(t, "www.example.com", 90, false, x509.KeyUsageDigitalSignature))
	in, answer := io.Pipe()
	out := &promptWriter{asked: make(chan struct{}, 4)}
	confirm, err := policy.ParseApprove("prompt", in, out)
	require.NoError(t, err)
	f, err := p.Approver(confirm)
	require.NoError(t, err)
	// The operator answers once the request is shown.
	reply := func(s string) {
		go func() {
			<-out.asked
			io.WriteString(answer, s)
		}()
	}
	reply("yes\n")
	require.NoError(t, approve(t, f, 1, req))
	reply("no\n")
	require.Equal(t, policy.RuleConfirm, ruleOf(approve(t, f, 1, req)))
	ctx, cancel := context.WithTimeout(broadcast.WithTask(context.Background(), broadcast.TaskInfo{Distributor: 1}), 50*time.Millisecond)
	defer cancel()
	require.Equal(t, policy.RuleConfirm, ruleOf(f(ctx, req)), "no answer in time")
	answer.Close()
	out.mu.Lock()
	defer out.mu.Unlock()
	require.Contains(t, out.b.String(), "www.example.com")
	require.Contains(t, out.b.String(), "tbs_sha256")
}

// promptWriter records what the prompt shows and signals each question.
type promptWriter struct {
	mu    sync.Mutex
	b     strings.Builder
	asked chan struct{}
}

func (w *promptWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.Contains(string(b), "Type yes or no") {
		select {
		case w.asked <- struct{}{}:
		default:
		}
	}
	return w.b.Write(b)
}
