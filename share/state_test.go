package share

import (
	"errors"
	"strings"
	"testing"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/internal/testplan"
)

func TestDealerStateRoundTrip(t *testing.T) {
	dl := newDealer(t, testkeys.RSA2048, 4, 3, 2, &Options{Epoch: 3, Distributors: 2})
	if _, err := dl.Combiner(2, []grouping.Rep{testplan.Rep(11, 22, 31)}); err != nil {
		t.Fatal(err)
	}
	b, err := dl.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseDealerState(b)
	if err != nil {
		t.Fatal(err)
	}
	r := testplan.Rep(12, 21, 41)
	c1, _ := dl.SecondKey(r)
	c2, err := back.SecondKey(r)
	if err != nil || c1.Cmp(c2) != 0 {
		t.Fatalf("second key changed: %v", err)
	}
	r1, r2 := dl.Roster(), back.Roster()
	if len(r1) != len(r2) || len(r1) != 2+4+2 {
		t.Fatalf("roster of %d and %d nodes", len(r1), len(r2))
	}
	for n := range r1 {
		if r1[n].Node != r2[n].Node || !r1[n].Key.Equal(r2[n].Key) {
			t.Errorf("roster entry %d changed", n)
		}
	}
	// A state whose d does not belong to its public key is refused.
	other := newDealer(t, testkeys.RSA2048b, 4, 3, 2, nil)
	ob, _ := other.MarshalState()
	mixed := strings.Replace(string(b), extract(string(b), `"d": "`), extract(string(ob), `"d": "`), 1)
	if _, err := ParseDealerState([]byte(mixed)); !errors.Is(err, ErrMalformed) {
		t.Errorf("foreign d accepted: %v", err)
	}
	if _, err := ParseDealerState([]byte(`{"format":"tolerant dealer state v1"}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty state: %v", err)
	}
}

// extract returns the JSON string value after prefix.
func extract(s, prefix string) string {
	i := strings.Index(s, prefix) + len(prefix)
	return s[i : i+strings.Index(s[i:], `"`)]
}

func FuzzParseDealerState(f *testing.F) {
	dl, err := NewDealer(testplan.Seeded(1), testkeys.Must(testkeys.RSA1024), 3, 2, 1, &Options{InsecureAllowSmallKeysForTests: true})
	if err != nil {
		f.Fatal(err)
	}
	b, _ := dl.MarshalState()
	f.Add(b)
	f.Add([]byte(`{"format":"tolerant dealer state v1","shares":[["-1"]]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if dl, err := ParseDealerState(b); err == nil {
			if _, err := dl.MarshalState(); err != nil {
				t.Error(err)
			}
		}
	})
}
