package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/broadcast/audit"
	"github.com/tolerantca/tolerant/share"
)

const auditDirUsage = "write this node's append-only audit log in DIR (one hash-chained, fsynced JSON-lines file per key and epoch: KEY-eEPOCH-ROLE-N.jsonl; check them with tolerant audit verify)"

// auditLog is one node's open audit log.
type auditLog struct {
	w   *audit.Writer
	obs *audit.Observer
}

// openAuditLog opens (or appends to) the audit log of node number of role
// for meta's key and epoch in dir. A nil *auditLog and nil error when dir
// is empty.
func openAuditLog(dir string, role share.Role, number int, meta *share.Meta) (*auditLog, error) {
	if dir == "" {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("-audit-dir: %w", err)
	}
	name := fmt.Sprintf("%s-e%d-%s-%d.jsonl", meta.KeyID, meta.Epoch, role, number)
	// The key id comes from the dealer's bundle and may hold any printable
	// character: a name that would leave dir is refused, not followed.
	if !filepath.IsLocal(name) || strings.ContainsAny(name, `/\`) {
		return nil, fmt.Errorf("-audit-dir: key id %q cannot name a file", meta.KeyID)
	}
	w, err := audit.OpenWriter(filepath.Join(dir, name), audit.Header{
		Role: audit.Role(role.String()), Number: number,
		Keys: []audit.KeyInfo{{KeyID: meta.KeyID, Epoch: meta.Epoch, T: meta.T}},
	})
	if err != nil {
		return nil, fmt.Errorf("-audit-dir: %w", err)
	}
	return &auditLog{w: w, obs: audit.NewObserver(w)}, nil
}

// observer returns the log's observer, nil (not a typed nil) for no log.
func (l *auditLog) observer() broadcast.Observer {
	if l == nil {
		return nil
	}
	return l.obs
}

// health returns the log's first append failure, nil for no log.
func (l *auditLog) health() error {
	if l == nil {
		return nil
	}
	return l.obs.Err()
}

// Close closes the log; nothing for no log.
func (l *auditLog) Close() error {
	if l == nil {
		return nil
	}
	return l.w.Close()
}
