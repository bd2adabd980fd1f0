//go:build !amd64 || purego

package ctexp

const kernelGeneric = 0

var kernel = kernelGeneric

func montMulKernel(t, x, y, m []uint64, k0 uint64) {
	montMulGeneric(t, x, y, m, k0)
}

// montSqrKernel reports that there is no squaring kernel here.
func montSqrKernel(p, x, m []uint64, k0 uint64) bool { return false }

// kernels lists the kernels this machine can run, for tests.
func kernels() []int { return []int{kernelGeneric} }
