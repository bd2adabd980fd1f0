package seal

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/tolerantca/tolerant/share"
)

// maxIdentityFileSize bounds what ReadIdentityFile reads.
const maxIdentityFileSize = 64 << 10

// IdentityFile is the conventional name of node n's identity file in a
// directory of identities: calculator-J.key, combiner-A.key or
// distributor-N.key.
func IdentityFile(n share.Node) string { return fmt.Sprintf("%s-%d.key", n.Role, n.Number) }

// WriteIdentityFile writes id to a new file at path (O_EXCL, mode 0600) in
// age's identity file format:
//
//	# created: 2006-01-02T15:04:05Z07:00
//	# public key: age1...
//	AGE-SECRET-KEY-1...
//
// It never overwrites a file.
func WriteIdentityFile(path string, id *age.X25519Identity) error {
	if id == nil {
		return errors.New("seal: no identity to write")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# created: %s\n", time.Now().Format(time.RFC3339))
	fmt.Fprintf(&b, "# public key: %s\n", id.Recipient())
	fmt.Fprintf(&b, "%s\n", id)
	defer clear(b.Bytes())
	return writeNew(path, b.Bytes(), 0o600)
}

// ReadIdentityFile reads an age identity file holding exactly one X25519
// identity (AGE-SECRET-KEY-1...). Comment lines start with '#'; a
// "# public key:" comment, when present, must match the identity. On Unix
// the file must not be readable or writable by group or others. Errors
// never quote the file's content.
func ReadIdentityFile(path string) (*age.X25519Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("seal: %s: not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("seal: %s: identity file has mode %v, open to group or others; run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxIdentityFileSize+1))
	defer clear(b)
	if err != nil {
		return nil, fmt.Errorf("seal: %s: %w", path, err)
	}
	if len(b) > maxIdentityFileSize {
		return nil, fmt.Errorf("seal: %s: too large for an identity file", path)
	}
	id, err := parseIdentityFile(b)
	if err != nil {
		return nil, fmt.Errorf("seal: %s: %w", path, err)
	}
	return id, nil
}

// parseIdentityFile parses the content of an identity file. Its errors
// never quote the content.
func parseIdentityFile(b []byte) (*age.X25519Identity, error) {
	var id *age.X25519Identity
	var publicKey string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxIdentityFileSize)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			if rest, ok := strings.CutPrefix(line, "# public key:"); ok {
				publicKey = strings.TrimSpace(rest)
			}
		case strings.HasPrefix(line, "AGE-SECRET-KEY-1"):
			if id != nil {
				return nil, errors.New("more than one identity; keep one node's identity per file")
			}
			x, err := age.ParseX25519Identity(line)
			if err != nil {
				return nil, fmt.Errorf("line %d: malformed AGE-SECRET-KEY-1 identity", n)
			}
			id = x
		default:
			return nil, fmt.Errorf("line %d: not an age X25519 identity (AGE-SECRET-KEY-1...)", n)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, errors.New("unreadable identity file")
	}
	if id == nil {
		return nil, errors.New("no AGE-SECRET-KEY-1 identity found")
	}
	if publicKey != "" && publicKey != id.Recipient().String() {
		return nil, errors.New("the \"# public key:\" comment does not match the identity")
	}
	return id, nil
}
