//go:build amd64 && !purego

package ctexp

import "golang.org/x/sys/cpu"

// montMulAsm and montMulADX are the assembly kernels in mont_amd64.s; see
// montMulGeneric for what they compute. t has len(m)+2 words.
//
//go:noescape
func montMulAsm(t, x, y, m *uint64, n int, k0 uint64)

//go:noescape
func montMulADX(t, x, y, m *uint64, n int, k0 uint64)

// sqrADX sets p[0..2n] = x*x; redcADX sets p[n..2n] = p*2^(-64n) mod m,
// below 2m. p has 2n+1 words.
//
//go:noescape
func sqrADX(p, x *uint64, n int)

//go:noescape
func redcADX(p, m *uint64, n int, k0 uint64)

// kernel selects the multiply-accumulate routine. Tests change it to
// exercise every kernel on the same machine.
var kernel = defaultKernel()

const (
	kernelGeneric = iota
	kernelMULQ
	kernelADX
)

func defaultKernel() int {
	if cpu.X86.HasADX && cpu.X86.HasBMI2 {
		return kernelADX
	}
	return kernelMULQ
}

func montMulKernel(t, x, y, m []uint64, k0 uint64) {
	switch kernel {
	case kernelADX:
		montMulADX(&t[0], &x[0], &y[0], &m[0], len(m), k0)
	case kernelMULQ:
		montMulAsm(&t[0], &x[0], &y[0], &m[0], len(m), k0)
	default:
		montMulGeneric(t, x, y, m, k0)
	}
}

// montSqrKernel sets p[n..2n] to x*x*2^(-64n) mod m, below 2m, and
// reports true, when this machine has a squaring kernel; p has 2n+1 words.
func montSqrKernel(p, x, m []uint64, k0 uint64) bool {
	if kernel != kernelADX {
		return false
	}
	sqrADX(&p[0], &x[0], len(m))
	redcADX(&p[0], &m[0], len(m), k0)
	return true
}

// kernels lists the kernels this machine can run, for tests.
func kernels() []int {
	if defaultKernel() == kernelADX {
		return []int{kernelGeneric, kernelMULQ, kernelADX}
	}
	return []int{kernelGeneric, kernelMULQ}
}
