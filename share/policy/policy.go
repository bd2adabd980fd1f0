// Package policy is the operator's policy of a calculator or combiner: what
// a node agrees to sign, checked before any secret is used ([0092], [0110],
// [0113]), and the operator's confirmation of each request ([0092]).
//
// A [Policy] is read from JSON ([Parse], [Load]). Its zero value refuses
// everything: each kind of content (certificate, CSR, CRL, OCSP response)
// must be listed to be signed. [Policy.Approver] returns the
// share.ApproveFunc a node is built with; package broadcast passes the
// distributor number of each task to it ([broadcast.TaskFrom]).
//
// Every refusal is a *[Refusal] that names the rule that refused and says
// nothing else: no secret, no content.
package policy

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/share"
)

// Rule names, carried by every [Refusal] and sent to the distributor.
const (
	RuleContent  = "content-required" // a digest-only request from a distributor not allowed to send them
	RuleKind     = "kind"             // content of a kind the policy does not list, or not recognised
	RuleHash     = "hash"             // a hash the policy does not allow
	RuleScheme   = "scheme"           // a signature scheme the policy does not allow
	RuleSubject  = "subject"          // a subject matching no subject pattern
	RuleSAN      = "san"              // a subject alternative name matching no SAN pattern
	RuleValidity = "max-validity"     // a certificate valid longer than allowed
	RuleCA       = "ca"               // a CA certificate, not allowed
	RuleKeyUsage = "key-usage"        // a key usage the policy does not allow
	RuleRate     = "rate"             // the distributor's rate limit is reached
	RuleConfirm  = "operator"         // the operator (prompt or program) said no, or did not answer
	RuleTask     = "task"             // the request did not come through a node of package broadcast
)

// Refusal is a request the policy refused. It wraps share.ErrDeclined.
type Refusal struct {
	Rule string // one of the Rule constants
}

func (r *Refusal) Error() string { return fmt.Sprintf("policy: refused by rule %q", r.Rule) }

// PolicyRule returns the rule's name; package broadcast sends it to the
// distributor with the refusal.
func (r *Refusal) PolicyRule() string { return r.Rule }

// Unwrap returns share.ErrDeclined.
func (r *Refusal) Unwrap() error { return share.ErrDeclined }

func refuse(rule string) error { return &Refusal{Rule: rule} }

// Kinds of content, as written in the policy and in a [Summary].
const (
	KindCertificate = "certificate" // a TBSCertificate (RFC 5280 section 4.1)
	KindCSR         = "csr"         // a CertificationRequestInfo (RFC 2986 section 4.1)
	KindCRL         = "crl"         // a TBSCertList (RFC 5280 section 5.1)
	KindOCSP        = "ocsp"        // a ResponseData (RFC 6960 section 4.2.1)
)

// Policy is what a node agrees to sign. The zero value signs nothing.
type Policy struct {
	// Kinds lists the kinds of content that may be signed: "certificate",
	// "csr", "crl", "ocsp". The kind is detected from the DER content.
	Kinds []string `json:"kinds"`
	// DigestOnly lists the distributors allowed to send requests without
	// content (e.g. for OCSP responses); every other request must carry
	// its content, which is then checked.
	DigestOnly []uint32 `json:"digest_only_distributors,omitempty"`
	// Hashes lists the allowed hashes ("SHA-256", "SHA-384", "SHA-512");
	// empty allows all three.
	Hashes []string `json:"hashes,omitempty"`
	// Schemes lists the allowed schemes ("PKCS1v15", "PSS"); empty allows both.
	Schemes []string `json:"schemes,omitempty"`
	// Subjects are regular expressions (Go syntax, anchored) one of which
	// a certificate's or CSR's subject, as in RFC 2253, must match; empty
	// allows any subject.
	Subjects []string `json:"subjects,omitempty"`
	// SANs are glob patterns (path.Match, e.g. "*.example.com") one of
	// which every DNS name, e-mail address, IP address and URI of a
	// certificate or CSR must match; empty allows any.
	SANs []string `json:"sans,omitempty"`
	// MaxValidityDays bounds a certificate's validity; 0: no bound.
	MaxValidityDays int `json:"max_validity_days,omitempty"`
	// AllowCA allows certificates with the CA basic constraint.
	AllowCA bool `json:"allow_ca,omitempty"`
	// KeyUsages lists the key usages a certificate may have
	// ("digitalSignature", "keyEncipherment", "keyCertSign", ...); empty
	// allows any.
	KeyUsages []string `json:"key_usages,omitempty"`
	// RatePerMinute bounds the requests each distributor gets approved
	// per minute; 0: no bound.
	RatePerMinute int `json:"rate_per_minute,omitempty"`
}

// Parse reads a policy from JSON, refusing unknown fields and values.
func Parse(b []byte) (*Policy, error) {
	var p Policy
	dec := json.NewDecoder(bytesReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if _, err := p.compile(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Load reads a policy file.
func Load(file string) (*Policy, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return Parse(b)
}

// ErrPolicy: the policy itself is invalid.
var ErrPolicy = errors.New("policy: invalid policy")

var hashNames = map[string]crypto.Hash{"SHA-256": crypto.SHA256, "SHA-384": crypto.SHA384, "SHA-512": crypto.SHA512}

var schemeNames = map[string]share.Scheme{"PKCS1v15": share.PKCS1v15, "PSS": share.PSS}

// compiled is a checked policy.
type compiled struct {
	p        *Policy
	hashes   []crypto.Hash
	schemes  []share.Scheme
	subjects []*regexp.Regexp
}

func (p *Policy) compile() (*compiled, error) {
	c := &compiled{p: p}
	for _, k := range p.Kinds {
		if !slices.Contains([]string{KindCertificate, KindCSR, KindCRL, KindOCSP}, k) {
			return nil, fmt.Errorf("%w: unknown kind %q", ErrPolicy, k)
		}
	}
	for _, h := range p.Hashes {
		v, ok := hashNames[h]
		if !ok {
			return nil, fmt.Errorf("%w: unknown hash %q", ErrPolicy, h)
		}
		c.hashes = append(c.hashes, v)
	}
	for _, s := range p.Schemes {
		v, ok := schemeNames[s]
		if !ok {
			return nil, fmt.Errorf("%w: unknown scheme %q", ErrPolicy, s)
		}
		c.schemes = append(c.schemes, v)
	}
	for _, s := range p.Subjects {
		re, err := regexp.Compile("^(?:" + s + ")$")
		if err != nil {
			return nil, fmt.Errorf("%w: subject pattern %q: %v", ErrPolicy, s, err)
		}
		c.subjects = append(c.subjects, re)
	}
	for _, s := range p.SANs {
		if _, err := path.Match(s, ""); err != nil {
			return nil, fmt.Errorf("%w: SAN pattern %q: %v", ErrPolicy, s, err)
		}
	}
	for _, u := range p.KeyUsages {
		if _, ok := keyUsageNames[u]; !ok {
			return nil, fmt.Errorf("%w: unknown key usage %q", ErrPolicy, u)
		}
	}
	if p.MaxValidityDays < 0 || p.RatePerMinute < 0 {
		return nil, fmt.Errorf("%w: negative bound", ErrPolicy)
	}
	return c, nil
}

// Confirm asks the operator about one request ([0092]); nil confirms.
type Confirm func(ctx context.Context, s *Summary) error

// Approver returns the approval hook of the policy: every request is
// checked against the rules, counted against its distributor's rate, and
// then, when confirm is not nil, shown to the operator. It fails only when
// the policy is invalid. For the node's events ([broadcast.NoteApproval])
// the hook names the kind of content (or "digest-only") as the rule that
// accepted a request, and "operator" as its approver when confirm is set.
func (p *Policy) Approver(confirm Confirm) (share.ApproveFunc, error) {
	c, err := p.compile()
	if err != nil {
		return nil, err
	}
	rl := &rateLimiter{per: p.RatePerMinute, seen: map[uint32][]time.Time{}}
	return func(ctx context.Context, req *share.Request) error {
		ti, ok := broadcast.TaskFrom(ctx)
		if !ok {
			return refuse(RuleTask)
		}
		s, err := c.check(ti.Distributor, req)
		if err != nil {
			return err
		}
		if !rl.allow(ti.Distributor, time.Now()) {
			return refuse(RuleRate)
		}
		broadcast.NoteApproval(ctx, s.Kind, "") // the rule that accepted: the kind listed, or digest-only
		if confirm != nil {
			broadcast.NoteApproval(ctx, "", RuleConfirm)
			if err := confirm(ctx, s); err != nil {
				return refuse(RuleConfirm)
			}
		}
		return nil
	}, nil
}

// check applies the rules to req from distributor dist.
func (c *compiled) check(dist uint32, req *share.Request) (*Summary, error) {
	if len(c.hashes) > 0 && !slices.Contains(c.hashes, req.Hash) {
		return nil, refuse(RuleHash)
	}
	if len(c.schemes) > 0 && !slices.Contains(c.schemes, req.Scheme) {
		return nil, refuse(RuleScheme)
	}
	if req.Content == nil {
		if !slices.Contains(c.p.DigestOnly, dist) {
			return nil, refuse(RuleContent)
		}
		return summaryOf(dist, req, nil), nil
	}
	d, err := Decode(req.Content)
	if err != nil || !slices.Contains(c.p.Kinds, d.Kind) {
		return nil, refuse(RuleKind)
	}
	if err := c.checkDecoded(d); err != nil {
		return nil, err
	}
	return summaryOf(dist, req, d), nil
}

// rateLimiter counts approvals per distributor over the last minute.
type rateLimiter struct {
	mu   sync.Mutex
	per  int
	seen map[uint32][]time.Time
}

func (r *rateLimiter) allow(dist uint32, now time.Time) bool {
	if r.per == 0 {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ts := r.seen[dist]
	cut := 0
	for cut < len(ts) && now.Sub(ts[cut]) >= time.Minute {
		cut++
	}
	ts = ts[cut:]
	if len(ts) >= r.per {
		r.seen[dist] = ts
		return false
	}
	r.seen[dist] = append(ts, now)
	return true
}
