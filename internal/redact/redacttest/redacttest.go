// Package redacttest checks, in tests, that values holding secrets never
// print them: under every fmt verb, fmt.Sprint and Sprintln, slog's text and
// JSON handlers, and encoding/json. It also finds a package's types that
// hold secrets, so that a test can fail when one has no redaction.
package redacttest

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Verbs are the fmt verbs every secret type is printed with.
var Verbs = []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X", "%q"}

// Known lists, qualified by package name, the types of this module that hold
// secrets. A type of another package holding one of them holds a secret too.
// Each package's redaction test checks that its own secret types are listed.
var Known = []string{
	"share.Dealer", "share.Dealing", "share.CalculatorKey", "share.SecondKey",
	"share.CombinerKey", "share.DistributorKey", "share.NodeKey",
	"share.Calculator", "share.Prepared",
	"combine.Combiner",
	"broadcast.CalculatorNode", "broadcast.CombinerNode",
	"broadcast.Distributor", "broadcast.CalculatorOptions",
	"broadcast.CombinerOptions", "broadcast.DistributorOptions",
	"broadcast.LocalOptions", "broadcast.Local",
	"natsbus.Options", "natsbus.User", "natsbus.ServerOptions",
	"natsbus.ClusterOptions", "natsbus.Cluster", "natsbus.Bus",
	"natsbus.Subscription",
	"node.Node", "node.Host",
	"testcluster.Options", "testcluster.WholeKey", // test-only, hold a key
}

// Public lists, qualified by package name, the types that [SecretTypes]
// would take for secret but that hold only public values, each reviewed.
var Public = []string{
	"ctexp.Modulus", // N, its size and its Montgomery constants
}

// window is how much of each form of a secret is searched for: enough that
// a match is never chance, little enough that a partial print is caught.
const window = 16

// Forms returns what to search for in printed output for each secret: a
// *big.Int's absolute value in decimal, lower and upper hex, big-endian
// bytes, base64, fmt's byte list and its words as fmt prints them; a byte slice's (or a named byte slice
// type's, such as ed25519.PrivateKey) raw bytes, hex, base64 and byte list;
// a string itself. Secrets must be long enough to be found by chance never.
func Forms(t testing.TB, secrets ...any) []string {
	t.Helper()
	var out []string
	for _, s := range secrets {
		switch s := s.(type) {
		case *big.Int:
			a := new(big.Int).Abs(s)
			require.GreaterOrEqual(t, a.BitLen(), 128, "test secret too short to search for")
			out = append(out, a.Text(10)[:window], a.Text(16)[:window], strings.ToUpper(a.Text(16))[:window])
			out = append(out, byteForms(a.Bytes())...)
			words := fmt.Sprint(a.Bits()[:2]) // how fmt prints a big.Int's fields
			out = append(out, words[1:len(words)-1])
		case string:
			require.GreaterOrEqual(t, len(s), window, "test secret too short to search for")
			out = append(out, s)
		default:
			v := reflect.ValueOf(s)
			require.True(t, v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8, "unsupported secret type %T", s)
			b := v.Bytes()
			require.GreaterOrEqual(t, len(b), window, "test secret too short to search for")
			out = append(out, byteForms(b)...)
		}
	}
	return out
}

func byteForms(b []byte) []string {
	list := fmt.Sprint(b[:6]) // "[12 34 56 78 90 12]"
	return []string{
		string(b[:window/2]),
		hex.EncodeToString(b)[:window],
		strings.ToUpper(hex.EncodeToString(b))[:window],
		base64.StdEncoding.EncodeToString(b)[:window],
		list[1 : len(list)-1],
	}
}

// Outputs prints v in every way a secret could reach a log: each of
// [Verbs], alone and nested in a slice, fmt.Sprint, fmt.Sprintln, slog.Any with the text and JSON
// handlers, and encoding/json. Keys name the way.
func Outputs(v any) map[string]string {
	out := map[string]string{}
	for _, verb := range Verbs {
		out[verb] = fmt.Sprintf(verb, v)
		// Nested, a pointer without methods takes another path through
		// fmt: under a verb that does not fit a pointer, fmt prints what
		// it points to with every method turned off.
		out[verb+" nested"] = fmt.Sprintf(verb, []any{v})
	}
	out["Sprint"] = fmt.Sprint(v)
	out["Sprintln"] = fmt.Sprintln(v)
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, noTime)).Info("m", slog.Any("k", v))
	slog.New(slog.NewJSONHandler(&js, noTime)).Info("m", slog.Any("k", v))
	out["slog text"] = text.String()
	out["slog JSON"] = js.String()
	if b, err := json.Marshal(v); err == nil {
		out["json.Marshal"] = string(b)
	}
	return out
}

// noTime leaves the time out of log lines, so that two can be compared.
var noTime = &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}}

// NoLeak fails t when any of [Outputs] of v holds one of forms.
func NoLeak(t testing.TB, name string, v any, forms []string) {
	t.Helper()
	for way, s := range Outputs(v) {
		for _, f := range forms {
			if strings.Contains(s, f) {
				t.Errorf("%s: %s prints a secret (%q found)", name, way, f)
			}
		}
	}
}

// Same fails t when a and b (a value and a pointer to it) print differently
// in any of [Outputs].
func Same(t testing.TB, name string, a, b any) {
	t.Helper()
	oa, ob := Outputs(a), Outputs(b)
	for way, s := range oa {
		require.Equal(t, s, ob[way], "%s: %s differs between value and pointer", name, way)
	}
}

// secretName matches the names of string or byte-slice fields that hold
// secrets.
var secretName = regexp.MustCompile(`(?i)^(d|exps?|secrets?|.*seed|private.*|.*password|.*passphrase|token|pin)$`)

// secretType lists the types of other modules that are secrets.
var secretType = []string{"big.Int", "bigmod.Nat", "ed25519.PrivateKey", "rsa.PrivateKey", "ecdsa.PrivateKey", "age.X25519Identity", "age.ScryptIdentity"}

// SecretTypes parses the non-test Go files of the package in dir and
// returns, sorted, its exported types that hold a secret (except those of
// [Public]): a field of a type of [secretType] or [Known], a string or byte-slice field with a
// secret's name, or a field of a type of the package that holds a secret,
// through pointers, slices, arrays and maps.
func SecretTypes(t testing.TB, dir, pkg string) []string {
	t.Helper()
	fset := token.NewFileSet()
	structs := map[string]*ast.StructType{}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		if f.Name.Name != pkg {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				if st, ok := ts.Type.(*ast.StructType); ok {
					structs[ts.Name.Name] = st
				}
			}
			return true
		})
	}
	secret := map[string]bool{}
	for _, k := range Known {
		secret[k] = true
		if q, name, _ := strings.Cut(k, "."); q == pkg {
			secret[name] = true
		}
	}
	for _, s := range secretType {
		secret[s] = true
	}
	public := func(name string) bool { return slices.Contains(Public, pkg+"."+name) }
	for changed := true; changed; {
		changed = false
		for name, st := range structs {
			if !secret[name] && !public(name) && holdsSecret(st, secret) {
				secret[name], changed = true, true
			}
		}
	}
	var out []string
	for name := range structs {
		if secret[name] && ast.IsExported(name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func holdsSecret(st *ast.StructType, secret map[string]bool) bool {
	for _, f := range st.Fields.List {
		base, bytesOrString := baseType(f.Type)
		if secret[base] {
			return true
		}
		for _, n := range f.Names {
			if bytesOrString && secretName.MatchString(n.Name) {
				return true
			}
		}
	}
	return false
}

// baseType strips pointers, slices, arrays and maps from e and returns the
// element type's name (qualified when it is another package's), and whether
// e is a string or a (possibly nested) byte slice.
func baseType(e ast.Expr) (string, bool) {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.ArrayType:
			e = x.Elt
		case *ast.MapType:
			e = x.Value
		case *ast.Ident:
			return x.Name, x.Name == "string" || x.Name == "byte"
		case *ast.SelectorExpr:
			if q, ok := x.X.(*ast.Ident); ok {
				return q.Name + "." + x.Sel.Name, false
			}
			return "", false
		default:
			return "", false
		}
	}
}
