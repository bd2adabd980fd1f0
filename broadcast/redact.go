package broadcast

import (
	"fmt"
	"log/slog"

	"github.com/tolerantca/tolerant/internal/redact"
)

// auth and the nodes hold node signing keys, and the nodes hold a
// calculator's d_ji or a combiner's c_a. Each prints only a description of
// itself: the same under every fmt verb, as a slog value and as JSON. auth
// has value receivers, so that a value prints as safely as a pointer. The
// nodes hold a mutex and are used by pointer; their secrets are behind
// pointers (a *share.Calculator, a *combine.Combiner, an *auth), which fmt
// never follows inside a struct, so a copy of a node prints none either.

// String names the node whose key a holds, never the key.
func (a auth) String() string {
	if a.key == nil {
		return fmt.Sprintf("broadcast.auth{no node key, roster of %d nodes}", len(a.roster))
	}
	return fmt.Sprintf("broadcast.auth{%v, roster of %d nodes}", a.key, len(a.roster))
}

// Format prints only [auth.String], whatever the verb.
func (a auth) Format(f fmt.State, verb rune) { redact.Format(f, verb, "broadcast.auth", a.String()) }

// GoString prints only [auth.String].
func (a auth) GoString() string { return redact.GoString("broadcast.auth", a.String()) }

// LogValue keeps the node key out of structured logs.
func (a auth) LogValue() slog.Value { return redact.LogValue(a.String()) }

// MarshalJSON encodes only [auth.String].
func (a auth) MarshalJSON() ([]byte, error) { return redact.JSON(a.String()) }

// String describes the node without its shares.
func (n *CalculatorNode) String() string {
	if n == nil || n.calc == nil {
		return "calculator node (none)"
	}
	return fmt.Sprintf("calculator node %d of key %s (epoch %d)", n.calc.Number(), n.meta.KeyID, n.meta.Epoch)
}

// Format prints only [CalculatorNode.String], whatever the verb.
func (n *CalculatorNode) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, "broadcast.CalculatorNode", n.String())
}

// GoString prints only [CalculatorNode.String].
func (n *CalculatorNode) GoString() string {
	return redact.GoString("broadcast.CalculatorNode", n.String())
}

// LogValue keeps the shares out of structured logs.
func (n *CalculatorNode) LogValue() slog.Value { return redact.LogValue(n.String()) }

// MarshalJSON encodes only [CalculatorNode.String].
func (n *CalculatorNode) MarshalJSON() ([]byte, error) { return redact.JSON(n.String()) }

// String describes the node without its second sub-keys.
func (n *CombinerNode) String() string {
	if n == nil || n.comb == nil {
		return "combiner node (none)"
	}
	return fmt.Sprintf("combiner node %d of key %s (epoch %d)", n.comb.Number(), n.meta.KeyID, n.meta.Epoch)
}

// Format prints only [CombinerNode.String], whatever the verb.
func (n *CombinerNode) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, "broadcast.CombinerNode", n.String())
}

// GoString prints only [CombinerNode.String].
func (n *CombinerNode) GoString() string {
	return redact.GoString("broadcast.CombinerNode", n.String())
}

// LogValue keeps the second sub-keys out of structured logs.
func (n *CombinerNode) LogValue() slog.Value { return redact.LogValue(n.String()) }

// MarshalJSON encodes only [CombinerNode.String].
func (n *CombinerNode) MarshalJSON() ([]byte, error) { return redact.JSON(n.String()) }

// String describes the distributor without its node key.
func (d *Distributor) String() string {
	if d == nil {
		return "distributor (none)"
	}
	return fmt.Sprintf("distributor %d of key %s (epoch %d)", d.number, d.keyID, d.epoch)
}

// Format prints only [Distributor.String], whatever the verb.
func (d *Distributor) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, "broadcast.Distributor", d.String())
}

// GoString prints only [Distributor.String].
func (d *Distributor) GoString() string { return redact.GoString("broadcast.Distributor", d.String()) }

// LogValue keeps the node key out of structured logs.
func (d *Distributor) LogValue() slog.Value { return redact.LogValue(d.String()) }

// MarshalJSON encodes only [Distributor.String].
func (d *Distributor) MarshalJSON() ([]byte, error) { return redact.JSON(d.String()) }
