package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/share"
	"github.com/tolerantca/tolerant/x509sign"
)

// signInit starts a signing operation with mech on key (section 5.11,
// C_SignInit): the key must be the private key, the user logged in.
func (t *token) signInit(h, mech uint, pp pssParams, key uint) uint {
	s, rv := t.session(h)
	if rv != ckrOK {
		return rv
	}
	if !t.isLoggedIn() {
		return ckrUserNotLoggedIn
	}
	o, rv := t.object(key)
	if rv != ckrOK {
		return ckrKeyHandleInvalid
	}
	if o.handle != hPrivateKey {
		return ckrKeyFunctionNotPermitted
	}
	sp, rv := paramsOf(mech, pp, t.pub.N.BitLen())
	if rv != ckrOK {
		return rv
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sign != nil {
		return ckrOperationActive
	}
	s.sign = &signOp{params: sp}
	return ckrOK
}

// signUpdate adds data to the message of a multi-part signature.
func (t *token) signUpdate(h uint, data []byte) uint {
	s, rv := t.session(h)
	if rv != ckrOK {
		return rv
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sign == nil {
		return ckrOperationNotInitialized
	}
	s.sign.add(data)
	return ckrOK
}

// add appends data to the message, remembering when it grows beyond what
// a request can carry.
func (op *signOp) add(data []byte) {
	if op.tooLong || len(op.data)+len(data) > share.MaxContentSize {
		op.tooLong, op.data = true, nil
		return
	}
	op.data = append(op.data, data...)
}

// sigLen is the length of every signature: the modulus's.
func (t *token) sigLen() int { return (t.pub.N.BitLen() + 7) / 8 }

// finish ends the signing operation of session h with data as its last
// part (C_Sign) or none (C_SignFinal). With a nil or short output buffer
// (outLen), it returns only the length and the operation stays active
// (section 5.2, the conventions for output buffers); otherwise it signs
// and the operation ends, whatever the outcome.
func (t *token) finish(ctx context.Context, h uint, data []byte, wantSig bool, outLen int) ([]byte, int, uint) {
	s, rv := t.session(h)
	if rv != ckrOK {
		return nil, 0, rv
	}
	need := t.sigLen()
	s.mu.Lock()
	op := s.sign
	switch {
	case op == nil:
		s.mu.Unlock()
		return nil, 0, ckrOperationNotInitialized
	case !wantSig:
		s.mu.Unlock()
		return nil, need, ckrOK
	case outLen < need:
		s.mu.Unlock()
		return nil, need, ckrBufferTooSmall
	}
	s.sign = nil
	s.mu.Unlock()
	op.add(data)
	sig, rv := t.signOp(ctx, op)
	return sig, need, rv
}

// signOp sends one operation's request to the cluster. CKM_RSA_PKCS and
// CKM_RSA_PKCS_PSS carry a digest only; the hash-and-sign mechanisms
// carry the whole message as the request's content, so that every
// calculator and combiner hashes it itself and its policy sees it
// ([0092], [0110]).
func (t *token) signOp(ctx context.Context, op *signOp) ([]byte, uint) {
	if op.tooLong {
		return nil, ckrDataLenRange
	}
	sp := op.params
	h, digest := sp.hash, op.data
	if sp.mech == ckmRSAPKCS {
		var err error
		if h, digest, err = parseDigestInfo(op.data); err != nil {
			return nil, ckrDataInvalid
		}
	} else if sp.digestOnly && len(digest) != h.Size() {
		return nil, ckrDataLenRange
	}
	signer, rv := t.cluster(ctx)
	if rv != ckrOK {
		return nil, rv
	}
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	var sig []byte
	var err error
	if sp.digestOnly {
		sig, err = signer.SignContext(ctx, nil, digest, sp.opts(h))
	} else {
		sig, err = signer.SignMessageContext(ctx, nil, op.data, sp.opts(h))
	}
	if err != nil {
		rv := rvOfSignError(err)
		t.log.Warn("signature failed", "mechanism", fmt.Sprintf("0x%x", sp.mech), "rv", rvName(rv), "err", err)
		return nil, rv
	}
	return sig, ckrOK
}

// cluster returns the signer, connecting to the cluster on first use (and
// again after a failed attempt).
func (t *token) cluster(ctx context.Context) (clusterSigner, uint) {
	t.connMu.Lock()
	defer t.connMu.Unlock()
	if t.signer != nil {
		return t.signer, ckrOK
	}
	s, c, err := t.connect(ctx)
	if err != nil {
		t.log.Error("cannot reach the cluster", "err", err)
		return nil, ckrDeviceError
	}
	t.signer, t.closer = s, c
	return s, ckrOK
}

// close closes the connection to the cluster, if any.
func (t *token) close() {
	t.connMu.Lock()
	defer t.connMu.Unlock()
	if t.closer != nil {
		t.closer.Close()
	}
	t.signer, t.closer = nil, nil
}

// rvOfSignError maps a failed signature to what a client can act on:
// CKR_FUNCTION_REJECTED when the nodes' policy refused the request,
// CKR_DEVICE_ERROR when too few calculators or no combiner answered,
// CKR_FUNCTION_CANCELED when the time ran out without telling why,
// CKR_DATA_LEN_RANGE for a message too large for a request.
func rvOfSignError(err error) uint {
	switch {
	case errors.Is(err, broadcast.ErrRefused), errors.Is(err, share.ErrDeclined):
		return ckrFunctionRejected
	case errors.Is(err, broadcast.ErrNotEnoughCalculators), errors.Is(err, broadcast.ErrNoCombiner):
		return ckrDeviceError
	case errors.Is(err, broadcast.ErrDeadline), errors.Is(err, context.DeadlineExceeded):
		return ckrFunctionCanceled
	case errors.Is(err, x509sign.ErrTooLarge), errors.Is(err, share.ErrTooLarge):
		return ckrDataLenRange
	case errors.Is(err, x509sign.ErrOptions), errors.Is(err, x509sign.ErrUnsupportedHash):
		return ckrMechanismParamInvalid
	case errors.Is(err, broadcast.ErrClosed):
		return ckrDeviceRemoved
	}
	return ckrFunctionFailed
}

// rvName names the return values the module logs.
func rvName(rv uint) string {
	switch rv {
	case ckrPINIncorrect:
		return "CKR_PIN_INCORRECT"
	case ckrPINLocked:
		return "CKR_PIN_LOCKED"
	case ckrFunctionRejected:
		return "CKR_FUNCTION_REJECTED"
	case ckrDeviceError:
		return "CKR_DEVICE_ERROR"
	case ckrFunctionCanceled:
		return "CKR_FUNCTION_CANCELED"
	}
	return fmt.Sprintf("0x%x", rv)
}
