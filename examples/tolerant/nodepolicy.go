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
	file    string
	approve string
	timeout time.Duration
}

func (p *policyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.file, "policy", "", "JSON policy file: what this node agrees to sign (kinds, hashes, schemes, subjects, SANs, validity, CA, key usages, rate per distributor)")
	fs.DurationVar(&p.timeout, "approve-timeout", time.Minute, "each request's deadline for the policy and the operator's answer; past it the request is refused")
	fs.StringVar(&p.approve, "approve", "", "operator confirmation of every request on top of the policy: prompt (shown on stdout, answered yes/no on stdin) or exec:COMMAND (summary as JSON on its stdin, exit 0 approves)")
}

// approver returns the node's approval hook. Without -policy it returns
// nil and logs a warning: every request of a roster distributor is then
// signed ([0092], [0110], [0113] ask for a check at both layers).
func (p *policyFlags) approver(stdin io.Reader, stdout io.Writer, log *slog.Logger) (share.ApproveFunc, error) {
	if p.file == "" {
		if p.approve != "" {
			return nil, errors.New("-approve needs -policy")
		}
		log.Warn("no -policy: this node signs every request of a roster distributor")
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
