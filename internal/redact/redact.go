// Package redact prints values that hold secrets as a description only, the
// same under every fmt verb, as a slog value and as JSON, so that no secret
// reaches a log or an error message by way of formatting.
package redact

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// Format writes desc whatever the verb and flags: %q quotes it and %#v
// writes [GoString] of typ and desc. It is the body of a [fmt.Formatter].
func Format(f fmt.State, verb rune, typ, desc string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, GoString(typ, desc))
	case verb == 'q':
		io.WriteString(f, strconv.Quote(desc))
	default:
		io.WriteString(f, desc)
	}
}

// GoString is the %#v form of a redacted value: its type and description.
func GoString(typ, desc string) string { return typ + "(" + strconv.Quote(desc) + ")" }

// LogValue is the slog form of a redacted value: its description.
func LogValue(desc string) slog.Value { return slog.StringValue(desc) }

// JSON is the encoding/json form of a redacted value: its description as a
// JSON string, so that a container of secrets encoded by encoding/json (as
// slog's JSON handler does) holds none.
func JSON(desc string) ([]byte, error) { return json.Marshal(desc) }

// Hidden holds a value that fmt never prints, whatever the verb and however
// deep it sits in unexported fields: the value lives in a closure, which fmt
// prints as an address. (A pointer is not enough: under a verb that does not
// fit a pointer, such as %s, fmt prints what an unexported pointer field
// points to.) encoding/json skips it as an unexported field.
type Hidden[T any] struct{ get func() T }

// Hide returns a Hidden holding v.
func Hide[T any](v T) Hidden[T] { return Hidden[T]{get: func() T { return v }} }

// Value returns the value held, or the zero T for the zero Hidden.
func (h Hidden[T]) Value() T {
	if h.get == nil {
		var zero T
		return zero
	}
	return h.get()
}
