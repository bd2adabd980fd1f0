package testcluster

import (
	"fmt"
	"log/slog"

	"github.com/tolerantca/tolerant/internal/redact"
)

// Options holds a private key, so it prints like the module's other
// secret-holding types: only a description, under every fmt verb, as a
// slog value and as JSON. A test that logs its options never prints d.

// String describes o without its key.
func (o Options) String() string {
	return fmt.Sprintf("testcluster.Options{seed %d, search %t, redundancy %d, plan given %t}",
		o.Seed, o.Search, o.Redundancy, o.Plan != nil)
}

// Format prints only [Options.String], whatever the verb.
func (o Options) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, "testcluster.Options", o.String())
}

// GoString prints only [Options.String].
func (o Options) GoString() string { return redact.GoString("testcluster.Options", o.String()) }

// LogValue keeps the key out of structured logs.
func (o Options) LogValue() slog.Value { return redact.LogValue(o.String()) }

// MarshalJSON encodes only [Options.String].
func (o Options) MarshalJSON() ([]byte, error) { return redact.JSON(o.String()) }
