package main

/*
#include "tpkcs11.h"
*/
import "C"

import (
	"context"
	"unsafe"
)

// template copies a C attribute template; with values, each pValue is
// copied too (a search template), else only the types (a query).
func template(p *C.CK_ATTRIBUTE, n C.CK_ULONG, values bool) ([]attribute, bool) {
	if p == nil || n == 0 {
		return nil, n == 0
	}
	if n > 4096 {
		return nil, false
	}
	in := unsafe.Slice(p, int(n))
	out := make([]attribute, len(in))
	for i, a := range in {
		out[i].typ = uint(a._type)
		if values {
			v, ok := bytesOf(unsafe.Pointer(a.pValue), a.ulValueLen)
			if !ok {
				return nil, false
			}
			out[i].val = v
		}
	}
	return out, true
}

//export goGetAttributeValue
func goGetAttributeValue(h C.CK_SESSION_HANDLE, obj C.CK_OBJECT_HANDLE, p *C.CK_ATTRIBUTE, n C.CK_ULONG) (rv C.CK_RV) {
	defer guard(&rv)
	return withToken(true, func(t *token) C.CK_RV {
		if _, r := t.session(uint(h)); r != ckrOK {
			return C.CK_RV(r)
		}
		o, r := t.object(uint(obj))
		if r != ckrOK {
			return C.CK_RV(r)
		}
		if p == nil || n > 4096 {
			return ckrArgumentsBad
		}
		return attributeValues(o, unsafe.Slice(p, int(n)))
	})
}

// attributeValues answers C_GetAttributeValue's template of o.
func attributeValues(o *object, tmpl []C.CK_ATTRIBUTE) C.CK_RV {
	// Section 5.7, C_GetAttributeValue: every attribute is answered; the
	// return value is the last problem met, CKR_OK if none.
	res := C.CK_RV(ckrOK)
	for i := range tmpl {
		a := &tmpl[i]
		v, r := o.get(uint(a._type))
		switch {
		case r != ckrOK:
			a.ulValueLen, res = C.CK_ULONG(ckUnavailable), C.CK_RV(r)
		case a.pValue == nil:
			a.ulValueLen = C.CK_ULONG(len(v))
		case int(a.ulValueLen) < len(v) || a.ulValueLen > 1<<30:
			a.ulValueLen, res = C.CK_ULONG(ckUnavailable), ckrBufferTooSmall
		default:
			copy(unsafe.Slice((*byte)(a.pValue), len(v)), v)
			a.ulValueLen = C.CK_ULONG(len(v))
		}
	}
	return res
}

//export goFindObjectsInit
func goFindObjectsInit(h C.CK_SESSION_HANDLE, p *C.CK_ATTRIBUTE, n C.CK_ULONG) (rv C.CK_RV) {
	defer guard(&rv)
	return withToken(true, func(t *token) C.CK_RV {
		tmpl, ok := template(p, n, true)
		if !ok {
			return ckrArgumentsBad
		}
		return C.CK_RV(t.findInit(uint(h), tmpl))
	})
}

//export goFindObjects
func goFindObjects(h C.CK_SESSION_HANDLE, out *C.CK_OBJECT_HANDLE, max C.CK_ULONG, count *C.CK_ULONG) (rv C.CK_RV) {
	defer guard(&rv)
	return withToken(count != nil && (out != nil || max == 0) && max <= 1<<20, func(t *token) C.CK_RV {
		hs, r := t.findNext(uint(h), int(max))
		if r != ckrOK {
			return C.CK_RV(r)
		}
		if len(hs) > 0 {
			dst := unsafe.Slice(out, len(hs))
			for i, v := range hs {
				dst[i] = C.CK_OBJECT_HANDLE(v)
			}
		}
		*count = C.CK_ULONG(len(hs))
		return ckrOK
	})
}

//export goFindObjectsFinal
func goFindObjectsFinal(h C.CK_SESSION_HANDLE) (rv C.CK_RV) {
	defer guard(&rv)
	return withToken(true, func(t *token) C.CK_RV { return C.CK_RV(t.findFinal(uint(h))) })
}

//export goSignInit
func goSignInit(h C.CK_SESSION_HANDLE, m *C.CK_MECHANISM, key C.CK_OBJECT_HANDLE) (rv C.CK_RV) {
	defer guard(&rv)
	return withToken(m != nil, func(t *token) C.CK_RV { return signInit(t, uint(h), m, uint(key)) })
}

// signInit starts C_SignInit's mechanism m with key on session h.
func signInit(t *token, h uint, m *C.CK_MECHANISM, key uint) C.CK_RV {
	var pp pssParams
	switch {
	case m.pParameter == nil && m.ulParameterLen == 0:
	case m.pParameter != nil && m.ulParameterLen == C.CK_ULONG(unsafe.Sizeof(C.CK_RSA_PKCS_PSS_PARAMS{})):
		p := (*C.CK_RSA_PKCS_PSS_PARAMS)(m.pParameter)
		pp = pssParams{present: true, hashAlg: uint(p.hashAlg), mgf: uint(p.mgf), saltBytes: uint(p.sLen)}
	default:
		return ckrMechanismParamInvalid
	}
	return C.CK_RV(t.signInit(h, uint(m.mechanism), pp, key))
}

//export goSign
func goSign(h C.CK_SESSION_HANDLE, data *C.CK_BYTE, n C.CK_ULONG, sig *C.CK_BYTE, sigLen *C.CK_ULONG) (rv C.CK_RV) {
	defer guard(&rv)
	return withToken(true, func(t *token) C.CK_RV {
		d, ok := bytesOf(unsafe.Pointer(data), n)
		if !ok {
			return ckrArgumentsBad
		}
		return finishC(t, uint(h), d, sig, sigLen)
	})
}

//export goSignUpdate
func goSignUpdate(h C.CK_SESSION_HANDLE, data *C.CK_BYTE, n C.CK_ULONG) (rv C.CK_RV) {
	defer guard(&rv)
	return withToken(true, func(t *token) C.CK_RV {
		d, ok := bytesOf(unsafe.Pointer(data), n)
		if !ok {
			return ckrArgumentsBad
		}
		return C.CK_RV(t.signUpdate(uint(h), d))
	})
}

//export goSignFinal
func goSignFinal(h C.CK_SESSION_HANDLE, sig *C.CK_BYTE, sigLen *C.CK_ULONG) (rv C.CK_RV) {
	defer guard(&rv)
	return withToken(true, func(t *token) C.CK_RV { return finishC(t, uint(h), nil, sig, sigLen) })
}

// finishC ends a signature into the C output buffer sig of *sigLen bytes.
func finishC(t *token, h uint, data []byte, sig *C.CK_BYTE, sigLen *C.CK_ULONG) C.CK_RV {
	if sigLen == nil {
		return ckrArgumentsBad
	}
	outLen := int(min(*sigLen, 1<<20))
	s, need, r := t.finish(context.Background(), h, data, sig != nil, outLen)
	switch r {
	case ckrOK:
		if sig != nil {
			copy(unsafe.Slice((*byte)(unsafe.Pointer(sig)), len(s)), s)
			need = len(s)
		}
		*sigLen = C.CK_ULONG(need)
	case ckrBufferTooSmall:
		*sigLen = C.CK_ULONG(need)
	}
	return C.CK_RV(r)
}
