package natsbus

import (
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"

	rd "github.com/tolerantca/tolerant/internal/redact"
)

// Options, User, ServerOptions and ClusterOptions hold passwords and
// tokens, and a Bus (and a Subscription, through its Bus) holds its Options
// and a connection that holds them too.
// Each prints only a description of itself: the same under every fmt verb,
// as a slog value and as JSON, with URLs redacted. The options and User have
// value receivers, so that a value prints as safely as a pointer. A Bus
// holds a mutex and is used by pointer; its options and connection are kept
// in [rd.Hidden], so that a copy of a Bus prints no credential either.

// conn is the Bus's connection.
func (b *Bus) conn() *nats.Conn { return b.nc.Value() }

// options are the Bus's normalized options.
func (b *Bus) options() *Options { return b.opts.Value() }

// credentials names the kind of credentials o holds, never their value.
func (o Options) credentials() string {
	switch {
	case o.CredsFile != "":
		return "credentials file " + o.CredsFile
	case o.NKeySeedFile != "":
		return "nkey seed file " + o.NKeySeedFile
	case o.User != "" || o.Password != "":
		return fmt.Sprintf("user %q with a password", o.User)
	case o.Token != "":
		return "a token"
	}
	return "none"
}

// String describes the options without their credentials.
func (o Options) String() string {
	return fmt.Sprintf("natsbus.Options{url %s, cluster %q, name %q, credentials: %s}", redact(o.URL), o.Cluster, o.Name, o.credentials())
}

// Format prints only [Options.String], whatever the verb.
func (o Options) Format(f fmt.State, verb rune) { rd.Format(f, verb, "natsbus.Options", o.String()) }

// GoString prints only [Options.String].
func (o Options) GoString() string { return rd.GoString("natsbus.Options", o.String()) }

// LogValue keeps the credentials out of structured logs.
func (o Options) LogValue() slog.Value { return rd.LogValue(o.String()) }

// MarshalJSON encodes only [Options.String].
func (o Options) MarshalJSON() ([]byte, error) { return rd.JSON(o.String()) }

// String describes the account without its password.
func (u User) String() string {
	auth := "no password"
	switch {
	case u.NKey != "":
		auth = "nkey " + u.NKey
	case u.Password != "":
		auth = "a password"
	}
	return fmt.Sprintf("natsbus.User{%q with %s, %d publish and %d subscribe subjects}", u.Name, auth, len(u.Publish), len(u.Subscribe))
}

// Format prints only [User.String], whatever the verb.
func (u User) Format(f fmt.State, verb rune) { rd.Format(f, verb, "natsbus.User", u.String()) }

// GoString prints only [User.String].
func (u User) GoString() string { return rd.GoString("natsbus.User", u.String()) }

// LogValue keeps the password out of structured logs.
func (u User) LogValue() slog.Value { return rd.LogValue(u.String()) }

// MarshalJSON encodes only [User.String].
func (u User) MarshalJSON() ([]byte, error) { return rd.JSON(u.String()) }

// String describes the server options without passwords or token.
func (o ServerOptions) String() string {
	token := "no token"
	if o.Token != "" {
		token = "a token"
	}
	return fmt.Sprintf("natsbus.ServerOptions{host %q, port %d, TLS %t, %d users, %s}", o.Host, o.Port, o.TLS != nil, len(o.Users), token)
}

// Format prints only [ServerOptions.String], whatever the verb.
func (o ServerOptions) Format(f fmt.State, verb rune) {
	rd.Format(f, verb, "natsbus.ServerOptions", o.String())
}

// GoString prints only [ServerOptions.String].
func (o ServerOptions) GoString() string { return rd.GoString("natsbus.ServerOptions", o.String()) }

// LogValue keeps passwords and token out of structured logs.
func (o ServerOptions) LogValue() slog.Value { return rd.LogValue(o.String()) }

// MarshalJSON encodes only [ServerOptions.String].
func (o ServerOptions) MarshalJSON() ([]byte, error) { return rd.JSON(o.String()) }

// String describes the connection without its credentials.
func (b *Bus) String() string {
	if b == nil || b.options() == nil {
		return "natsbus.Bus{none}"
	}
	o := b.options()
	return fmt.Sprintf("natsbus.Bus{name %q, cluster %q, url %s}", o.Name, o.Cluster, b.url)
}

// Format prints only [Bus.String], whatever the verb.
func (b *Bus) Format(f fmt.State, verb rune) { rd.Format(f, verb, "natsbus.Bus", b.String()) }

// GoString prints only [Bus.String].
func (b *Bus) GoString() string { return rd.GoString("natsbus.Bus", b.String()) }

// LogValue keeps the credentials out of structured logs.
func (b *Bus) LogValue() slog.Value { return rd.LogValue(b.String()) }

// MarshalJSON encodes only [Bus.String].
func (b *Bus) MarshalJSON() ([]byte, error) { return rd.JSON(b.String()) }

// String describes the cluster options without the connections' credentials.
func (o ClusterOptions) String() string {
	return fmt.Sprintf("natsbus.ClusterOptions{bus %v, %d calculators down, %d combiners down}",
		o.Bus, len(o.Down), len(o.CombinersDown))
}

// Format prints only [ClusterOptions.String], whatever the verb.
func (o ClusterOptions) Format(f fmt.State, verb rune) {
	rd.Format(f, verb, "natsbus.ClusterOptions", o.String())
}

// GoString prints only [ClusterOptions.String].
func (o ClusterOptions) GoString() string { return rd.GoString("natsbus.ClusterOptions", o.String()) }

// LogValue keeps the credentials out of structured logs.
func (o ClusterOptions) LogValue() slog.Value { return rd.LogValue(o.String()) }

// MarshalJSON encodes only [ClusterOptions.String].
func (o ClusterOptions) MarshalJSON() ([]byte, error) { return rd.JSON(o.String()) }

// String names the channel and the Bus of the subscription.
func (s *Subscription) String() string {
	if s == nil {
		return "natsbus.Subscription{none}"
	}
	return fmt.Sprintf("natsbus.Subscription{%v of %v}", s.ch, s.bus)
}

// Format prints only [Subscription.String], whatever the verb.
func (s *Subscription) Format(f fmt.State, verb rune) {
	rd.Format(f, verb, "natsbus.Subscription", s.String())
}

// GoString prints only [Subscription.String].
func (s *Subscription) GoString() string { return rd.GoString("natsbus.Subscription", s.String()) }

// LogValue keeps the connection's credentials out of structured logs.
func (s *Subscription) LogValue() slog.Value { return rd.LogValue(s.String()) }

// MarshalJSON encodes only [Subscription.String].
func (s *Subscription) MarshalJSON() ([]byte, error) { return rd.JSON(s.String()) }
