package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tolerantca/tolerant/broadcast/audit"
)

const auditUsage = `Usage: tolerant audit verify [-head SEQ:HASH]... FILE...
       tolerant audit head FILE

verify checks the hash chain of every audit log FILE (one per node) and
cross-checks them: every signature a distributor's log released must show
in the logs of t calculators (partial_sent) and of the combiner that
produced it (signed), and every signature a combiner's log produced for a
distributor whose log is given must have been submitted by it. Give the
logs of every node of the cluster. An edited, inserted, deleted or
reordered line is reported with its line number. A log whose last lines
were cut off is a valid shorter chain: it is detected by the cross-check,
or with -head, a head (SEQ:HASH) the node reported earlier, which must be
a line of one of the logs given. Exits 1 on any problem.

head prints the head (SEQ:HASH) of an intact log, to be kept elsewhere as
an anchor.
`

// runAudit implements "tolerant audit".
func runAudit(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, auditUsage)
		return errUsage
	}
	switch args[0] {
	case "verify":
		return runAuditVerify(args[1:], stdout, stderr)
	case "head":
		return runAuditHead(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stderr, auditUsage)
		return nil
	}
	fmt.Fprintf(stderr, "audit: unknown subcommand %q\n\n%s", args[0], auditUsage)
	return errUsage
}

// headList is a repeatable -head flag.
type headList []audit.Head

func (h *headList) String() string { return fmt.Sprint([]audit.Head(*h)) }

func (h *headList) Set(s string) error {
	head, err := audit.ParseHead(s)
	if err != nil {
		return err
	}
	*h = append(*h, head)
	return nil
}

func runAuditVerify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var heads headList
	fs.Var(&heads, "head", "a head SEQ:HASH a node reported earlier; some log given must hold it (repeatable)")
	fs.Usage = func() { fmt.Fprint(fs.Output(), auditUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "audit verify: no FILE given")
		fs.Usage()
		return errUsage
	}
	r := audit.VerifyFiles(fs.Args(), heads)
	if _, err := r.WriteTo(stdout); err != nil {
		return err
	}
	if !r.OK() {
		return fmt.Errorf("audit verify: %w", audit.ErrProblems)
	}
	return nil
}

func runAuditHead(args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 || args[0] == "" || args[0][0] == '-' {
		fmt.Fprint(stderr, auditUsage)
		return errUsage
	}
	f, err := os.Open(args[0])
	if err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	defer f.Close()
	c, err := audit.ReadChain(f)
	if err != nil {
		return fmt.Errorf("audit head: %s: %w", args[0], err)
	}
	fmt.Fprintln(stdout, c.Head)
	return nil
}
