// Command tolerant shows the tolerant library at work: it splits an RSA CA
// key over two layers of nodes (calculators and combiners, the patent's
// [0041]-[0042]), runs the whole cluster in one process, and signs
// certificates and files with it.
//
// Usage:
//
//	tolerant demo  [-k 5 -t 3 -l 2] [-bits 2048] [-tasks N] [-loss P] [-down N] [-combiners-down N] [-liars N] [-json] [-out DIR]
//	tolerant plan  -k K -t T -l L
//	tolerant check PLAN.json
//	tolerant deal  -key KEY.pem -k K -t T -l L -out DIR -insecure-plaintext-keys
//	tolerant sign  -cluster DIR -in FILE [-hash sha256|sha384|sha512] [-pss] -out SIG
//
// Run "tolerant help" or "tolerant CMD -h" for details.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// errUsage marks a command line that could not be understood; the usage has
// already been printed.
var errUsage = errors.New("usage error")

const usage = `tolerant: a certificate authority key split over calculators and combiners.

Usage:
  tolerant demo  [-k 5 -t 3 -l 2] [-bits 2048] [-tasks N] [-loss P] [-down N]
                 [-combiners-down N] [-liars N] [-json] [-out DIR]
        generate a key, deal it, run the cluster in-process, issue and
        verify a root and N leaf certificates (concurrently), with the
        faults asked for, and tell what happened; -json prints only a
        summary; exits non-zero when a task failed that should not have
  tolerant plan  -k K -t T -l L
        print the combiner plan as JSON (no secrets)
  tolerant check PLAN.json
        check a plan: coverage and combiner security
  tolerant deal  -key KEY.pem -k K -t T -l L -out DIR -insecure-plaintext-keys
        split an existing RSA key (PKCS#1 or PKCS#8 PEM) and write every
        node's key material, the plan and the public key to DIR
  tolerant sign  -cluster DIR -in FILE [-hash sha256|sha384|sha512] [-pss] -out SIG
        sign FILE with an in-process cluster loaded from DIR; verify with
        openssl dgst -sha256 -verify DIR/public.pem -signature SIG FILE

Run "tolerant CMD -h" for the flags of a command.
`

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "tolerant:", err)
		os.Exit(1)
	}
}

// run executes one subcommand. It writes results to stdout and usage and
// diagnostics to stderr, and never exits the process.
func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "demo":
		return runDemo(rest, stdout, stderr)
	case "plan":
		return runPlan(rest, stdout)
	case "check":
		return runCheck(rest, stdout)
	case "deal":
		return runDeal(rest, stdout, stderr)
	case "sign":
		return runSign(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "tolerant: unknown command %q\n\n%s", cmd, usage)
	return errUsage
}
