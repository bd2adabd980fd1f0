package testcluster

import (
	"fmt"
	"log/slog"

	"github.com/tolerantca/tolerant/internal/redact"
)

// Options and WholeKey hold a private key, so they print like the module's other
// secret-holding types: only a description, under every fmt verb, as a
// slog value and as JSON. A test that logs them never prints d.

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

// String describes w without its key.
func (w WholeKey) String() string {
	if w.Key == nil {
		return "testcluster.WholeKey{no key}"
	}
	return fmt.Sprintf("testcluster.WholeKey{%d-bit key}", w.Key.N.BitLen())
}

// Format prints only [WholeKey.String], whatever the verb.
func (w WholeKey) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, "testcluster.WholeKey", w.String())
}

// GoString prints only [WholeKey.String].
func (w WholeKey) GoString() string { return redact.GoString("testcluster.WholeKey", w.String()) }

// LogValue keeps the key out of structured logs.
func (w WholeKey) LogValue() slog.Value { return redact.LogValue(w.String()) }

// MarshalJSON encodes only [WholeKey.String].
func (w WholeKey) MarshalJSON() ([]byte, error) { return redact.JSON(w.String()) }
