package combine

import (
	"fmt"
	"log/slog"

	"github.com/tolerantca/tolerant/internal/redact"
)

// A Combiner holds every |c_a| of its key. It prints only a description of
// itself: the same under every fmt verb, by value and by pointer, as a slog
// value and as JSON.

// String describes the combiner without its second sub-keys.
func (c Combiner) String() string {
	if c.key == nil {
		return "combiner (no key)"
	}
	return fmt.Sprintf("combiner %d of key %s (epoch %d, %d representations)", c.key.Number, c.key.KeyID, c.key.Epoch, len(c.entries))
}

// Format prints only [Combiner.String], whatever the verb.
func (c Combiner) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, "combine.Combiner", c.String())
}

// GoString prints only [Combiner.String].
func (c Combiner) GoString() string { return redact.GoString("combine.Combiner", c.String()) }

// LogValue keeps the second sub-keys out of structured logs.
func (c Combiner) LogValue() slog.Value { return redact.LogValue(c.String()) }

// MarshalJSON encodes only [Combiner.String].
func (c Combiner) MarshalJSON() ([]byte, error) { return redact.JSON(c.String()) }
