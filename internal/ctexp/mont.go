package ctexp

import "math/bits"

// This file holds the word-level arithmetic. Every loop runs a number of
// times fixed by the modulus size, and no branch or memory address depends
// on a value: selection is by mask.

// montMulGeneric sets t[0..n] to x*y*2^(-64n) mod m, with t < 2m (not yet
// reduced), for x, y < m and n = len(m); t has n+1 words. It is finely
// integrated operand scanning (FIOS): one pass over j per word y[i] adds
// x[j]*y[i] and q*m[j], q chosen so the lowest word cancels, and shifts the
// sum down by one word. The amd64 kernel computes the same.
func montMulGeneric(t, x, y, m []uint64, k0 uint64) {
	n := len(m)
	clear(t[:n+1])
	for i := range n {
		b := y[i]
		hi, lo := bits.Mul64(x[0], b)
		lo, c := bits.Add64(lo, t[0], 0)
		c1 := hi + c
		q := lo * k0
		hi, lo2 := bits.Mul64(q, m[0])
		_, c = bits.Add64(lo2, lo, 0)
		c2 := hi + c
		for j := 1; j < n; j++ {
			hi, lo = bits.Mul64(x[j], b)
			lo, c = bits.Add64(lo, c1, 0)
			hi += c
			lo, c = bits.Add64(lo, t[j], 0)
			c1 = hi + c
			hi, lo2 = bits.Mul64(q, m[j])
			lo2, c = bits.Add64(lo2, c2, 0)
			hi += c
			t[j-1], c = bits.Add64(lo2, lo, 0)
			c2 = hi + c
		}
		s, c := bits.Add64(t[n], c1, 0)
		s, c3 := bits.Add64(s, c2, 0)
		t[n-1], t[n] = s, c+c3
	}
}

// reduce sets z = t mod m for t < 2m given as n+1 words (len(z) = n), by
// subtracting m and keeping the difference unless it borrowed.
func reduce(z, t, m []uint64) {
	n := len(m)
	var b uint64
	for j := range n {
		z[j], b = bits.Sub64(t[j], m[j], b)
	}
	// Keep t when t[n] == 0 and t - m borrowed, i.e. t < m.
	keep := -((1 ^ t[n]) & b)
	for j := range n {
		z[j] ^= (z[j] ^ t[j]) & keep
	}
}

// lessThan returns 1 when x < m and 0 otherwise (len(x) = len(m)).
func lessThan(x, m []uint64) uint64 {
	var b uint64
	for j := range m {
		_, b = bits.Sub64(x[j], m[j], b)
	}
	return b
}

// selectEntry sets z = table[idx*n : (idx+1)*n] reading every entry, so the
// memory accessed does not depend on idx.
func selectEntry(z, table []uint64, idx uint64, entries int) {
	n := len(z)
	clear(z)
	for e := range entries {
		// mask is all ones when e == idx, zero otherwise, without a branch.
		d := uint64(e) ^ idx
		mask := ((d | -d) >> 63) - 1
		row := table[e*n : (e+1)*n]
		for j, w := range row {
			z[j] |= w & mask
		}
	}
}

// putBytes writes x as big-endian bytes into out (len(out) <= 8*len(x));
// the words beyond are zero for every reduced value.
func putBytes(out []byte, x []uint64) {
	for i := range out {
		k := len(out) - 1 - i // byte index from the least significant end
		out[i] = byte(x[k/8] >> (8 * (k % 8)))
	}
}

// setBytes sets x from big-endian b (len(b) <= 8*len(x)).
func setBytes(x []uint64, b []byte) {
	clear(x)
	for i := range b {
		k := len(b) - 1 - i
		x[k/8] |= uint64(b[i]) << (8 * (k % 8))
	}
}
