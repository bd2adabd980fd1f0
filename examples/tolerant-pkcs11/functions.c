/* The C entry points of the module (PKCS #11 v2.40 section 5): the
 * supported functions call their Go implementation; every other one
 * returns CKR_FUNCTION_NOT_SUPPORTED. Generated once from tpkcs11.h's
 * CK_FUNCTION_LIST, then kept by hand. */
#include <pthread.h>
#include <stddef.h>
#include "tpkcs11.h"
#include "_cgo_export.h"

#define CKR_OK 0UL
#define CKR_ARGUMENTS_BAD 0x7UL
#define CKR_DEVICE_ERROR 0x30UL

/* The Go runtime does not survive fork(): in a child of the process that
 * loaded the module, every call is refused before it reaches Go. */
static volatile int tolerant_forked;

static void tolerant_on_fork_child(void) { tolerant_forked = 1; }

__attribute__((constructor)) static void tolerant_register_atfork(void)
{
	pthread_atfork(NULL, NULL, tolerant_on_fork_child);
}

#define REFUSE_IN_CHILD() do { if (tolerant_forked) return CKR_DEVICE_ERROR; } while (0)

CK_RV C_Initialize(CK_VOID_PTR a0)
{
	REFUSE_IN_CHILD();
	return goInitialize(a0);
}

CK_RV C_Finalize(CK_VOID_PTR a0)
{
	REFUSE_IN_CHILD();
	return goFinalize(a0);
}

CK_RV C_GetInfo(CK_INFO_PTR a0)
{
	REFUSE_IN_CHILD();
	return goGetInfo(a0);
}

CK_RV C_GetSlotList(CK_BBOOL a0, CK_SLOT_ID_PTR a1, CK_ULONG_PTR a2)
{
	REFUSE_IN_CHILD();
	return goGetSlotList(a0, a1, a2);
}

CK_RV C_GetSlotInfo(CK_SLOT_ID a0, CK_SLOT_INFO_PTR a1)
{
	REFUSE_IN_CHILD();
	return goGetSlotInfo(a0, a1);
}

CK_RV C_GetTokenInfo(CK_SLOT_ID a0, CK_TOKEN_INFO_PTR a1)
{
	REFUSE_IN_CHILD();
	return goGetTokenInfo(a0, a1);
}

CK_RV C_GetMechanismList(CK_SLOT_ID a0, CK_MECHANISM_TYPE_PTR a1, CK_ULONG_PTR a2)
{
	REFUSE_IN_CHILD();
	return goGetMechanismList(a0, a1, a2);
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID a0, CK_MECHANISM_TYPE a1, CK_MECHANISM_INFO_PTR a2)
{
	REFUSE_IN_CHILD();
	return goGetMechanismInfo(a0, a1, a2);
}

CK_RV C_InitToken(CK_SLOT_ID a0, CK_UTF8CHAR_PTR a1, CK_ULONG a2, CK_UTF8CHAR_PTR a3)
{
	(void)a0; (void)a1; (void)a2; (void)a3;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_InitPIN(CK_SESSION_HANDLE a0, CK_UTF8CHAR_PTR a1, CK_ULONG a2)
{
	(void)a0; (void)a1; (void)a2;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_SetPIN(CK_SESSION_HANDLE a0, CK_UTF8CHAR_PTR a1, CK_ULONG a2, CK_UTF8CHAR_PTR a3, CK_ULONG a4)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_OpenSession(CK_SLOT_ID a0, CK_FLAGS a1, CK_VOID_PTR a2, CK_NOTIFY a3, CK_SESSION_HANDLE_PTR a4)
{
	(void)a2; (void)a3; /* no notification callbacks */
	REFUSE_IN_CHILD();
	return goOpenSession(a0, a1, a4);
}

CK_RV C_CloseSession(CK_SESSION_HANDLE a0)
{
	REFUSE_IN_CHILD();
	return goCloseSession(a0);
}

CK_RV C_CloseAllSessions(CK_SLOT_ID a0)
{
	REFUSE_IN_CHILD();
	return goCloseAllSessions(a0);
}

CK_RV C_GetSessionInfo(CK_SESSION_HANDLE a0, CK_SESSION_INFO_PTR a1)
{
	REFUSE_IN_CHILD();
	return goGetSessionInfo(a0, a1);
}

CK_RV C_GetOperationState(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG_PTR a2)
{
	(void)a0; (void)a1; (void)a2;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_SetOperationState(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2, CK_OBJECT_HANDLE a3, CK_OBJECT_HANDLE a4)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_Login(CK_SESSION_HANDLE a0, CK_USER_TYPE a1, CK_UTF8CHAR_PTR a2, CK_ULONG a3)
{
	REFUSE_IN_CHILD();
	return goLogin(a0, a1, a2, a3);
}

CK_RV C_Logout(CK_SESSION_HANDLE a0)
{
	REFUSE_IN_CHILD();
	return goLogout(a0);
}

CK_RV C_CreateObject(CK_SESSION_HANDLE a0, CK_ATTRIBUTE_PTR a1, CK_ULONG a2, CK_OBJECT_HANDLE_PTR a3)
{
	(void)a0; (void)a1; (void)a2; (void)a3;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_CopyObject(CK_SESSION_HANDLE a0, CK_OBJECT_HANDLE a1, CK_ATTRIBUTE_PTR a2, CK_ULONG a3, CK_OBJECT_HANDLE_PTR a4)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_DestroyObject(CK_SESSION_HANDLE a0, CK_OBJECT_HANDLE a1)
{
	(void)a0; (void)a1;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_GetObjectSize(CK_SESSION_HANDLE a0, CK_OBJECT_HANDLE a1, CK_ULONG_PTR a2)
{
	(void)a0; (void)a1; (void)a2;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE a0, CK_OBJECT_HANDLE a1, CK_ATTRIBUTE_PTR a2, CK_ULONG a3)
{
	REFUSE_IN_CHILD();
	return goGetAttributeValue(a0, a1, a2, a3);
}

CK_RV C_SetAttributeValue(CK_SESSION_HANDLE a0, CK_OBJECT_HANDLE a1, CK_ATTRIBUTE_PTR a2, CK_ULONG a3)
{
	(void)a0; (void)a1; (void)a2; (void)a3;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE a0, CK_ATTRIBUTE_PTR a1, CK_ULONG a2)
{
	REFUSE_IN_CHILD();
	return goFindObjectsInit(a0, a1, a2);
}

CK_RV C_FindObjects(CK_SESSION_HANDLE a0, CK_OBJECT_HANDLE_PTR a1, CK_ULONG a2, CK_ULONG_PTR a3)
{
	REFUSE_IN_CHILD();
	return goFindObjects(a0, a1, a2, a3);
}

CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE a0)
{
	REFUSE_IN_CHILD();
	return goFindObjectsFinal(a0);
}

CK_RV C_EncryptInit(CK_SESSION_HANDLE a0, CK_MECHANISM_PTR a1, CK_OBJECT_HANDLE a2)
{
	(void)a0; (void)a1; (void)a2;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_Encrypt(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2, CK_BYTE_PTR a3, CK_ULONG_PTR a4)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_EncryptUpdate(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2, CK_BYTE_PTR a3, CK_ULONG_PTR a4)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_EncryptFinal(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG_PTR a2)
{
	(void)a0; (void)a1; (void)a2;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_DecryptInit(CK_SESSION_HANDLE a0, CK_MECHANISM_PTR a1, CK_OBJECT_HANDLE a2)
{
	(void)a0; (void)a1; (void)a2;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_Decrypt(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2, CK_BYTE_PTR a3, CK_ULONG_PTR a4)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_DecryptUpdate(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2, CK_BYTE_PTR a3, CK_ULONG_PTR a4)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_DecryptFinal(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG_PTR a2)
{
	(void)a0; (void)a1; (void)a2;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_DigestInit(CK_SESSION_HANDLE a0, CK_MECHANISM_PTR a1)
{
	(void)a0; (void)a1;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_Digest(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2, CK_BYTE_PTR a3, CK_ULONG_PTR a4)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_DigestUpdate(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2)
{
	(void)a0; (void)a1; (void)a2;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_DigestKey(CK_SESSION_HANDLE a0, CK_OBJECT_HANDLE a1)
{
	(void)a0; (void)a1;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_DigestFinal(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG_PTR a2)
{
	(void)a0; (void)a1; (void)a2;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_SignInit(CK_SESSION_HANDLE a0, CK_MECHANISM_PTR a1, CK_OBJECT_HANDLE a2)
{
	REFUSE_IN_CHILD();
	return goSignInit(a0, a1, a2);
}

CK_RV C_Sign(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2, CK_BYTE_PTR a3, CK_ULONG_PTR a4)
{
	REFUSE_IN_CHILD();
	return goSign(a0, a1, a2, a3, a4);
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2)
{
	REFUSE_IN_CHILD();
	return goSignUpdate(a0, a1, a2);
}

CK_RV C_SignFinal(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG_PTR a2)
{
	REFUSE_IN_CHILD();
	return goSignFinal(a0, a1, a2);
}

CK_RV C_SignRecoverInit(CK_SESSION_HANDLE a0, CK_MECHANISM_PTR a1, CK_OBJECT_HANDLE a2)
{
	(void)a0; (void)a1; (void)a2;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_SignRecover(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2, CK_BYTE_PTR a3, CK_ULONG_PTR a4)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_VerifyInit(CK_SESSION_HANDLE a0, CK_MECHANISM_PTR a1, CK_OBJECT_HANDLE a2)
{
	(void)a0; (void)a1; (void)a2;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_Verify(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2, CK_BYTE_PTR a3, CK_ULONG a4)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_VerifyUpdate(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2)
{
	(void)a0; (void)a1; (void)a2;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_VerifyFinal(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2)
{
	(void)a0; (void)a1; (void)a2;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_VerifyRecoverInit(CK_SESSION_HANDLE a0, CK_MECHANISM_PTR a1, CK_OBJECT_HANDLE a2)
{
	(void)a0; (void)a1; (void)a2;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_VerifyRecover(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2, CK_BYTE_PTR a3, CK_ULONG_PTR a4)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_DigestEncryptUpdate(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2, CK_BYTE_PTR a3, CK_ULONG_PTR a4)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_DecryptDigestUpdate(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2, CK_BYTE_PTR a3, CK_ULONG_PTR a4)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_SignEncryptUpdate(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2, CK_BYTE_PTR a3, CK_ULONG_PTR a4)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_DecryptVerifyUpdate(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2, CK_BYTE_PTR a3, CK_ULONG_PTR a4)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_GenerateKey(CK_SESSION_HANDLE a0, CK_MECHANISM_PTR a1, CK_ATTRIBUTE_PTR a2, CK_ULONG a3, CK_OBJECT_HANDLE_PTR a4)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE a0, CK_MECHANISM_PTR a1, CK_ATTRIBUTE_PTR a2, CK_ULONG a3, CK_ATTRIBUTE_PTR a4, CK_ULONG a5, CK_OBJECT_HANDLE_PTR a6, CK_OBJECT_HANDLE_PTR a7)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4; (void)a5; (void)a6; (void)a7;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_WrapKey(CK_SESSION_HANDLE a0, CK_MECHANISM_PTR a1, CK_OBJECT_HANDLE a2, CK_OBJECT_HANDLE a3, CK_BYTE_PTR a4, CK_ULONG_PTR a5)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4; (void)a5;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_UnwrapKey(CK_SESSION_HANDLE a0, CK_MECHANISM_PTR a1, CK_OBJECT_HANDLE a2, CK_BYTE_PTR a3, CK_ULONG a4, CK_ATTRIBUTE_PTR a5, CK_ULONG a6, CK_OBJECT_HANDLE_PTR a7)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4; (void)a5; (void)a6; (void)a7;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_DeriveKey(CK_SESSION_HANDLE a0, CK_MECHANISM_PTR a1, CK_OBJECT_HANDLE a2, CK_ATTRIBUTE_PTR a3, CK_ULONG a4, CK_OBJECT_HANDLE_PTR a5)
{
	(void)a0; (void)a1; (void)a2; (void)a3; (void)a4; (void)a5;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_SeedRandom(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2)
{
	(void)a0; (void)a1; (void)a2;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_GenerateRandom(CK_SESSION_HANDLE a0, CK_BYTE_PTR a1, CK_ULONG a2)
{
	(void)a0; (void)a1; (void)a2;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE a0)
{
	(void)a0;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_CancelFunction(CK_SESSION_HANDLE a0)
{
	(void)a0;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_WaitForSlotEvent(CK_FLAGS a0, CK_SLOT_ID_PTR a1, CK_VOID_PTR a2)
{
	(void)a0; (void)a1; (void)a2;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

static CK_FUNCTION_LIST tolerant_functions = {
	{2, 40},
	C_Initialize,
	C_Finalize,
	C_GetInfo,
	C_GetFunctionList,
	C_GetSlotList,
	C_GetSlotInfo,
	C_GetTokenInfo,
	C_GetMechanismList,
	C_GetMechanismInfo,
	C_InitToken,
	C_InitPIN,
	C_SetPIN,
	C_OpenSession,
	C_CloseSession,
	C_CloseAllSessions,
	C_GetSessionInfo,
	C_GetOperationState,
	C_SetOperationState,
	C_Login,
	C_Logout,
	C_CreateObject,
	C_CopyObject,
	C_DestroyObject,
	C_GetObjectSize,
	C_GetAttributeValue,
	C_SetAttributeValue,
	C_FindObjectsInit,
	C_FindObjects,
	C_FindObjectsFinal,
	C_EncryptInit,
	C_Encrypt,
	C_EncryptUpdate,
	C_EncryptFinal,
	C_DecryptInit,
	C_Decrypt,
	C_DecryptUpdate,
	C_DecryptFinal,
	C_DigestInit,
	C_Digest,
	C_DigestUpdate,
	C_DigestKey,
	C_DigestFinal,
	C_SignInit,
	C_Sign,
	C_SignUpdate,
	C_SignFinal,
	C_SignRecoverInit,
	C_SignRecover,
	C_VerifyInit,
	C_Verify,
	C_VerifyUpdate,
	C_VerifyFinal,
	C_VerifyRecoverInit,
	C_VerifyRecover,
	C_DigestEncryptUpdate,
	C_DecryptDigestUpdate,
	C_SignEncryptUpdate,
	C_DecryptVerifyUpdate,
	C_GenerateKey,
	C_GenerateKeyPair,
	C_WrapKey,
	C_UnwrapKey,
	C_DeriveKey,
	C_SeedRandom,
	C_GenerateRandom,
	C_GetFunctionStatus,
	C_CancelFunction,
	C_WaitForSlotEvent,
};

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	*list = &tolerant_functions;
	return CKR_OK;
}
