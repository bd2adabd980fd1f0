package natsbus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/tolerantca/tolerant/broadcast/transport"
	"github.com/tolerantca/tolerant/share"
)

// ErrServer: the embedded NATS server did not start, or is not running.
var ErrServer = errors.New("natsbus: NATS server not running")

// DefaultReadyTimeout bounds how long StartServer waits for the server.
const DefaultReadyTimeout = 10 * time.Second

// User is an account of the embedded server: a user name and password, or
// a user nkey (public key "U...", the client holding the seed,
// Options.NKeySeedFile). Publish and Subscribe, when not nil, are the
// only subjects the user may publish and subscribe to (NATS wildcards
// allowed); see [NodePermissions].
type User struct {
	Name, Password string
	NKey           string
	Publish        []string
	Subscribe      []string
}

// ServerOptions configure an embedded NATS server ([StartServer]). The zero
// value listens on 127.0.0.1:4222 without TLS or authentication.
type ServerOptions struct {
	// Host to listen on; default "127.0.0.1". Use "0.0.0.0" or "::" for
	// nodes on other hosts.
	Host string
	// Port to listen on: 0 means 4222 (the NATS default), -1 a random
	// free port (see Server.URL).
	Port int
	// Name of the server, shown to clients; default a generated one.
	Name string
	// TLS, when set, makes TLS required for clients. With ClientAuth
	// tls.RequireAndVerifyClientCert, clients must present a certificate.
	TLS *tls.Config
	// Users, when not empty, are the only accounts that may connect.
	Users []User
	// Token, when set, is the token every client must present. It cannot
	// be combined with Users.
	Token string
	// MaxPayload bounds a message; default 1 MiB (the NATS default).
	MaxPayload int32
	// ReadyTimeout bounds how long StartServer waits for the server to
	// accept connections; default DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// MonitorHost and MonitorPort, when MonitorPort is not 0, turn on the
	// server's own HTTP monitoring endpoints (/varz, /connz, /healthz, ...):
	// plain HTTP without authentication, so keep MonitorHost on a loopback
	// or management address (default "127.0.0.1"). MonitorPort -1 picks a
	// random free port (see Server.MonitorAddr). Default: off.
	MonitorHost string
	MonitorPort int
	// Logger receives the server's log (notices, warnings, errors; debug
	// when the logger enables it; never message traces). Default: none.
	Logger *slog.Logger
}

// Server is an embedded NATS server.
type Server struct {
	ns   *server.Server
	once sync.Once
	done chan struct{}
}

// StartServer starts a NATS server in this process (core NATS, no
// JetStream, no signal handlers) and waits until it accepts connections.
func StartServer(opts ServerOptions) (*Server, error) {
	so, err := opts.serverOptions()
	if err != nil {
		return nil, err
	}
	ns, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOptions, err)
	}
	if opts.Logger != nil {
		debug := opts.Logger.Enabled(context.Background(), slog.LevelDebug)
		ns.SetLoggerV2(serverLogger{opts.Logger.With("nats-server", ns.Name())}, debug, false, false)
	}
	ns.Start()
	if so.HTTPPort != 0 && ns.MonitorAddr() == nil {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("%w: monitoring port %s did not open", ErrServer, net.JoinHostPort(so.HTTPHost, fmt.Sprint(so.HTTPPort)))
	}
	ready := opts.ReadyTimeout
	if ready <= 0 {
		ready = DefaultReadyTimeout
	}
	if !ns.ReadyForConnections(ready) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("%w: not ready for connections on %s after %v", ErrServer, net.JoinHostPort(so.Host, fmt.Sprint(so.Port)), ready)
	}
	return &Server{ns: ns, done: make(chan struct{})}, nil
}

func (o ServerOptions) serverOptions() (*server.Options, error) {
	so := &server.Options{
		Host:       o.Host,
		Port:       o.Port,
		ServerName: o.Name,
		NoSigs:     true,
		NoLog:      o.Logger == nil,
		MaxPayload: o.MaxPayload,
	}
	if so.Host == "" {
		so.Host = "127.0.0.1"
	}
	if so.Port < -1 || so.Port > 65535 {
		return nil, fmt.Errorf("%w: port %d", ErrOptions, so.Port)
	}
	if o.MonitorPort < -1 || o.MonitorPort > 65535 {
		return nil, fmt.Errorf("%w: monitoring port %d", ErrOptions, o.MonitorPort)
	}
	if o.MonitorPort != 0 {
		so.HTTPHost, so.HTTPPort = o.MonitorHost, o.MonitorPort
		if so.HTTPHost == "" {
			so.HTTPHost = "127.0.0.1"
		}
	}
	if o.MaxPayload < 0 {
		return nil, fmt.Errorf("%w: max payload %d", ErrOptions, o.MaxPayload)
	}
	if o.TLS != nil {
		so.TLSConfig = o.TLS.Clone()
		so.TLSVerify = o.TLS.ClientAuth == tls.RequireAndVerifyClientCert
		so.TLSTimeout = 5
	}
	if o.Token != "" && len(o.Users) > 0 {
		return nil, fmt.Errorf("%w: a server token cannot be combined with users", ErrOptions)
	}
	so.Authorization = o.Token
	names := make(map[string]bool)
	for n, u := range o.Users {
		var perms *server.Permissions
		if u.Publish != nil || u.Subscribe != nil {
			perms = &server.Permissions{}
			if u.Publish != nil {
				perms.Publish = &server.SubjectPermission{Allow: append([]string(nil), u.Publish...)}
			}
			if u.Subscribe != nil {
				perms.Subscribe = &server.SubjectPermission{Allow: append([]string(nil), u.Subscribe...)}
			}
		}
		switch {
		case u.NKey != "" && (u.Name != "" || u.Password != ""):
			return nil, fmt.Errorf("%w: user %d has both an nkey and a name or password", ErrOptions, n+1)
		case u.NKey != "":
			if !nkeys.IsValidPublicUserKey(u.NKey) {
				return nil, fmt.Errorf("%w: user %d: %q is not a public user nkey", ErrOptions, n+1, u.NKey)
			}
			so.Nkeys = append(so.Nkeys, &server.NkeyUser{Nkey: u.NKey, Permissions: perms})
		case u.Name != "":
			if names[u.Name] {
				return nil, fmt.Errorf("%w: user %q listed twice", ErrOptions, u.Name)
			}
			names[u.Name] = true
			so.Users = append(so.Users, &server.User{Username: u.Name, Password: u.Password, Permissions: perms})
		default:
			return nil, fmt.Errorf("%w: user %d has neither a name nor an nkey", ErrOptions, n+1)
		}
	}
	return so, nil
}

// URL returns the URL clients connect to, e.g. "nats://127.0.0.1:4222"
// ("tls://" with TLS), with the actual port when Port was -1.
func (s *Server) URL() string { return s.ns.ClientURL() }

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ns.Addr() }

// Port returns the port the server listens on.
func (s *Server) Port() int {
	if a, ok := s.ns.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// MonitorAddr returns the address of the monitoring endpoints, or nil
// when ServerOptions.MonitorPort was 0.
func (s *Server) MonitorAddr() net.Addr {
	if a := s.ns.MonitorAddr(); a != nil {
		return a
	}
	return nil
}

// NumClients returns the number of connected clients.
func (s *Server) NumClients() int { return s.ns.NumClients() }

// Healthy returns nil while the server accepts connections, and an error
// wrapping ErrServer otherwise.
func (s *Server) Healthy() error {
	if !s.ns.Running() {
		return fmt.Errorf("%w: shut down", ErrServer)
	}
	if !s.ns.ReadyForConnections(100 * time.Millisecond) {
		return fmt.Errorf("%w: not accepting connections", ErrServer)
	}
	return nil
}

// NATS returns the underlying server, e.g. for its monitoring functions.
func (s *Server) NATS() *server.Server { return s.ns }

// Shutdown stops the server: clients are disconnected (they will try to
// reconnect). It waits until the server is down or ctx ends. It is
// idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	s.once.Do(func() {
		go func() {
			s.ns.Shutdown()
			s.ns.WaitForShutdown()
			close(s.done)
		}()
	})
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the server and waits until it is down.
func (s *Server) Close() error { return s.Shutdown(context.Background()) }

// Done is closed once the server is down after Shutdown or Close.
func (s *Server) Done() <-chan struct{} { return s.done }

// serverLogger adapts slog to the server's logger interface.
type serverLogger struct{ l *slog.Logger }

func (s serverLogger) Noticef(f string, v ...any) { s.l.Info(fmt.Sprintf(f, v...)) }
func (s serverLogger) Warnf(f string, v ...any)   { s.l.Warn(fmt.Sprintf(f, v...)) }
func (s serverLogger) Fatalf(f string, v ...any)  { s.l.Error(fmt.Sprintf(f, v...), "fatal", true) }
func (s serverLogger) Errorf(f string, v ...any)  { s.l.Error(fmt.Sprintf(f, v...)) }
func (s serverLogger) Debugf(f string, v ...any)  { s.l.Debug(fmt.Sprintf(f, v...)) }
func (s serverLogger) Tracef(f string, v ...any)  {} // traces carry payloads: never logged

// Permissions are the subjects a node may publish and subscribe to, for
// [User] accounts with least privilege.
type Permissions struct {
	Publish, Subscribe []string
}

// NodePermissions returns the subjects a node of role needs on cluster:
//
//   - a distributor publishes tasks on B1 and receives acknowledgements on
//     B1 and signatures on B3;
//   - a calculator receives tasks on B1 and publishes acknowledgements on
//     B1 and partials on B2;
//   - a combiner receives tasks on B1 and partials on B2, and publishes
//     signatures on B3. When the combiners send signatures on B1 instead
//     (CombinerOptions.ResultChannel, [0115]), add B1 to its Publish.
//
// The node's packets are authenticated anyway (by their node keys); these
// permissions keep a stolen NATS credential from flooding other channels.
func NodePermissions(cluster string, role share.Role) (Permissions, error) {
	var subj [4]string
	for _, ch := range []transport.Channel{transport.B1, transport.B2, transport.B3} {
		s, err := Subject(cluster, ch)
		if err != nil {
			return Permissions{}, err
		}
		subj[ch] = s
	}
	b1, b2, b3 := subj[transport.B1], subj[transport.B2], subj[transport.B3]
	switch role {
	case share.RoleDistributor:
		return Permissions{Publish: []string{b1}, Subscribe: []string{b1, b3}}, nil
	case share.RoleCalculator:
		return Permissions{Publish: []string{b1, b2}, Subscribe: []string{b1}}, nil
	case share.RoleCombiner:
		return Permissions{Publish: []string{b3}, Subscribe: []string{b1, b2}}, nil
	}
	return Permissions{}, fmt.Errorf("%w: role %v", ErrOptions, role)
}

// NodeName returns the conventional connection and user name of a node:
// "distributor-1", "calculator-3", "combiner-2".
func NodeName(n share.Node) string {
	return fmt.Sprintf("%s-%d", strings.ToLower(n.Role.String()), n.Number)
}
