package node

import (
	"fmt"
	"log/slog"

	"github.com/tolerantca/tolerant/internal/redact"
)

// A Node holds a calculator's d_ji or a combiner's c_a and a node signing
// key, behind pointers to package broadcast's nodes (which print only a
// description of themselves); a Host holds Nodes. Each prints only a
// description of itself: the same under every fmt verb, as a slog value
// and as JSON.

// String names the node's role, number, key and epoch, never its key
// material.
func (n *Node) String() string {
	if n == nil {
		return "node (none)"
	}
	return fmt.Sprintf("%s %d of key %s (epoch %d)", n.role, n.number, n.meta.KeyID, n.meta.Epoch)
}

// Format prints only [Node.String], whatever the verb.
func (n *Node) Format(f fmt.State, verb rune) { redact.Format(f, verb, "node.Node", n.String()) }

// GoString prints only [Node.String].
func (n *Node) GoString() string { return redact.GoString("node.Node", n.String()) }

// LogValue keeps the key material out of structured logs.
func (n *Node) LogValue() slog.Value { return redact.LogValue(n.String()) }

// MarshalJSON encodes only [Node.String].
func (n *Node) MarshalJSON() ([]byte, error) { return redact.JSON(n.String()) }

// String counts the host's nodes.
func (h *Host) String() string {
	if h == nil {
		return "node host (none)"
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return fmt.Sprintf("node host of %d nodes", len(h.nodes))
}

// Format prints only [Host.String], whatever the verb.
func (h *Host) Format(f fmt.State, verb rune) { redact.Format(f, verb, "node.Host", h.String()) }

// GoString prints only [Host.String].
func (h *Host) GoString() string { return redact.GoString("node.Host", h.String()) }

// LogValue keeps the key material out of structured logs.
func (h *Host) LogValue() slog.Value { return redact.LogValue(h.String()) }

// MarshalJSON encodes only [Host.String].
func (h *Host) MarshalJSON() ([]byte, error) { return redact.JSON(h.String()) }
