package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// record is one line of a log: exactly one of Header and Event.
type record struct {
	Seq    uint64  `json:"seq"`  // the line number, from 1
	Prev   string  `json:"prev"` // hex SHA-256 of the previous line, [Genesis] on line 1
	Header *Header `json:"header,omitempty"`
	Event  *Event  `json:"event,omitempty"`
}

// Head names the last line of a log: its sequence number and the hex
// SHA-256 of its bytes (without the newline). A node reports its head so
// that a log cut short can be detected later.
type Head struct {
	Seq  uint64
	Hash string
}

// String returns "SEQ:HASH", the form [ParseHead] reads.
func (h Head) String() string { return strconv.FormatUint(h.Seq, 10) + ":" + h.Hash }

// ParseHead reads a head written by [Head.String].
func ParseHead(s string) (Head, error) {
	seq, hash, ok := strings.Cut(s, ":")
	n, err := strconv.ParseUint(seq, 10, 64)
	if !ok || err != nil || n == 0 || checkHash("head", hash) != nil || hash == "" {
		return Head{}, fmt.Errorf("%w: head %q is not SEQ:HASH", ErrInvalid, s)
	}
	return Head{Seq: n, Hash: hash}, nil
}

// ChainError says where and why a log's chain is broken.
type ChainError struct {
	Line   int    // 1-based line number
	Reason string // what is wrong
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("audit: broken log at line %d: %s", e.Line, e.Reason)
}

// Is makes a *ChainError match [ErrBroken].
func (e *ChainError) Is(target error) bool { return target == ErrBroken }

// Entry is one event of a log with its line number.
type Entry struct {
	Seq   uint64
	Event Event
}

// Chain is a log read and checked by [ReadChain].
type Chain struct {
	Header  Header   // the first header: the node that writes the log
	Headers []Header // every header, the first included, in order
	Entries []Entry  // every event, in order
	Head    Head     // the last line
	hashes  []string // of every line, by seq-1
}

// HashAt returns the hash of line seq, and whether the log has it.
func (c *Chain) HashAt(seq uint64) (string, bool) {
	if seq < 1 || seq > uint64(len(c.hashes)) {
		return "", false
	}
	return c.hashes[seq-1], true
}

// Threshold returns t of key keyID from the latest header naming it, or 0.
func (c *Chain) Threshold(keyID string) int {
	for i := len(c.Headers) - 1; i >= 0; i-- {
		for _, k := range c.Headers[i].Keys {
			if k.KeyID == keyID {
				return k.T
			}
		}
	}
	return 0
}

// ReadChain reads a log and checks its chain: line 1 a header with prev
// [Genesis], every line's seq its line number and prev the hash of the line
// before, every entry valid, every header naming the same node, and a final
// newline. It returns a *[ChainError] (matching [ErrBroken]) for a broken
// chain, with the chain read up to the line before.
func ReadChain(r io.Reader) (*Chain, error) {
	c := &Chain{}
	br := bufio.NewReaderSize(r, 64<<10)
	prev := Genesis
	for line := 1; ; line++ {
		b, err := readLine(br)
		if err == io.EOF {
			if line == 1 {
				return c, &ChainError{Line: 1, Reason: "empty log"}
			}
			return c, nil
		}
		if err != nil {
			return c, &ChainError{Line: line, Reason: err.Error()}
		}
		if err := c.add(b, line, prev); err != nil {
			return c, &ChainError{Line: line, Reason: strings.TrimPrefix(err.Error(), "audit: ")}
		}
		sum := sha256.Sum256(b)
		prev = hex.EncodeToString(sum[:])
		c.hashes = append(c.hashes, prev)
		c.Head = Head{Seq: uint64(line), Hash: prev}
	}
}

var errNoNewline = errors.New("last line has no newline (a write cut short)")

// readLine returns the next line without its newline, at most MaxLine bytes.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		part, err := br.ReadSlice('\n')
		buf = append(buf, part...)
		if len(buf) > MaxLine {
			return nil, fmt.Errorf("line longer than %d bytes", MaxLine)
		}
		switch {
		case err == nil:
			return buf[:len(buf)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(buf) > 0:
			return nil, errNoNewline
		default:
			return nil, err
		}
	}
}

// add checks line number line, b, against prev and appends what it holds.
func (c *Chain) add(b []byte, line int, prev string) error {
	var rec record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return errors.New("not a JSON entry of this format")
	}
	if dec.More() {
		return errors.New("trailing data after the entry")
	}
	switch {
	case rec.Seq != uint64(line):
		return fmt.Errorf("seq %d where %d was due (a line deleted, inserted or moved)", rec.Seq, line)
	case rec.Prev != prev && line == 1:
		return errors.New("prev is not the genesis value (the start of the log is missing)")
	case rec.Prev != prev:
		return fmt.Errorf("prev does not match the hash of line %d (line %d or %d edited, or lines deleted)", line-1, line-1, line)
	case (rec.Header == nil) == (rec.Event == nil):
		return errors.New("neither a header nor an event")
	case line == 1 && rec.Header == nil:
		return errors.New("the log does not start with a header")
	}
	if h := rec.Header; h != nil {
		if err := h.validate(); err != nil {
			return err
		}
		if line > 1 && (h.Role != c.Header.Role || h.Number != c.Header.Number) {
			return fmt.Errorf("header of %s %d in the log of %s %d", h.Role, h.Number, c.Header.Role, c.Header.Number)
		}
		if line == 1 {
			c.Header = *h
		}
		c.Headers = append(c.Headers, *h)
		return nil
	}
	if err := rec.Event.validate(); err != nil {
		return err
	}
	c.Entries = append(c.Entries, Entry{Seq: rec.Seq, Event: *rec.Event})
	return nil
}
