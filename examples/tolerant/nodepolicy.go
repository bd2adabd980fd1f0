package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"time"

	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/share/policy"
)

// policyFlags are the node's -policy and -approve flags.
type policyFlags struct {
	file     string
	approve  string
	timeout  time.Duration
	noPolicy bool // -insecure-no-policy
}

func (p *policyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.file, "policy", "", "JSON policy file: what this node agrees to sign (kinds, hashes, schemes, subjects, SANs, validity, CA, key usages, rate per distributor)")
	fs.DurationVar(&p.timeout, "approve-timeout", time.Minute, "each request's deadline for the policy and the operator's answer; past it the request is refused")
	fs.BoolVar(&p.noPolicy, "insecure-no-policy", false, "sign every request of a roster distributor without any check, digest-only ones included (tests and demos only)")
	fs.StringVar(&p.approve, "approve", "", "operator confirmation of every request on top of the policy: prompt (shown on stdout, answered yes/no on stdin) or exec:COMMAND (summary as JSON on its stdin, exit 0 approves)")
}

// errNoPolicy is returned by a node started with neither -policy nor
// -insecure-no-policy.
var errNoPolicy = errors.New("-policy FILE is required: what this node agrees to sign " +
	"([0092], [0110], [0113]); -insecure-no-policy signs everything (tests and demos only)")

// approver returns the node's approval hook. A node needs -policy; only
// -insecure-no-policy runs it without one (nil hook, a warning logged):
// every request of a roster distributor is then signed.
func (p *policyFlags) approver(stdin io.Reader, stdout io.Writer, log *slog.Logger) (share.ApproveFunc, error) {
	switch {
	case p.file != "" && p.noPolicy:
		return nil, errors.New("-policy and -insecure-no-policy exclude each other")
	case p.file == "" && !p.noPolicy:
		return nil, errNoPolicy
	case p.file == "":
		if p.approve != "" {
			return nil, errors.New("-approve needs -policy")
		}
		log.Warn("-insecure-no-policy: this node signs every request of a roster distributor")
		return nil, nil
	}
	pol, err := policy.Load(p.file)
	if err != nil {
		return nil, err
	}
	confirm, err := policy.ParseApprove(p.approve, stdin, stdout)
	if err != nil {
		return nil, err
	}
	log.Info("policy loaded", "file", p.file, "kinds", pol.Kinds, "approve", p.approve)
	return pol.Approver(confirm)
}
