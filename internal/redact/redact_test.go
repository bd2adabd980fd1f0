package redact

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type formatted struct{}

func (formatted) Format(f fmt.State, verb rune) { Format(f, verb, "redact.formatted", "desc") }

func TestFormat(t *testing.T) {
	for verb, want := range map[string]string{"%v": "desc", "%+v": "desc", "%s": "desc", "%d": "desc", "%x": "desc", "%q": `"desc"`, "%#v": `redact.formatted("desc")`} {
		require.Equal(t, want, fmt.Sprintf(verb, formatted{}), verb)
	}
}

// TestHidden: a Hidden value prints as an address under every verb, however
// deep in unexported fields, even where fmt follows pointers with every
// method turned off.
func TestHidden(t *testing.T) {
	const secret = "0123456789abcdef-secret"
	type inner struct{ h Hidden[[]byte] }
	type outer struct {
		p *inner
		v inner
	}
	o := &outer{p: &inner{h: Hide([]byte(secret))}, v: inner{h: Hide([]byte(secret))}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
		for _, v := range []any{o, *o, []any{o}, []any{*o}, map[int]*outer{1: o}} {
			out := fmt.Sprintf(verb, v)
			require.NotContains(t, out, secret, verb)
			require.NotContains(t, out, fmt.Sprintf("%x", secret)[:16], verb)
			require.NotContains(t, out, fmt.Sprint([]byte(secret))[1:20], verb)
		}
	}
	require.Equal(t, secret, string(o.p.h.Value()))
	require.Nil(t, Hidden[[]byte]{}.Value())
	require.False(t, strings.Contains(fmt.Sprint(Hidden[string]{}), "secret"))
}
