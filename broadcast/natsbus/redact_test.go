package natsbus

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/redact/redacttest"
)

const (
	testPassword = "correct-horse-battery-staple-42"
	testToken    = "token-0123456789abcdef-secret"
)

// TestRegressionRedactCredentials: Options, User and ServerOptions printed
// their passwords and tokens, and a Bus its options. Each prints only its
// description, by value and by pointer, under every verb, slog handler and
// encoding/json; so does a live Bus, whose connection holds the password.
func TestRegressionRedactCredentials(t *testing.T) {
	user := User{Name: "alice", Password: testPassword, Subscribe: []string{"tolerant.>"}}
	srv := startServer(t, ServerOptions{Users: []User{user}})
	url := strings.Replace(srv.URL(), "nats://", "nats://alice:"+testPassword+"@", 1)
	opts := Options{URL: url, Name: "calculator-1", User: "alice", Password: testPassword, Token: testToken}
	b := dial(t, Options{URL: url, Name: "calculator-1"})
	sub, err := b.Subscribe(broadcast.B1)
	require.NoError(t, err)
	t.Cleanup(func() { sub.Close() })
	forms := redacttest.Forms(t, testPassword, testToken)

	cases := []struct {
		ptr     any
		want    string
		byValue bool
		// live is set for a value that nats.go's goroutines write: a
		// copy of it is a data race in itself, so only the pointer is
		// printed.
		live bool
	}{
		{ptr: &opts, want: `natsbus.Options{url nats://REDACTED@127.0.0.1`, byValue: true},
		{ptr: &user, want: `natsbus.User{"alice" with a password, 0 publish and 1 subscribe subjects}`, byValue: true},
		{ptr: &ServerOptions{Users: []User{user}, Token: testToken}, want: `natsbus.ServerOptions{host "", port 0, TLS false, 1 users, a token}`, byValue: true},
		{ptr: b, want: `natsbus.Bus{name "calculator-1", cluster "test", url nats://REDACTED@127.0.0.1`},
		{ptr: &ClusterOptions{Bus: opts, Down: []int{2}}, want: "natsbus.ClusterOptions{bus natsbus.Options{url nats://REDACTED@127.0.0.1", byValue: true},
		{ptr: &Cluster{}},
		{ptr: sub, want: `natsbus.Subscription{B1 of natsbus.Bus{name "calculator-1"`, live: true},
	}
	var tested []string
	for _, c := range cases {
		typ := reflect.TypeOf(c.ptr).Elem()
		name := typ.String()
		tested = append(tested, typ.Name())
		redacttest.NoLeak(t, name+" by pointer", c.ptr, forms)
		if c.live {
			require.Contains(t, fmt.Sprint(c.ptr), c.want, name)
			continue
		}
		val := reflect.ValueOf(c.ptr).Elem().Interface()
		redacttest.NoLeak(t, name+" by value", val, forms)
		redacttest.NoLeak(t, "[]"+name, []any{val, c.ptr}, forms)
		if c.want != "" {
			require.Contains(t, fmt.Sprint(c.ptr), c.want, name)
		}
		if c.byValue {
			redacttest.Same(t, name, val, c.ptr)
		}
	}
	redacttest.NoLeak(t, "[]User", []User{user}, forms)
	redacttest.NoLeak(t, "map[string]Options", map[string]Options{"a": opts}, forms)

	// Every exported type of the package that holds a secret is tested here.
	slices.Sort(tested)
	require.Equal(t, tested, redacttest.SecretTypes(t, ".", "natsbus"))
	for _, name := range tested {
		require.Contains(t, redacttest.Known, "natsbus."+name)
	}
}
