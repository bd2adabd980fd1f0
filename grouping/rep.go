package grouping

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Term names one first sub-secret-key d_ji: share I of calculator J ([0064]).
// Both numbers start at 1. In JSON a Term is the pair [j,i].
type Term struct {
	J int // calculator number, 1..k
	I int // share number inside that calculator, 1..l
}

// String returns the patent's two-digit form "ji" when both numbers are
// single digits, and "j.i" otherwise.
func (x Term) String() string {
	if x.J < 10 && x.I < 10 && x.J >= 0 && x.I >= 0 {
		return fmt.Sprintf("%d%d", x.J, x.I)
	}
	return fmt.Sprintf("%d.%d", x.J, x.I)
}

// MarshalJSON encodes x as [j,i].
func (x Term) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]int{x.J, x.I})
}

// UnmarshalJSON decodes [j,i].
func (x *Term) UnmarshalJSON(b []byte) error {
	var p [2]int
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("grouping: a term is [j,i]: %w", err)
	}
	x.J, x.I = p[0], p[1]
	return nil
}

// Rep is an equation combination representation ([0069]): t terms on t
// distinct calculators, sorted by calculator number. It stands for the
// equation d = d_{j1 i1} + ... + d_{jt it} + c_a.
type Rep []Term

// ErrInvalidRep is returned for a representation that does not fit (k, t, l).
var ErrInvalidRep = errors.New("grouping: invalid equation combination representation")

// String returns the patent's notation, e.g. "(11,22,31)".
func (r Rep) String() string {
	parts := make([]string, len(r))
	for n, x := range r {
		parts[n] = x.String()
	}
	return "(" + strings.Join(parts, ",") + ")"
}

// Calculators returns the calculator numbers of r, in order.
func (r Rep) Calculators() []int {
	js := make([]int, len(r))
	for n, x := range r {
		js[n] = x.J
	}
	return js
}

// Validate reports whether r has exactly t terms on distinct calculators in
// ascending order, each with 1 <= j <= k and 1 <= i <= l.
func (r Rep) Validate(k, t, l int) error {
	if len(r) != t {
		return fmt.Errorf("%w: %v has %d terms, want t=%d", ErrInvalidRep, r, len(r), t)
	}
	for n, x := range r {
		if x.J < 1 || x.J > k || x.I < 1 || x.I > l {
			return fmt.Errorf("%w: term %v outside k=%d, l=%d", ErrInvalidRep, x, k, l)
		}
		if n > 0 && r[n-1].J >= x.J {
			return fmt.Errorf("%w: %v: calculators must be distinct and ascending", ErrInvalidRep, r)
		}
	}
	return nil
}

// Equal reports whether r and s name the same terms.
func (r Rep) Equal(s Rep) bool { return slices.Equal(r, s) }

// Plan assigns representations to combiners: Combiners[a] is the list of
// representations stored by combiner a+1 ([0071], [0082]). A plan holds no
// secret: it is what an operator audits.
type Plan struct {
	K         int     `json:"k"`
	T         int     `json:"t"`
	L         int     `json:"l"`
	Combiners [][]Rep `json:"combiners"`
	// Retired lists calculators taken out of service ([0054] point 3),
	// ascending. They keep their numbers, so that no other calculator or
	// representation is renamed; no representation may use them, and
	// coverage is over the calculator sets without them.
	Retired []int `json:"retired,omitempty"`
}
