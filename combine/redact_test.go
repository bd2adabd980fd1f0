package combine

import (
	"fmt"
	mrand "math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/internal/redact/redacttest"
	"github.com/tolerantca/tolerant/internal/testkeys"
	"github.com/tolerantca/tolerant/internal/testplan"
	"github.com/tolerantca/tolerant/share"
)

// TestRegressionRedactCombiner: %+v of a Combiner printed every |c_a|. It
// prints only its description, by value and by pointer, under every verb,
// slog handler and encoding/json, alone and in containers.
func TestRegressionRedactCombiner(t *testing.T) {
	dl, err := share.NewDealer(mrand.NewChaCha8([32]byte{3}), testkeys.Must(testkeys.RSA1024), 5, 3, 2, &share.Options{KeyID: "redact-ca", Epoch: 4, InsecureAllowSmallKeysForTests: true})
	require.NoError(t, err)
	dealing, err := dl.Deal(testplan.PatentFirstTwo())
	require.NoError(t, err)
	key := dealing.Combiners[1]
	c, err := New(key, &Options{Audit: true})
	require.NoError(t, err)

	var secrets []any
	for _, e := range key.Entries {
		secrets = append(secrets, e.C)
	}
	for _, e := range c.entries {
		secrets = append(secrets, e.exp.Value())
	}
	secrets = append(secrets, key.NodeKey.Private, key.NodeKey.Private.Seed())
	forms := redacttest.Forms(t, secrets...)

	for name, v := range map[string]any{
		"*Combiner":           c,
		"Combiner":            *c,
		"[]*Combiner":         []*Combiner{c},
		"map[int]Combiner":    map[int]Combiner{2: *c},
		"struct{ Combiner }":  struct{ Combiner }{*c},
		"struct{ C Combiner}": struct{ C Combiner }{*c},
		"zero Combiner":       Combiner{},
	} {
		redacttest.NoLeak(t, name, v, forms)
	}
	want := "combiner 2 of key redact-ca (epoch 4, 5 representations)"
	require.Equal(t, want, fmt.Sprint(c))
	require.Equal(t, want, fmt.Sprint(*c))
	redacttest.Same(t, "Combiner", *c, c)
}

// TestRedactCoversEverySecretType fails when an exported type of the
// package holds a secret but is not tested by TestRegressionRedactCombiner.
func TestRedactCoversEverySecretType(t *testing.T) {
	require.Equal(t, []string{"Combiner"}, redacttest.SecretTypes(t, ".", "combine"))
	require.Contains(t, redacttest.Known, "combine.Combiner")
}
