package main

/*
#include <string.h>
#include "tpkcs11.h"
*/
import "C"

import (
	"slices"
	"unsafe"
)

// Compile-time check that CK_ULONG is the 8 bytes the attribute encoding
// assumes (LP64): either subtraction overflows otherwise.
const (
	_ = uintptr(unsafe.Sizeof(C.CK_ULONG(0))) - ulongSize
	_ = ulongSize - uintptr(unsafe.Sizeof(C.CK_ULONG(0)))
)

// Every function below is called from C through the wrappers of
// functions.c. Each one recovers from a panic and returns
// CKR_GENERAL_ERROR instead, so that no Go panic crosses the C boundary.

// guard turns a panic into CKR_GENERAL_ERROR; deferred by every export.
func guard[RV ~uint64](rv *RV) {
	if r := recover(); r != nil {
		logPanic()
		*rv = ckrGeneralError
	}
}

// withToken calls f with the module's token, or returns why there is none
// (CKR_CRYPTOKI_NOT_INITIALIZED). argsOK false, checked after that, is
// CKR_ARGUMENTS_BAD.
func withToken(argsOK bool, f func(t *token) C.CK_RV) C.CK_RV {
	t, r := current()
	switch {
	case r != ckrOK:
		return C.CK_RV(r)
	case !argsOK:
		return ckrArgumentsBad
	}
	return f(t)
}

// withSlot is withToken for a function of slot: a slot other than the
// module's one is CKR_SLOT_ID_INVALID.
func withSlot(slot C.CK_SLOT_ID, argsOK bool, f func(t *token) C.CK_RV) C.CK_RV {
	return withToken(true, func(t *token) C.CK_RV {
		switch {
		case slot != slotID:
			return ckrSlotIDInvalid
		case !argsOK:
			return ckrArgumentsBad
		}
		return f(t)
	})
}

//export goInitialize
func goInitialize(args C.CK_VOID_PTR) (rv C.CK_RV) {
	defer guard(&rv)
	if args != nil {
		a := (*C.CK_C_INITIALIZE_ARGS)(args)
		fns := [4]bool{a.CreateMutex != nil, a.DestroyMutex != nil, a.LockMutex != nil, a.UnlockMutex != nil}
		if r := checkInitArgs(a.pReserved != nil, fns, uint(a.flags)); r != ckrOK {
			return C.CK_RV(r)
		}
	}
	return C.CK_RV(initialize())
}

//export goFinalize
func goFinalize(reserved C.CK_VOID_PTR) (rv C.CK_RV) {
	defer guard(&rv)
	if reserved != nil {
		return ckrArgumentsBad
	}
	return C.CK_RV(finalize())
}

// pad copies s into the blank-padded fixed-size field dst (section 3.2:
// CK_UTF8CHAR arrays are padded with spaces, not NUL-terminated).
func pad(dst unsafe.Pointer, size int, s string) {
	b := unsafe.Slice((*byte)(dst), size)
	for i := range b {
		b[i] = ' '
	}
	copy(b, s)
}

//export goGetInfo
func goGetInfo(info *C.CK_INFO) (rv C.CK_RV) {
	defer guard(&rv)
	return withToken(info != nil, func(*token) C.CK_RV {
		info.cryptokiVersion = C.CK_VERSION{major: 2, minor: 40}
		pad(unsafe.Pointer(&info.manufacturerID[0]), 32, "tolerant")
		info.flags = 0
		pad(unsafe.Pointer(&info.libraryDescription[0]), 32, "tolerant threshold RSA cluster")
		info.libraryVersion = C.CK_VERSION{major: 1, minor: 0}
		return ckrOK
	})
}

// putList writes n CK_ULONG values to list, following the convention of
// section 5.2 for output arrays: a NULL list asks for the count only.
func putList(vals []uint, list *C.CK_ULONG, count *C.CK_ULONG) C.CK_RV {
	if count == nil {
		return ckrArgumentsBad
	}
	have := int(*count)
	*count = C.CK_ULONG(len(vals))
	if list == nil {
		return ckrOK
	}
	if have < len(vals) {
		return ckrBufferTooSmall
	}
	out := unsafe.Slice(list, len(vals))
	for i, v := range vals {
		out[i] = C.CK_ULONG(v)
	}
	return ckrOK
}

//export goGetSlotList
func goGetSlotList(present C.CK_BBOOL, list *C.CK_SLOT_ID, count *C.CK_ULONG) (rv C.CK_RV) {
	defer guard(&rv)
	return withToken(true, func(*token) C.CK_RV { return putList([]uint{slotID}, (*C.CK_ULONG)(list), count) })
}

//export goGetSlotInfo
func goGetSlotInfo(slot C.CK_SLOT_ID, info *C.CK_SLOT_INFO) (rv C.CK_RV) {
	defer guard(&rv)
	return withSlot(slot, info != nil, func(t *token) C.CK_RV {
		pad(unsafe.Pointer(&info.slotDescription[0]), 64, "tolerant cluster "+t.label)
		pad(unsafe.Pointer(&info.manufacturerID[0]), 32, "tolerant")
		info.flags = ckfTokenPresent | ckfHWSlot
		info.hardwareVersion = C.CK_VERSION{major: 1}
		info.firmwareVersion = C.CK_VERSION{major: 1}
		return ckrOK
	})
}

//export goGetTokenInfo
func goGetTokenInfo(slot C.CK_SLOT_ID, info *C.CK_TOKEN_INFO) (rv C.CK_RV) {
	defer guard(&rv)
	return withSlot(slot, info != nil, func(t *token) C.CK_RV { return tokenInfo(t, info) })
}

// tokenInfo fills C_GetTokenInfo's CK_TOKEN_INFO.
func tokenInfo(t *token, info *C.CK_TOKEN_INFO) C.CK_RV {
	pad(unsafe.Pointer(&info.label[0]), 32, t.label)
	pad(unsafe.Pointer(&info.manufacturerID[0]), 32, "tolerant")
	pad(unsafe.Pointer(&info.model[0]), 16, "tolerant cluster")
	pad(unsafe.Pointer(&info.serialNumber[0]), 16, t.serial)
	info.flags = C.CK_FLAGS(ckfLoginRequired | ckfUserPINInitialized | ckfTokenInitialized | t.pinFlags())
	n := C.CK_ULONG(t.sessionCount())
	info.ulMaxSessionCount, info.ulSessionCount = maxSessions, n
	info.ulMaxRwSessionCount, info.ulRwSessionCount = maxSessions, n
	info.ulMaxPinLen, info.ulMinPinLen = 256, 4
	unavailable := C.CK_ULONG(ckUnavailable)
	info.ulTotalPublicMemory, info.ulFreePublicMemory = unavailable, unavailable
	info.ulTotalPrivateMemory, info.ulFreePrivateMemory = unavailable, unavailable
	info.hardwareVersion = C.CK_VERSION{major: 1}
	info.firmwareVersion = C.CK_VERSION{major: 1}
	pad(unsafe.Pointer(&info.utcTime[0]), 16, "")
	return ckrOK
}

//export goGetMechanismList
func goGetMechanismList(slot C.CK_SLOT_ID, list *C.CK_MECHANISM_TYPE, count *C.CK_ULONG) (rv C.CK_RV) {
	defer guard(&rv)
	return withSlot(slot, true, func(*token) C.CK_RV { return putList(signMechanisms, (*C.CK_ULONG)(list), count) })
}

//export goGetMechanismInfo
func goGetMechanismInfo(slot C.CK_SLOT_ID, mech C.CK_MECHANISM_TYPE, info *C.CK_MECHANISM_INFO) (rv C.CK_RV) {
	defer guard(&rv)
	return withSlot(slot, info != nil, func(t *token) C.CK_RV {
		if !slices.Contains(signMechanisms, uint(mech)) {
			return ckrMechanismInvalid
		}
		bits := C.CK_ULONG(t.pub.N.BitLen())
		info.ulMinKeySize, info.ulMaxKeySize = bits, bits
		info.flags = ckfHW | ckfSign
		return ckrOK
	})
}

//export goOpenSession
func goOpenSession(slot C.CK_SLOT_ID, flags C.CK_FLAGS, out *C.CK_SESSION_HANDLE) (rv C.CK_RV) {
	defer guard(&rv)
	return withToken(out != nil, func(t *token) C.CK_RV {
		h, r := t.openSession(uint(slot), uint(flags))
		if r == ckrOK {
			*out = C.CK_SESSION_HANDLE(h)
		}
		return C.CK_RV(r)
	})
}

//export goCloseSession
func goCloseSession(h C.CK_SESSION_HANDLE) (rv C.CK_RV) {
	defer guard(&rv)
	return withToken(true, func(t *token) C.CK_RV { return C.CK_RV(t.closeSession(uint(h))) })
}

//export goCloseAllSessions
func goCloseAllSessions(slot C.CK_SLOT_ID) (rv C.CK_RV) {
	defer guard(&rv)
	return withToken(true, func(t *token) C.CK_RV { return C.CK_RV(t.closeAll(uint(slot))) })
}

//export goGetSessionInfo
func goGetSessionInfo(h C.CK_SESSION_HANDLE, info *C.CK_SESSION_INFO) (rv C.CK_RV) {
	defer guard(&rv)
	return withToken(info != nil, func(t *token) C.CK_RV {
		state, flags, r := t.sessionInfo(uint(h))
		if r == ckrOK {
			info.slotID, info.state, info.flags, info.ulDeviceError = slotID, C.CK_STATE(state), C.CK_FLAGS(flags), 0
		}
		return C.CK_RV(r)
	})
}

// bytesOf copies n bytes at p; a NULL p is valid only with n == 0.
func bytesOf(p unsafe.Pointer, n C.CK_ULONG) ([]byte, bool) {
	if p == nil {
		return nil, n == 0
	}
	if n > 1<<30 {
		return nil, false
	}
	return C.GoBytes(p, C.int(n)), true
}

//export goLogin
func goLogin(h C.CK_SESSION_HANDLE, user C.CK_USER_TYPE, pin *C.CK_UTF8CHAR, n C.CK_ULONG) (rv C.CK_RV) {
	defer guard(&rv)
	return withToken(true, func(t *token) C.CK_RV {
		p, ok := bytesOf(unsafe.Pointer(pin), n)
		if !ok || pin == nil { // no protected authentication path
			return ckrArgumentsBad
		}
		defer clear(p)
		return C.CK_RV(t.login(uint(h), uint(user), p))
	})
}

//export goLogout
func goLogout(h C.CK_SESSION_HANDLE) (rv C.CK_RV) {
	defer guard(&rv)
	return withToken(true, func(t *token) C.CK_RV { return C.CK_RV(t.logout(uint(h))) })
}
