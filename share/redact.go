package share

import (
	"fmt"
	"log/slog"

	"github.com/tolerantca/tolerant/internal/redact"
)

// Every type here holds a secret (d, a d_ji, a c_a, a node's signing key)
// and prints only a description of itself: the same under every fmt verb,
// by value and by pointer, as a slog value and as JSON. The methods have
// value receivers so that a value prints as safely as a pointer; Marshal
// and MarshalState, not encoding/json, write key material.

// String describes the dealer without its secrets.
func (dl Dealer) String() string {
	return fmt.Sprintf("share.Dealer{key %s, epoch %d, k=%d t=%d l=%d, %d-bit shares}", dl.keyID, dl.epoch, dl.k, dl.t, dl.l, dl.shareBits)
}

// Format prints only [Dealer.String], whatever the verb.
func (dl Dealer) Format(f fmt.State, verb rune) { redact.Format(f, verb, "share.Dealer", dl.String()) }

// GoString prints only [Dealer.String].
func (dl Dealer) GoString() string { return redact.GoString("share.Dealer", dl.String()) }

// LogValue keeps the dealer's secrets out of structured logs.
func (dl Dealer) LogValue() slog.Value { return redact.LogValue(dl.String()) }

// MarshalJSON encodes only [Dealer.String]; [Dealer.MarshalState] encodes the state.
func (dl Dealer) MarshalJSON() ([]byte, error) { return redact.JSON(dl.String()) }

// String describes the key without its shares.
func (ck CalculatorKey) String() string {
	return fmt.Sprintf("calculator %d of key %s (epoch %d, k=%d t=%d l=%d)", ck.Number, ck.KeyID, ck.Epoch, ck.K, ck.T, ck.L)
}

// Format prints only [CalculatorKey.String], whatever the verb.
func (ck CalculatorKey) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, "share.CalculatorKey", ck.String())
}

// GoString prints only [CalculatorKey.String].
func (ck CalculatorKey) GoString() string { return redact.GoString("share.CalculatorKey", ck.String()) }

// LogValue keeps the shares out of structured logs.
func (ck CalculatorKey) LogValue() slog.Value { return redact.LogValue(ck.String()) }

// MarshalJSON encodes only [CalculatorKey.String]; [CalculatorKey.Marshal]
// encodes the key material.
func (ck CalculatorKey) MarshalJSON() ([]byte, error) { return redact.JSON(ck.String()) }

// String names the representation, without its c_a.
func (sk SecondKey) String() string { return fmt.Sprintf("second sub-key of %v", sk.Rep) }

// Format prints only [SecondKey.String], whatever the verb.
func (sk SecondKey) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, "share.SecondKey", sk.String())
}

// GoString prints only [SecondKey.String].
func (sk SecondKey) GoString() string { return redact.GoString("share.SecondKey", sk.String()) }

// LogValue keeps c_a out of structured logs.
func (sk SecondKey) LogValue() slog.Value { return redact.LogValue(sk.String()) }

// MarshalJSON encodes only [SecondKey.String].
func (sk SecondKey) MarshalJSON() ([]byte, error) { return redact.JSON(sk.String()) }

// String describes the key without its second sub-keys.
func (ck CombinerKey) String() string {
	return fmt.Sprintf("combiner %d of key %s (epoch %d, k=%d t=%d l=%d, %d representations)", ck.Number, ck.KeyID, ck.Epoch, ck.K, ck.T, ck.L, len(ck.Entries))
}

// Format prints only [CombinerKey.String], whatever the verb.
func (ck CombinerKey) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, "share.CombinerKey", ck.String())
}

// GoString prints only [CombinerKey.String].
func (ck CombinerKey) GoString() string { return redact.GoString("share.CombinerKey", ck.String()) }

// LogValue keeps the second sub-keys out of structured logs.
func (ck CombinerKey) LogValue() slog.Value { return redact.LogValue(ck.String()) }

// MarshalJSON encodes only [CombinerKey.String]; [CombinerKey.Marshal]
// encodes the key material.
func (ck CombinerKey) MarshalJSON() ([]byte, error) { return redact.JSON(ck.String()) }

// String describes the key material without the node's signing key.
func (dk DistributorKey) String() string {
	if dk.NodeKey == nil {
		return "distributor key (no node key)"
	}
	return fmt.Sprintf("distributor %d of key %s (epoch %d)", dk.NodeKey.Number, dk.KeyID, dk.Epoch)
}

// Format prints only [DistributorKey.String], whatever the verb.
func (dk DistributorKey) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, "share.DistributorKey", dk.String())
}

// GoString prints only [DistributorKey.String].
func (dk DistributorKey) GoString() string {
	return redact.GoString("share.DistributorKey", dk.String())
}

// LogValue keeps the node's signing key out of structured logs.
func (dk DistributorKey) LogValue() slog.Value { return redact.LogValue(dk.String()) }

// MarshalJSON encodes only [DistributorKey.String]; [DistributorKey.Marshal]
// encodes the key material.
func (dk DistributorKey) MarshalJSON() ([]byte, error) { return redact.JSON(dk.String()) }

// String names the node, never the key.
func (k NodeKey) String() string { return fmt.Sprintf("node key of %v", k.Node) }

// Format prints only [NodeKey.String], whatever the verb.
func (k NodeKey) Format(f fmt.State, verb rune) { redact.Format(f, verb, "share.NodeKey", k.String()) }

// GoString prints only [NodeKey.String].
func (k NodeKey) GoString() string { return redact.GoString("share.NodeKey", k.String()) }

// LogValue keeps the signing key out of structured logs.
func (k NodeKey) LogValue() slog.Value { return redact.LogValue(k.String()) }

// MarshalJSON encodes only [NodeKey.String].
func (k NodeKey) MarshalJSON() ([]byte, error) { return redact.JSON(k.String()) }

// String describes the calculator without its shares.
func (c Calculator) String() string {
	if c.key == nil {
		return "calculator (no key)"
	}
	return fmt.Sprintf("calculator %d of key %s (epoch %d, %d shares)", c.key.Number, c.key.KeyID, c.key.Epoch, len(c.exps.Value()))
}

// Format prints only [Calculator.String], whatever the verb.
func (c Calculator) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, "share.Calculator", c.String())
}

// GoString prints only [Calculator.String].
func (c Calculator) GoString() string { return redact.GoString("share.Calculator", c.String()) }

// LogValue keeps the shares out of structured logs.
func (c Calculator) LogValue() slog.Value { return redact.LogValue(c.String()) }

// MarshalJSON encodes only [Calculator.String].
func (c Calculator) MarshalJSON() ([]byte, error) { return redact.JSON(c.String()) }

// String describes the prepared request by its calculator.
func (p Prepared) String() string {
	if p.c == nil || p.c.key == nil {
		return "prepared request (no calculator)"
	}
	return fmt.Sprintf("prepared request for calculator %d of key %s (%d shares)", p.c.key.Number, p.c.key.KeyID, len(p.c.exps.Value()))
}

// Format prints only [Prepared.String], whatever the verb.
func (p Prepared) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, "share.Prepared", p.String())
}

// GoString prints only [Prepared.String].
func (p Prepared) GoString() string { return redact.GoString("share.Prepared", p.String()) }

// LogValue keeps the calculator's shares out of structured logs.
func (p Prepared) LogValue() slog.Value { return redact.LogValue(p.String()) }

// MarshalJSON encodes only [Prepared.String].
func (p Prepared) MarshalJSON() ([]byte, error) { return redact.JSON(p.String()) }
