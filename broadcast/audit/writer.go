package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Writer appends to one node's log. It is safe for concurrent use.
type Writer struct {
	mu   sync.Mutex
	f    *os.File
	head Head
	hdr  Header
	err  error // sticky: after a failed write the chain's state is unknown
	now  func() time.Time
}

// OpenWriter opens the log at path for the node h names, creating it
// (mode 0600) when absent. An existing log is read and its whole chain
// checked first: OpenWriter refuses to append to a broken log
// ([ErrBroken]), to another node's log ([ErrOtherNode]) or to a log another
// process has open ([ErrLocked], on Unix). It then appends h, so that every
// start of the node shows in the log, and fsyncs. A log whose last line
// a crash cut short is broken too: keep it as evidence and start a new
// file; the cross-check of the new file against the others still holds.
func OpenWriter(path string, h Header) (*Writer, error) {
	h.Format = Format
	if err := h.validate(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	w := &Writer{f: f, now: time.Now, hdr: h}
	if err := w.open(path, h); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func (w *Writer) open(path string, h Header) error {
	if err := lockFile(w.f); err != nil {
		return err
	}
	st, err := w.f.Stat()
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	w.head = Head{Hash: Genesis}
	if st.Size() > 0 {
		c, err := ReadChain(io.NewSectionReader(w.f, 0, st.Size()))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if c.Header.Role != h.Role || c.Header.Number != h.Number {
			return fmt.Errorf("%w: %s is the log of %s %d", ErrOtherNode, path, c.Header.Role, c.Header.Number)
		}
		w.head = c.Head
	}
	if err := w.write(record{Header: &h}); err != nil {
		return err
	}
	if st.Size() == 0 {
		return syncDir(filepath.Dir(path))
	}
	return nil
}

// Append stamps e.Time when it is zero, checks e, appends it to the log and
// fsyncs. After a failed write or sync every later Append fails.
func (w *Writer) Append(e Event) error {
	if e.Time.IsZero() {
		e.Time = w.now()
	}
	e.Time = e.Time.UTC()
	if err := e.validate(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.write(record{Event: &e})
}

// write appends rec after the current head; the caller holds w.mu or owns w.
func (w *Writer) write(rec record) error {
	if w.err != nil {
		return w.err
	}
	if w.f == nil {
		return ErrClosed
	}
	rec.Seq = w.head.Seq + 1
	rec.Prev = w.head.Hash
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if len(b) > MaxLine {
		return invalid("entry of %d bytes", len(b))
	}
	if _, err := w.f.Write(append(b, '\n')); err != nil {
		w.err = fmt.Errorf("audit: %w", err)
		return w.err
	}
	if err := w.f.Sync(); err != nil {
		w.err = fmt.Errorf("audit: %w", err)
		return w.err
	}
	sum := sha256.Sum256(b)
	w.head = Head{Seq: rec.Seq, Hash: hex.EncodeToString(sum[:])}
	return nil
}

// Head returns the sequence number and hash of the last line written. A
// node reports it (health, metrics, its own logs) so that a log cut short
// later can be detected against it.
func (w *Writer) Head() Head {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.head
}

// Close closes the log. Appends after Close return [ErrClosed].
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// syncDir fsyncs a directory, so that a file created in it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
