package mapkeys

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSorted(t *testing.T) {
	require.Equal(t, []int{1, 3, 7}, Sorted(map[int]string{7: "", 1: "", 3: ""}))
	got := Sorted(map[int]bool{})
	require.NotNil(t, got, "an empty map gives an empty, non-nil slice")
	require.Empty(t, got)
}
