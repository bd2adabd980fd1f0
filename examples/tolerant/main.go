// Command tolerant shows the tolerant library at work: it splits an RSA CA
// key over two layers of nodes (calculators and combiners, the patent's
// [0041]-[0042]), runs the cluster in one process or as separate processes
// on separate hosts over NATS, and signs certificates and files with it.
//
// Usage:
//
//	tolerant demo   [-k 5 -t 3 -l 2] [-bits 2048] [-tasks N] [-loss P] [-down N] [-combiners-down N] [-liars N] [-json] [-nats URL|auto] [-out DIR]
//	tolerant plan   -k K -t T -l L
//	tolerant check  PLAN.json
//	tolerant keygen -out FILE
//	tolerant deal   -key KEY.pem (-k K -t T -l L [-r R] [-pairs] | -plan FILE) -recipients FILE -passphrase-file FILE -out DIR
//	tolerant extend -cluster DIR -out NEWDIR -recipients FILE -passphrase-file FILE
//	tolerant retire -cluster DIR -calculator J -out NEWDIR -recipients FILE -passphrase-file FILE
//	tolerant refresh -cluster DIR -out NEWDIR -recipients FILE -passphrase-file FILE
//	tolerant combiner add -cluster DIR [-copy A] -out NEWDIR -recipients FILE -passphrase-file FILE
//	tolerant combiner remove -cluster DIR -combiner A -out NEWDIR -recipients FILE -passphrase-file FILE
//	tolerant sign   -cluster DIR -in FILE [-hash sha256|sha384|sha512] [-pss] -out SIG
//	tolerant sign   -nats URL -cluster DIR -identity FILE -in FILE [-hash ...] [-pss] -out SIG
//	tolerant issue  -nats URL -cluster DIR -identity FILE -cn NAME (-self-signed | -ca ROOT.pem) -out CERT.pem
//	tolerant node   -role calculator|combiner -bundle FILE [-bundle FILE ...] -identity FILE -nats URL [-health ADDR] [-cutover TIME]
//	tolerant broker [-listen 127.0.0.1:4222] [-tls-cert FILE -tls-key FILE] [-users FILE]
//	tolerant pkcs11-config -cluster DIR -identity FILE -nats URL -pin-file FILE -out CONF
//	tolerant audit verify [-head SEQ:HASH] FILE...
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
                 [-combiners-down N] [-liars N] [-json] [-nats URL|auto] [-out DIR]
        generate a key, deal it, run the cluster (in-process, or with -nats
        every node as its own process over NATS; auto starts an embedded
        server), issue and verify a root and N leaf certificates
        (concurrently), with the faults asked for, and tell what happened;
        -json prints only a summary; exits non-zero when a task failed that
        should not have
  tolerant plan  -k K -t T -l L
        print the combiner plan as JSON (no secrets)
  tolerant check PLAN.json
        check a plan: coverage and combiner security
  tolerant keygen -out FILE
        make this host's node identity (age X25519); prints the recipient
        to send to the dealer
  tolerant deal  -key KEY.pem (-k K -t T -l L [-r R] [-pairs] | -plan FILE)
                 -out DIR (-recipients FILE -passphrase-file FILE |
                 -insecure-plaintext-keys)
        split an existing RSA key (PKCS#1 or PKCS#8 PEM) and write every
        node's bundle, sealed to its recipient, the public files and the
        dealer's state, sealed to a passphrase, to DIR
  tolerant extend -cluster DIR -out NEWDIR (-recipients FILE
                 [-passphrase-file FILE] | -insecure-plaintext-keys)
        add calculator k+1 from the dealer's state alone ([0054] point 2):
        existing representations and second sub-keys stay valid
  tolerant retire -cluster DIR -calculator J -out NEWDIR (-recipients FILE
                 [-passphrase-file FILE] | -insecure-plaintext-keys)
        take calculator J out of service ([0054] point 3): its
        representations are dropped, nothing is renumbered
  tolerant refresh -cluster DIR -out NEWDIR (-recipients FILE
                 [-passphrase-file FILE] | -insecure-plaintext-keys)
        new shares and second sub-keys for the next epoch from the
        dealer's state alone, the same public key
  tolerant combiner add -cluster DIR [-copy A] -out NEWDIR (...)
  tolerant combiner remove -cluster DIR -combiner A -out NEWDIR
                 [-insecure-below-redundancy] (...)
        put a new combiner in service (serving what combiner A serves) or
        take combiner A out of service; numbers are never reused
  tolerant sign  -cluster DIR -in FILE [-hash sha256|sha384|sha512] [-pss] -out SIG
        sign FILE with an in-process cluster loaded from DIR; verify with
        openssl dgst -sha256 -verify DIR/public.pem -signature SIG FILE
  tolerant sign  -nats URL -cluster DIR -identity FILE -in FILE [-hash ..] [-pss] -out SIG
        the same as a task distributor of a cluster running on NATS
  tolerant issue -nats URL -cluster DIR -identity FILE -cn NAME
                 (-self-signed | -ca ROOT.pem) -out CERT.pem [-count N]
        issue the cluster's self-signed root, or leaves for fresh ECDSA keys
        (written next to CERT.pem), as a task distributor on NATS
  tolerant node  -role calculator|combiner -bundle FILE [-bundle FILE ...]
                 -identity FILE -nats URL [-health ADDR] [-cutover TIME]
                 [-tls-ca FILE] [-creds FILE | -user U -password-file F]
        run a calculator or combiner of every bundle (several keys, or two
        epochs of one key until -cutover) until SIGINT/SIGTERM; JSON logs
        on stderr; GET ADDR/healthz answers 200 while connected and running
  tolerant broker [-listen 127.0.0.1:4222] [-tls-cert FILE -tls-key FILE] [-users FILE]
        run an embedded NATS server until SIGINT/SIGTERM
  tolerant pkcs11-config -cluster DIR -identity FILE -nats URL [NATS flags]
                 -pin-file FILE -out CONF
        write the configuration of the PKCS #11 module
        (examples/tolerant-pkcs11) for one distributor; the PIN only as a
        slow hash
  tolerant audit verify [-head SEQ:HASH]... FILE...
        check the hash chains of nodes' audit logs and cross-check them:
        every released signature has t calculators' and a combiner's
        entries; exits 1 on any problem ("tolerant audit head FILE" prints
        a log's head, to keep as an anchor)

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
	case "keygen":
		return runKeygen(rest, stdout, stderr)
	case "extend":
		return runExtend(rest, stdout, stderr)
	case "retire":
		return runRetire(rest, stdout, stderr)
	case "refresh":
		return runRefresh(rest, stdout, stderr)
	case "combiner":
		return runCombiner(rest, stdout, stderr)
	case "sign":
		return runSignDispatch(rest, stdout, stderr)
	case "issue":
		return runIssue(rest, stdout, stderr)
	case "node":
		return runNode(rest, stdout, stderr)
	case "broker":
		return runBroker(rest, stdout, stderr)
	case "pkcs11-config":
		return runPKCS11Config(rest, stdout, stderr)
	case "audit":
		return runAudit(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "tolerant: unknown command %q\n\n%s", cmd, usage)
	return errUsage
}
