package share

import (
	"math/big"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/internal/testplan"
)

// bigIntEqual makes cmp.Diff compare *big.Int by value (shares, c_a, d).
var bigIntEqual = cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 })

func TestDealerStateRoundTrip(t *testing.T) {
	dl := newDealer(t, testkeys.RSA2048, 4, 3, 2, &Options{Epoch: 3, Distributors: 2})
	_, err := dl.Combiner(2, []grouping.Rep{testplan.Rep(11, 22, 31)})
	require.NoError(t, err)
	b, err := dl.MarshalState()
	require.NoError(t, err)
	back, err := ParseDealerState(b)
	require.NoError(t, err)
	r := testplan.Rep(12, 21, 41)
	c1, err := dl.SecondKey(r)
	require.NoError(t, err)
	c2, err := back.SecondKey(r)
	require.NoError(t, err, "second key of the parsed state")
	require.Empty(t, cmp.Diff(c1, c2, bigIntEqual), "second key changed (-before +after)")
	r1, r2 := dl.Roster(), back.Roster()
	require.Len(t, r1, 2+4+2, "roster: 2 distributors, 4 calculators, 2 combiners")
	assert.Empty(t, cmp.Diff(r1, r2), "roster changed (-before +after)")
	// A state whose d does not belong to its public key is refused.
	other := newDealer(t, testkeys.RSA2048b, 4, 3, 2, nil)
	ob, _ := other.MarshalState()
	mixed := strings.Replace(string(b), extract(string(b), `"d": "`), extract(string(ob), `"d": "`), 1)
	_, err = ParseDealerState([]byte(mixed))
	assert.ErrorIs(t, err, ErrMalformed, "foreign d accepted")
	_, err = ParseDealerState([]byte(`{"format":"tolerant dealer state v1"}`))
	assert.ErrorIs(t, err, ErrMalformed, "empty state accepted")
}

// extract returns the JSON string value after prefix.
func extract(s, prefix string) string {
	i := strings.Index(s, prefix) + len(prefix)
	return s[i : i+strings.Index(s[i:], `"`)]
}

func FuzzParseDealerState(f *testing.F) {
	dl, err := NewDealer(testplan.Seeded(1), testkeys.Must(testkeys.RSA1024), 3, 2, 1, &Options{InsecureAllowSmallKeysForTests: true})
	require.NoError(f, err)
	b, err := dl.MarshalState()
	require.NoError(f, err)
	f.Add(b)
	f.Add([]byte(`{"format":"tolerant dealer state v1","shares":[["-1"]]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if dl, err := ParseDealerState(b); err == nil {
			_, err := dl.MarshalState()
			assert.NoError(t, err, "a parsed state must marshal again")
		}
	})
}
