//go:build amd64 && !purego

// Montgomery multiplication kernels for amd64: one routine for every
// modulus size, looping over words; nothing branches on or indexes by a
// value, only by the number of words n.

#include "textflag.h"

// func montMulAsm(t, x, y, m *uint64, n int, k0 uint64)
//
// t[0..n] = x * y * 2^(-64n) mod m, not yet reduced below m (t < 2m), by
// finely integrated operand scanning (FIOS): for each word y[i], one pass
// over j adds x[j]*y[i] and q*m[j] and shifts the sum down by one word.
// The instruction sequence depends only on n, never on the values.
TEXT ·montMulAsm(SB), NOSPLIT, $0-48
	MOVQ t+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ m+24(FP), R9
	MOVQ n+32(FP), R10

	// t[0..n] = 0
	XORQ AX, AX
	XORQ R11, R11

zero:
	MOVQ AX, (DI)(R11*8)
	INCQ R11
	CMPQ R11, R10
	JLE  zero

	XORQ R12, R12 // i

outer:
	MOVQ y+16(FP), R8
	MOVQ (R8)(R12*8), BX // b = y[i]

	// j = 0: lo = t[0] + x[0]*b; q = lo*k0; lo + q*m[0] = 0 mod 2^64.
	MOVQ  (SI), AX
	MULQ  BX
	ADDQ  (DI), AX
	ADCQ  $0, DX
	MOVQ  DX, R13 // c1
	MOVQ  AX, R8
	MOVQ  k0+40(FP), CX
	IMULQ AX, CX  // q
	MOVQ  (R9), AX
	MULQ  CX
	ADDQ  R8, AX
	ADCQ  $0, DX
	MOVQ  DX, R14 // c2
	MOVQ  $1, R11 // j
	CMPQ  R11, R10
	JGE   tail

inner:
	MOVQ (SI)(R11*8), AX
	MULQ BX
	ADDQ R13, AX
	ADCQ $0, DX
	ADDQ (DI)(R11*8), AX
	ADCQ $0, DX
	MOVQ DX, R13
	MOVQ AX, R8
	MOVQ (R9)(R11*8), AX
	MULQ CX
	ADDQ R14, AX
	ADCQ $0, DX
	ADDQ R8, AX
	ADCQ $0, DX
	MOVQ DX, R14
	MOVQ AX, -8(DI)(R11*8)
	INCQ R11
	CMPQ R11, R10
	JLT  inner

tail:
	// t[n-1], t[n] = t[n] + c1 + c2
	XORQ DX, DX
	MOVQ (DI)(R10*8), AX
	ADDQ R13, AX
	ADCQ $0, DX
	ADDQ R14, AX
	ADCQ $0, DX
	MOVQ AX, -8(DI)(R10*8)
	MOVQ DX, (DI)(R10*8)
	INCQ R12
	CMPQ R12, R10
	JLT  outer
	RET

// One word of a row pass: lo, hi = DX * src[off]; lo += hiPrev (OF chain);
// lo += t[off] (CF chain); store lo at t[off+shift].
#define ROW(off, shift, hiPrev, hiNext) \
	MULXQ off(R10), AX, hiNext \
	ADOXQ hiPrev, AX           \
	ADCXQ off(DI), AX          \
	MOVQ  AX, (off+shift)(DI)

// func montMulADX(t, x, y, m *uint64, n int, k0 uint64)
//
// The same result as montMulAsm, by coarsely integrated operand scanning
// with MULX and the two carry chains of ADCX and ADOX: for each word y[i],
// one pass adds x*y[i] to t, a second adds q*m and shifts t down one word.
// t has n+2 words. Requires BMI2 and ADX.
TEXT ·montMulADX(SB), NOSPLIT, $0-48
	MOVQ t+0(FP), R11
	MOVQ x+8(FP), SI
	MOVQ m+24(FP), R9
	MOVQ n+32(FP), R14

	// t[0..n] = 0
	XORQ AX, AX
	XORQ R12, R12

zero:
	MOVQ AX, (R11)(R12*8)
	INCQ R12
	CMPQ R12, R14
	JLE  zero

	XORQ R12, R12 // i

outer:
	// Pass A: t[0..n+1] = t + x*y[i].
	MOVQ y+16(FP), DX
	MOVQ (DX)(R12*8), DX
	MOVQ R11, DI
	MOVQ SI, R10
	MOVQ R14, CX
	ANDQ $3, CX
	MOVQ R14, R13
	SHRQ $2, R13
	XORQ R8, R8   // hiPrev = 0; clears CF and OF
	// CX words singly, then R13 groups of four; the loop control (MOV,
	// LEA, JCXZ) keeps CF and OF. hiPrev is in R8 on entry and exit.
aone:
	JCXZQ afour
	ROW(0, 0, R8, BX)
	MOVQ  BX, R8
	LEAQ  8(R10), R10
	LEAQ  8(DI), DI
	LEAQ  -1(CX), CX
	JMP   aone

afour:
	MOVQ R13, CX

aloop:
	JCXZQ adone
	ROW(0, 0, R8, BX)
	ROW(8, 0, BX, R8)
	ROW(16, 0, R8, BX)
	ROW(24, 0, BX, R8)
	LEAQ  32(R10), R10
	LEAQ  32(DI), DI
	LEAQ  -1(CX), CX
	JMP   aloop

adone:
	MOVQ  $0, AX
	ADOXQ R8, AX
	ADCXQ (DI), AX
	MOVQ  AX, (DI)
	MOVQ  $0, AX
	ADCXQ AX, AX
	MOVQ  AX, 8(DI)

	// Pass B: q = t[0]*k0; t = (t + q*m) / 2^64.
	MOVQ  R11, DI
	MOVQ  R9, R10
	LEAQ  -1(R14), CX
	MOVQ  CX, R13
	ANDQ  $3, CX
	SHRQ  $2, R13
	MOVQ  (DI), DX
	IMULQ k0+40(FP), DX
	XORQ  AX, AX // clears CF and OF
	MULXQ (R10), AX, R8
	ADCXQ (DI), AX // the low word cancels; keep its carry
	LEAQ  8(R10), R10
	LEAQ  8(DI), DI
bone:
	JCXZQ bfour
	ROW(0, -8, R8, BX)
	MOVQ  BX, R8
	LEAQ  8(R10), R10
	LEAQ  8(DI), DI
	LEAQ  -1(CX), CX
	JMP   bone

bfour:
	MOVQ R13, CX

bloop:
	JCXZQ bdone
	ROW(0, -8, R8, BX)
	ROW(8, -8, BX, R8)
	ROW(16, -8, R8, BX)
	ROW(24, -8, BX, R8)
	LEAQ  32(R10), R10
	LEAQ  32(DI), DI
	LEAQ  -1(CX), CX
	JMP   bloop

bdone:
	MOVQ  $0, AX
	ADOXQ R8, AX
	ADCXQ (DI), AX
	MOVQ  AX, -8(DI)
	MOVQ  8(DI), AX
	MOVQ  $0, BX
	ADCXQ BX, AX
	MOVQ  AX, (DI)

	INCQ R12
	CMPQ R12, R14
	JLT  outer
	RET

// func sqrADX(p, x *uint64, n int)
//
// p[0..2n] = x*x (p[2n] = 0): the products x[i]*x[j], i < j, once each,
// row by row, then doubled and the squares x[i]*x[i] added in one pass.
// Requires BMI2 and ADX.
TEXT ·sqrADX(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), R11
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), R14

	// p[0..2n] = 0
	XORQ AX, AX
	XORQ R12, R12
	LEAQ (R14)(R14*1), CX

sqrzero:
	MOVQ AX, (R11)(R12*8)
	INCQ R12
	CMPQ R12, CX
	JLE  sqrzero

	XORQ R12, R12 // i

sqrrow:
	// Row i: p[2i+1 .. i+n] += x[i] * x[i+1 .. n-1].
	LEAQ 1(R12), AX
	CMPQ AX, R14
	JGE  sqrdiag
	MOVQ (SI)(R12*8), DX
	LEAQ (SI)(AX*8), R10
	LEAQ (R12)(R12*1), AX
	LEAQ 8(R11)(AX*8), DI
	MOVQ R14, CX
	SUBQ R12, CX
	DECQ CX       // L = n-1-i
	MOVQ CX, R13
	ANDQ $3, CX
	SHRQ $2, R13
	XORQ R8, R8   // clears CF and OF
	// CX words singly, then R13 groups of four; the loop control (MOV,
	// LEA, JCXZ) keeps CF and OF. hiPrev is in R8 on entry and exit.
sone:
	JCXZQ sfour
	ROW(0, 0, R8, BX)
	MOVQ  BX, R8
	LEAQ  8(R10), R10
	LEAQ  8(DI), DI
	LEAQ  -1(CX), CX
	JMP   sone

sfour:
	MOVQ R13, CX

sloop:
	JCXZQ sdone
	ROW(0, 0, R8, BX)
	ROW(8, 0, BX, R8)
	ROW(16, 0, R8, BX)
	ROW(24, 0, BX, R8)
	LEAQ  32(R10), R10
	LEAQ  32(DI), DI
	LEAQ  -1(CX), CX
	JMP   sloop

sdone:
	MOVQ  $0, AX
	ADOXQ R8, AX
	ADCXQ (DI), AX
	MOVQ  AX, (DI)
	INCQ  R12
	JMP   sqrrow

sqrdiag:
	// p = 2p + sum x[i]^2 * 2^(128i)
	MOVQ R11, DI
	MOVQ SI, R10
	MOVQ R14, CX
	XORQ AX, AX // clears CF and OF

sqrdiagloop:
	JCXZQ sqrdone
	MOVQ  (R10), DX
	MULXQ DX, BX, R8
	MOVQ  (DI), AX
	ADCXQ AX, AX
	ADOXQ BX, AX
	MOVQ  AX, (DI)
	MOVQ  8(DI), AX
	ADCXQ AX, AX
	ADOXQ R8, AX
	MOVQ  AX, 8(DI)
	LEAQ  8(R10), R10
	LEAQ  16(DI), DI
	LEAQ  -1(CX), CX
	JMP   sqrdiagloop

sqrdone:
	RET

// func redcADX(p, m *uint64, n int, k0 uint64)
//
// Montgomery reduction: p[n..2n] = p[0..2n) * 2^(-64n) mod m, below 2m,
// for p < m*2^(64n). Row i adds q*m at word i with q = p[i]*k0, which
// clears p[i]; the carry out of the row's top word waits in SI for the next
// row. p has 2n+1 words. Requires BMI2 and ADX.
TEXT ·redcADX(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), R11
	MOVQ m+8(FP), R9
	MOVQ n+16(FP), R14
	XORQ SI, SI   // pending carry
	XORQ R12, R12 // i

redcrow:
	LEAQ  (R11)(R12*8), DI
	MOVQ  R9, R10
	MOVQ  R14, CX
	MOVQ  R14, R13
	ANDQ  $3, CX
	SHRQ  $2, R13
	MOVQ  (DI), DX
	IMULQ k0+24(FP), DX
	XORQ  R8, R8 // clears CF and OF
	// CX words singly, then R13 groups of four; the loop control (MOV,
	// LEA, JCXZ) keeps CF and OF. hiPrev is in R8 on entry and exit.
rone:
	JCXZQ rfour
	ROW(0, 0, R8, BX)
	MOVQ  BX, R8
	LEAQ  8(R10), R10
	LEAQ  8(DI), DI
	LEAQ  -1(CX), CX
	JMP   rone

rfour:
	MOVQ R13, CX

rloop:
	JCXZQ rdone
	ROW(0, 0, R8, BX)
	ROW(8, 0, BX, R8)
	ROW(16, 0, R8, BX)
	ROW(24, 0, BX, R8)
	LEAQ  32(R10), R10
	LEAQ  32(DI), DI
	LEAQ  -1(CX), CX
	JMP   rloop

rdone:
	// p[i+n] += hiPrev + OF + CF + pending; the carry out is pending next.
	MOVQ  $0, AX
	ADOXQ R8, AX
	ADCXQ (DI), AX
	MOVQ  $0, BX
	ADCXQ BX, BX
	ADDQ  SI, AX
	ADCQ  $0, BX
	MOVQ  AX, (DI)
	MOVQ  BX, SI
	INCQ  R12
	CMPQ  R12, R14
	JLT   redcrow

	MOVQ R14, AX
	SHLQ $1, AX
	MOVQ SI, (R11)(AX*8)
	RET
