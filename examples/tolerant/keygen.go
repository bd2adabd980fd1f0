package main

import (
	"flag"
	"fmt"
	"io"

	"filippo.io/age"

	"github.com/tolerantca/tolerant/share/seal"
)

// runKeygen implements
//
//	keygen -out FILE
//	keygen -y FILE
//
// The first writes a new age X25519 identity to FILE (mode 0600, never
// overwriting) and prints its recipient (age1...) on stdout: the operator
// runs it on each node host and sends the recipient, never the file, to the
// dealer. The second prints the recipient of an existing identity file.
func runKeygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	out := fs.String("out", "", "file to write the new identity to: mode 0600, must not exist")
	show := fs.String("y", "", "print the recipient of this existing identity file instead")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `Usage: tolerant keygen -out FILE
       tolerant keygen -y FILE

Writes a new node identity (an age X25519 key) to FILE, readable by its owner
only, and prints its recipient (age1...) on stdout. Run it on each node host;
send the recipient to the dealer as a line "calculator J age1...",
"combiner A age1..." or "distributor N age1..." of the recipients file for
"tolerant deal -recipients". The identity file never leaves the host.

Flags:`)
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return err
	}
	switch {
	case (*out == "") == (*show == ""):
		fmt.Fprintln(stderr, "keygen: give exactly one of -out and -y")
		fs.Usage()
		return errUsage
	case *show != "":
		id, err := seal.ReadIdentityFile(*show)
		if err != nil {
			return fmt.Errorf("keygen: %w", err)
		}
		fmt.Fprintln(stdout, id.Recipient())
		return nil
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	if err := seal.WriteIdentityFile(*out, id); err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Fprintln(stdout, id.Recipient())
	fmt.Fprintf(stderr, "keygen: wrote a new identity to %s (mode 0600); send the recipient above to the dealer, never the file\n", *out)
	return nil
}
