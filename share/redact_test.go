package share

import (
	"context"
	"crypto"
	"crypto/sha256"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/grouping"
	"github.com/tolerantca/tolerant/internal/redact/redacttest"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/internal/testplan"
)

// redactFixture is a dealing and every secret it holds, to search for.
type redactFixture struct {
	dl      *Dealer
	dealing *Dealing
	calc    *Calculator
	prep    *Prepared
	forms   []string
}

func newRedactFixture(t *testing.T) *redactFixture {
	t.Helper()
	dl, err := NewDealer(testplan.Seeded(9), testkeys.Must(testkeys.RSA1024), 3, 2, 2, &Options{KeyID: "redact-ca", Epoch: 7, InsecureAllowSmallKeysForTests: true})
	require.NoError(t, err)
	dealing, err := dl.Deal(&grouping.Plan{K: 3, T: 2, L: 2, Combiners: [][]grouping.Rep{{testplan.Rep(11, 21), testplan.Rep(12, 31)}}})
	require.NoError(t, err)
	calc, err := NewCalculator(dealing.Calculators[0], nil)
	require.NoError(t, err)
	digest := sha256.Sum256([]byte("redact"))
	prep, err := calc.Prepare(context.Background(), &Request{KeyID: "redact-ca", Hash: crypto.SHA256, Digest: digest[:], Scheme: PKCS1v15})
	require.NoError(t, err)

	secrets := []any{dl.secrets().d, dl.secrets().nodeSeed}
	for _, row := range dl.secrets().shares {
		for _, s := range row {
			secrets = append(secrets, s)
		}
	}
	for _, e := range calc.exps.Value() {
		secrets = append(secrets, e)
	}
	for _, c := range dealing.Combiners {
		for _, e := range c.Entries {
			secrets = append(secrets, e.C)
		}
	}
	var nodeKeys []*NodeKey
	for _, k := range dealing.Distributors {
		nodeKeys = append(nodeKeys, k.NodeKey)
	}
	for _, k := range dealing.Calculators {
		nodeKeys = append(nodeKeys, k.NodeKey)
	}
	for _, k := range dealing.Combiners {
		nodeKeys = append(nodeKeys, k.NodeKey)
	}
	for _, k := range nodeKeys {
		secrets = append(secrets, k.Private, k.Private.Seed())
	}
	return &redactFixture{dl: dl, dealing: dealing, calc: calc, prep: prep, forms: redacttest.Forms(t, secrets...)}
}

// redactCase is one secret-holding value, given by pointer.
type redactCase struct {
	ptr  any    // a pointer to the value
	want string // what its %v must say
	// container is set for types that hold secrets only through fields
	// of redacting types, and print as structs (so differently by value
	// and by pointer).
	container bool
}

func (fx *redactFixture) cases() []redactCase {
	d := fx.dealing
	return []redactCase{
		{ptr: fx.dl, want: "share.Dealer{key redact-ca, epoch 7, k=3 t=2 l=2, 1152-bit shares}"},
		{ptr: d.Calculators[1], want: "calculator 2 of key redact-ca (epoch 7, k=3 t=2 l=2)"},
		{ptr: d.Combiners[0], want: "combiner 1 of key redact-ca (epoch 7, k=3 t=2 l=2, 2 representations)"},
		{ptr: &d.Combiners[0].Entries[1], want: "second sub-key of (12,31)"},
		{ptr: d.Distributors[0], want: "distributor 1 of key redact-ca (epoch 7)"},
		{ptr: d.Calculators[2].NodeKey, want: "node key of calculator 3"},
		{ptr: fx.calc, want: "calculator 1 of key redact-ca (epoch 7, 2 shares)"},
		{ptr: fx.prep, want: "prepared request for calculator 1 of key redact-ca (2 shares)"},
		{ptr: d, want: "calculator 1 of key redact-ca", container: true},
	}
}

// TestRegressionRedactSecretsUnderEveryVerb: %v of a Calculator printed
// d_ji, a SecondKey printed c_a and a CalculatorKey value printed its
// shares. Every secret type prints only its description, by value and by
// pointer, under every verb, slog handler and encoding/json.
func TestRegressionRedactSecretsUnderEveryVerb(t *testing.T) {
	fx := newRedactFixture(t)
	for _, c := range fx.cases() {
		val := reflect.ValueOf(c.ptr).Elem().Interface()
		name := fmt.Sprintf("%T", val)
		redacttest.NoLeak(t, name+" by pointer", c.ptr, fx.forms)
		redacttest.NoLeak(t, name+" by value", val, fx.forms)
		require.Contains(t, fmt.Sprintf("%v", c.ptr), c.want, name)
		if !c.container {
			redacttest.Same(t, name, val, c.ptr)
			require.Equal(t, c.want, fmt.Sprint(val), name)
			require.Equal(t, fmt.Sprintf("%q", c.want), fmt.Sprintf("%q", val), name)
			require.Contains(t, fmt.Sprintf("%#v", val), name, "%#v names the type")
		}
	}
}

// TestRedactContainers: slices, maps, arrays and structs of secret types
// print no secret either.
func TestRedactContainers(t *testing.T) {
	fx := newRedactFixture(t)
	d := fx.dealing
	type holder struct {
		Key  CalculatorKey
		Keys []CalculatorKey
	}
	type embeds struct {
		CombinerKey
		Note string
	}
	// fmt prints unexported fields without calling their methods, and
	// under a verb that does not fit a pointer it prints what the pointer
	// points to: the types reached that way hide their secrets.
	type private struct {
		calc  *Calculator
		value Calculator
		prep  *Prepared
		ck    *CalculatorKey
		cb    *CombinerKey
		dl    Dealer
		dlp   *Dealer
	}
	containers := map[string]any{
		"[]SecondKey":               d.Combiners[0].Entries,
		"map[string]SecondKey":      map[string]SecondKey{"a": d.Combiners[0].Entries[0]},
		"map[int]*CalculatorKey":    map[int]*CalculatorKey{1: d.Calculators[0]},
		"[2]CalculatorKey":          [2]CalculatorKey{*d.Calculators[0], *d.Calculators[1]},
		"struct with key fields":    holder{Key: *d.Calculators[0], Keys: []CalculatorKey{*d.Calculators[1]}},
		"struct embedding a key":    embeds{CombinerKey: *d.Combiners[0]},
		"[]any":                     []any{*fx.dl, *fx.calc, *fx.prep, *d.Distributors[0].NodeKey},
		"Dealing":                   *d,
		"[]*Calculator":             []*Calculator{fx.calc},
		"map[Node]NodeKey":          map[Node]NodeKey{d.Calculators[0].NodeKey.Node: *d.Calculators[0].NodeKey},
		"[]DistributorKey":          []DistributorKey{*d.Distributors[0]},
		"[]*Prepared":               []*Prepared{fx.prep},
		"map[string]Dealer":         map[string]Dealer{"x": *fx.dl},
		"struct{ *CalculatorKey }":  struct{ *CalculatorKey }{d.Calculators[0]},
		"[]Calculator value copies": []Calculator{*fx.calc},
		"unexported fields":         private{calc: fx.calc, value: *fx.calc, prep: fx.prep, ck: d.Calculators[0], cb: d.Combiners[0], dl: *fx.dl, dlp: fx.dl},
	}
	for name, v := range containers {
		redacttest.NoLeak(t, name, v, fx.forms)
		redacttest.NoLeak(t, "*"+name, &v, fx.forms)
	}
}

// TestRedactZeroValues: zero values and nil pointers of every secret type
// print without panicking.
func TestRedactZeroValues(t *testing.T) {
	for _, v := range []any{Dealer{}, CalculatorKey{}, CombinerKey{}, SecondKey{}, DistributorKey{}, NodeKey{}, Calculator{}, Prepared{},
		(*Dealer)(nil), (*CalculatorKey)(nil), (*Calculator)(nil), (*NodeKey)(nil)} {
		require.NotPanics(t, func() { redacttest.Outputs(v) }, "%T", v)
	}
}

// TestRedactCoversEverySecretType fails when an exported type of the
// package holds a secret (see redacttest.SecretTypes) but is missing from
// the cases of TestRegressionRedactSecretsUnderEveryVerb, or from
// redacttest.Known (which other packages' scans rely on).
func TestRedactCoversEverySecretType(t *testing.T) {
	fx := newRedactFixture(t)
	var tested []string
	for _, c := range fx.cases() {
		tested = append(tested, reflect.TypeOf(c.ptr).Elem().Name())
	}
	slices.Sort(tested)
	require.Equal(t, tested, redacttest.SecretTypes(t, ".", "share"), "exported secret types vs the types tested")
	for _, name := range tested {
		require.Contains(t, redacttest.Known, "share."+name)
	}
	var known []string
	for _, k := range redacttest.Known {
		if name, ok := strings.CutPrefix(k, "share."); ok {
			known = append(known, name)
		}
	}
	slices.Sort(known)
	require.Equal(t, tested, known, "redacttest.Known lists exactly the package's secret types")
}
