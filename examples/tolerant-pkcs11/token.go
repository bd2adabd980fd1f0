package main

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tolerantca/tolerant/examples/tolerant-pkcs11/p11conf"
)

// slotID is the only slot: one token, holding one key.
const slotID = 1

// maxSessions bounds the open sessions of the token.
const maxSessions = 1024

// clusterSigner is what the token needs of the cluster: x509sign's Signer.
type clusterSigner interface {
	SignContext(ctx context.Context, rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error)
	SignMessageContext(ctx context.Context, rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error)
}

// pinGuard checks the user PIN against its slow hash and counts wrong
// PINs in a row in a file, so that the count survives the process and is
// shared by every process that loads the module with this configuration.
type pinGuard struct {
	mu   sync.Mutex // one check at a time: no parallel guessing
	hash p11conf.PINHash
	max  int
	file string
}

// failures reads the count of wrong PINs; a count that cannot be read
// locks the token (fail closed).
func (g *pinGuard) failures() (int, error) {
	b, err := os.ReadFile(g.file)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return g.max, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 0 {
		return g.max, errors.New("tolerant-pkcs11: unreadable PIN failure count")
	}
	return n, nil
}

// setFailures records the count of wrong PINs (0 removes the file).
func (g *pinGuard) setFailures(n int) error {
	if n == 0 {
		err := os.Remove(g.file)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	tmp := g.file + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(n)+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, g.file)
}

// check checks pin: CKR_OK, CKR_PIN_INCORRECT, CKR_PIN_LOCKED once max
// wrong PINs in a row were given, or CKR_DEVICE_ERROR when the count
// cannot be kept.
func (g *pinGuard) check(pin []byte) uint {
	g.mu.Lock()
	defer g.mu.Unlock()
	n, err := g.failures()
	if err != nil {
		return ckrDeviceError
	}
	if n >= g.max {
		return ckrPINLocked
	}
	if g.hash.Check(pin) {
		if g.setFailures(0) != nil {
			return ckrDeviceError
		}
		return ckrOK
	}
	if g.setFailures(n+1) != nil {
		return ckrDeviceError
	}
	return ckrPINIncorrect
}

// token is the module's one token: the key's objects, the sessions, the
// login state and the connection to the cluster, made on first use.
type token struct {
	label, serial string
	pub           *rsa.PublicKey
	objects       []*object
	pin           *pinGuard
	timeout       time.Duration
	log           *slog.Logger

	mu       sync.Mutex
	sessions map[uint]*session
	next     uint
	loggedIn bool

	connMu  sync.Mutex
	connect func(context.Context) (clusterSigner, io.Closer, error)
	signer  clusterSigner
	closer  io.Closer
}

// session is one session: its flags and at most one search and one
// signing operation in progress.
type session struct {
	mu     sync.Mutex
	handle uint
	rw     bool
	find   []uint // handles not yet returned; nil when no search is active
	active bool   // a search is active
	sign   *signOp
}

// signOp is a signing operation from C_SignInit to its end.
type signOp struct {
	params  signParams
	data    []byte
	tooLong bool
}

// session returns the session h.
func (t *token) session(h uint) (*session, uint) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.sessions[h]
	if !ok {
		return nil, ckrSessionHandleInvalid
	}
	return s, ckrOK
}

// openSession opens a session (PKCS #11 v2.40 section 5.6): every session
// must be serial; read-write sessions are allowed, but the token has no
// object to write.
func (t *token) openSession(slot, flags uint) (uint, uint) {
	if slot != slotID {
		return 0, ckrSlotIDInvalid
	}
	if flags&ckfSerialSession == 0 {
		return 0, ckrSessionParallelNotSupp
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.sessions) >= maxSessions {
		return 0, 0xB1 // CKR_SESSION_COUNT
	}
	t.next++
	s := &session{handle: t.next, rw: flags&ckfRWSession != 0}
	t.sessions[s.handle] = s
	return s.handle, ckrOK
}

// closeSession closes session h; closing the last session logs the user
// out (section 5.6, C_CloseSession).
func (t *token) closeSession(h uint) uint {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.sessions[h]; !ok {
		return ckrSessionHandleInvalid
	}
	delete(t.sessions, h)
	if len(t.sessions) == 0 {
		t.loggedIn = false
	}
	return ckrOK
}

// closeAll closes every session of the slot.
func (t *token) closeAll(slot uint) uint {
	if slot != slotID {
		return ckrSlotIDInvalid
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.sessions)
	t.loggedIn = false
	return ckrOK
}

// sessionInfo returns the state and flags of session h.
func (t *token) sessionInfo(h uint) (state, flags uint, rv uint) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.sessions[h]
	if !ok {
		return 0, 0, ckrSessionHandleInvalid
	}
	flags = ckfSerialSession
	switch {
	case s.rw && t.loggedIn:
		state, flags = cksRWUserFunctions, flags|ckfRWSession
	case s.rw:
		state, flags = cksRWPublicSession, flags|ckfRWSession
	case t.loggedIn:
		state = cksROUserFunctions
	default:
		state = cksROPublicSession
	}
	return state, flags, ckrOK
}

// login logs the user in with pin (section 5.6, C_Login). Only the normal
// user exists; the token has no security officer.
func (t *token) login(h, userType uint, pin []byte) uint {
	if _, rv := t.session(h); rv != ckrOK {
		return rv
	}
	switch userType {
	case ckuUser:
	case ckuSO:
		return ckrPINIncorrect // no SO PIN can be right
	default:
		return ckrUserTypeInvalid
	}
	t.mu.Lock()
	in := t.loggedIn
	t.mu.Unlock()
	if in {
		return ckrUserAlreadyLoggedIn
	}
	if len(pin) < p11conf.MinPINLen || len(pin) > p11conf.MaxPINLen {
		return ckrPINLenRange
	}
	rv := t.pin.check(pin)
	if rv != ckrOK {
		t.log.Warn("login refused", "rv", rvName(rv))
		return rv
	}
	t.mu.Lock()
	t.loggedIn = true
	t.mu.Unlock()
	return ckrOK
}

// logout logs the user out.
func (t *token) logout(h uint) uint {
	if _, rv := t.session(h); rv != ckrOK {
		return rv
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.loggedIn {
		return ckrUserNotLoggedIn
	}
	t.loggedIn = false
	return ckrOK
}

// isLoggedIn reports the login state.
func (t *token) isLoggedIn() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.loggedIn
}

// pinFlags are the CK_TOKEN_INFO flags about the PIN's failure count.
func (t *token) pinFlags() uint {
	n, err := t.pin.failures()
	switch {
	case err != nil || n >= t.pin.max:
		return ckfUserPINLocked
	case n == t.pin.max-1:
		return ckfUserPINFinalTry | ckfUserPINCountLow
	case n > 0:
		return ckfUserPINCountLow
	}
	return 0
}

// object returns the object h, if the session may see it.
func (t *token) object(h uint) (*object, uint) {
	in := t.isLoggedIn()
	for _, o := range t.objects {
		if o.handle == h && (!o.private || in) {
			return o, ckrOK
		}
	}
	return nil, ckrObjectHandleInvalid
}

// findInit starts a search for the objects matching tmpl.
func (t *token) findInit(h uint, tmpl []attribute) uint {
	s, rv := t.session(h)
	if rv != ckrOK {
		return rv
	}
	in := t.isLoggedIn()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active {
		return ckrOperationActive
	}
	s.active, s.find = true, []uint{}
	for _, o := range t.objects {
		if (!o.private || in) && o.matches(tmpl) {
			s.find = append(s.find, o.handle)
		}
	}
	return ckrOK
}

// findNext returns up to max handles of the active search.
func (t *token) findNext(h uint, max int) ([]uint, uint) {
	s, rv := t.session(h)
	if rv != ckrOK {
		return nil, rv
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.active {
		return nil, ckrOperationNotInitialized
	}
	n := min(max, len(s.find))
	out := s.find[:n:n]
	s.find = s.find[n:]
	return out, ckrOK
}

// findFinal ends the active search.
func (t *token) findFinal(h uint) uint {
	s, rv := t.session(h)
	if rv != ckrOK {
		return rv
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.active {
		return ckrOperationNotInitialized
	}
	s.active, s.find = false, nil
	return ckrOK
}
