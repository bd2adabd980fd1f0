// Package mapkeys lists the keys of a map of node numbers in order.
package mapkeys

import "slices"

// Sorted returns the keys of m in ascending order: an empty, non-nil
// slice for an empty m.
func Sorted[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
