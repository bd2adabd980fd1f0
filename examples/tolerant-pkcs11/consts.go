package main

// Constants of PKCS #11 v2.40 (OASIS, Base Specification section 3 and
// Current Mechanisms Specification section 2.1), as Go values.

// Return values.
const (
	ckrOK                         = 0x00
	ckrHostMemory                 = 0x02
	ckrSlotIDInvalid              = 0x03
	ckrGeneralError               = 0x05
	ckrFunctionFailed             = 0x06
	ckrArgumentsBad               = 0x07
	ckrCantLock                   = 0x0A
	ckrAttributeSensitive         = 0x11
	ckrAttributeTypeInvalid       = 0x12
	ckrDataInvalid                = 0x20
	ckrDataLenRange               = 0x21
	ckrDeviceError                = 0x30
	ckrDeviceRemoved              = 0x32
	ckrFunctionCanceled           = 0x50
	ckrFunctionNotSupported       = 0x54
	ckrKeyHandleInvalid           = 0x60
	ckrKeyTypeInconsistent        = 0x63
	ckrKeyFunctionNotPermitted    = 0x68
	ckrMechanismInvalid           = 0x70
	ckrMechanismParamInvalid      = 0x71
	ckrObjectHandleInvalid        = 0x82
	ckrOperationActive            = 0x90
	ckrOperationNotInitialized    = 0x91
	ckrPINIncorrect               = 0xA0
	ckrPINLenRange                = 0xA2
	ckrPINLocked                  = 0xA4
	ckrSessionHandleInvalid       = 0xB3
	ckrSessionParallelNotSupp     = 0xB4
	ckrTemplateInconsistent       = 0xD1
	ckrTokenNotPresent            = 0xE0
	ckrUserAlreadyLoggedIn        = 0x100
	ckrUserNotLoggedIn            = 0x101
	ckrUserTypeInvalid            = 0x103
	ckrBufferTooSmall             = 0x150
	ckrCryptokiNotInitialized     = 0x190
	ckrCryptokiAlreadyInitialized = 0x191
	ckrFunctionRejected           = 0x200
)

// Object classes, key and certificate types.
const (
	ckoCertificate = 1
	ckoPublicKey   = 2
	ckoPrivateKey  = 3
	ckkRSA         = 0
	ckcX509        = 0
)

// Attribute types.
const (
	ckaClass               = 0x000
	ckaToken               = 0x001
	ckaPrivate             = 0x002
	ckaLabel               = 0x003
	ckaValue               = 0x011
	ckaCertificateType     = 0x080
	ckaIssuer              = 0x081
	ckaSerialNumber        = 0x082
	ckaTrusted             = 0x086
	ckaCertificateCategory = 0x087
	ckaKeyType             = 0x100
	ckaSubject             = 0x101
	ckaID                  = 0x102
	ckaSensitive           = 0x103
	ckaEncrypt             = 0x104
	ckaDecrypt             = 0x105
	ckaWrap                = 0x106
	ckaUnwrap              = 0x107
	ckaSign                = 0x108
	ckaSignRecover         = 0x109
	ckaVerify              = 0x10A
	ckaVerifyRecover       = 0x10B
	ckaDerive              = 0x10C
	ckaModulus             = 0x120
	ckaModulusBits         = 0x121
	ckaPublicExponent      = 0x122
	ckaPrivateExponent     = 0x123
	ckaPrime1              = 0x124
	ckaPrime2              = 0x125
	ckaExponent1           = 0x126
	ckaExponent2           = 0x127
	ckaCoefficient         = 0x128
	ckaPublicKeyInfo       = 0x129
	ckaExtractable         = 0x162
	ckaLocal               = 0x163
	ckaNeverExtractable    = 0x164
	ckaAlwaysSensitive     = 0x165
	ckaModifiable          = 0x170
	ckaCopyable            = 0x171
	ckaDestroyable         = 0x172
	ckaAlwaysAuthenticate  = 0x202
	ckaAllowedMechanisms   = 0x40000600
)

// Mechanisms and MGFs.
const (
	ckmRSAPKCS          = 0x001
	ckmRSAPKCSPSS       = 0x00D
	ckmSHA256RSAPKCS    = 0x040
	ckmSHA384RSAPKCS    = 0x041
	ckmSHA512RSAPKCS    = 0x042
	ckmSHA256RSAPKCSPSS = 0x043
	ckmSHA384RSAPKCSPSS = 0x044
	ckmSHA512RSAPKCSPSS = 0x045
	ckmSHA256           = 0x250
	ckmSHA384           = 0x260
	ckmSHA512           = 0x270
	ckgMGF1SHA256       = 0x2
	ckgMGF1SHA384       = 0x3
	ckgMGF1SHA512       = 0x4
)

// Flags.
const (
	ckfTokenPresent       = 0x1     // slot
	ckfHWSlot             = 0x4     // slot
	ckfLoginRequired      = 0x4     // token
	ckfUserPINInitialized = 0x8     // token
	ckfTokenInitialized   = 0x400   // token
	ckfUserPINCountLow    = 0x10000 // token
	ckfUserPINFinalTry    = 0x20000 // token
	ckfUserPINLocked      = 0x40000 // token
	ckfRWSession          = 0x2     // session
	ckfSerialSession      = 0x4     // session
	ckfOSLockingOK        = 0x2     // C_Initialize
	ckfHW                 = 0x1     // mechanism
	ckfSign               = 0x800   // mechanism
)

// Users and session states.
const (
	ckuSO              = 0
	ckuUser            = 1
	cksROPublicSession = 0
	cksROUserFunctions = 1
	cksRWPublicSession = 2
	cksRWUserFunctions = 3
)

// ckUnavailable is CK_UNAVAILABLE_INFORMATION, (CK_ULONG)~0.
const ckUnavailable = ^uint(0)
