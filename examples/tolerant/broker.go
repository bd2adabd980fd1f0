package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/tolerantca/tolerant/broadcast/natsbus"
	"github.com/tolerantca/tolerant/share"
)

// runBroker runs an embedded NATS server until SIGINT or SIGTERM, for a
// self-contained setup (production may use an existing NATS cluster).
func runBroker(args []string, stdout, stderr io.Writer) error {
	return broker(signalContext, args, stdout, stderr)
}

// broker is runBroker until the context of signals ends; tests pass their
// own.
func broker(signals func() (context.Context, context.CancelFunc), args []string, stdout, stderr io.Writer) error {
	cfg, err := parseBrokerFlags(args, stderr)
	if cfg == nil || err != nil {
		return err
	}
	so, err := cfg.serverOptions(stderr)
	if err != nil {
		return err
	}
	return serveBroker(signals, so, cfg.users, stdout)
}

// brokerConfig is what the flags of "tolerant broker" ask for.
type brokerConfig struct {
	listen, monitor, logLevel    string
	tlsCert, tlsKey, tlsClientCA string
	users, cluster               string
}

// parseBrokerFlags parses the flags of "tolerant broker". It returns a nil
// config with a nil error when the user asked for help.
func parseBrokerFlags(args []string, stderr io.Writer) (*brokerConfig, error) {
	cfg := &brokerConfig{}
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:4222", "address to listen on (port 0: a random free port); 0.0.0.0:4222 for nodes on other hosts")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "PEM file of the server's TLS certificate (turns TLS on; clients then need -tls-ca)")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "PEM file of the server certificate's private key")
	fs.StringVar(&cfg.tlsClientCA, "tls-client-ca", "", "PEM file of the CA of client certificates: clients must present one signed by it")
	fs.StringVar(&cfg.users, "users", "", "file of per-node accounts, one per line: NAME PASSWORD, where NAME is a node (calculator-3, combiner-1, distributor-1) and PASSWORD is plain or a bcrypt hash; each node may use only its own subjects")
	fs.StringVar(&cfg.cluster, "nats-cluster", "", "with -users: restrict the accounts to this signing cluster's subjects (default: any cluster)")
	fs.StringVar(&cfg.monitor, "monitor", "", "address of NATS's own HTTP monitoring endpoints (/varz, /connz, /healthz), e.g. 127.0.0.1:8222 (port 0: a random free port); plain HTTP without authentication: keep it on loopback or a management network (default: off)")
	fs.StringVar(&cfg.logLevel, "log-level", "warn", "level of the server's JSON logs on stderr: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tolerant broker [-listen 127.0.0.1:4222] [-tls-cert FILE -tls-key FILE [-tls-client-ca FILE]] [-users FILE [-nats-cluster NAME]] [-monitor 127.0.0.1:8222]")
		printFlags(fs, nil)
		fmt.Fprintln(fs.Output(), "\nRuns an embedded NATS server until SIGINT or SIGTERM; prints the URL clients connect to.")
	}
	if help, err := parseFlags(fs, args, stderr); help || err != nil {
		return nil, err
	}
	return cfg, nil
}

// serverOptions checks cfg and turns it into the embedded server's
// options: logger, addresses, TLS and accounts.
func (cfg *brokerConfig) serverOptions(stderr io.Writer) (natsbus.ServerOptions, error) {
	log, err := newLogger(stderr, cfg.logLevel)
	if err != nil {
		return natsbus.ServerOptions{}, fmt.Errorf("broker: %w", err)
	}
	host, port, err := hostPort("-listen", cfg.listen)
	if err != nil {
		return natsbus.ServerOptions{}, err
	}
	so := natsbus.ServerOptions{Host: host, Port: port, Logger: log.With("role", "broker")}
	if cfg.monitor != "" {
		if so.MonitorHost, so.MonitorPort, err = hostPort("-monitor", cfg.monitor); err != nil {
			return natsbus.ServerOptions{}, err
		}
	}
	if so.TLS, err = cfg.tlsConfig(); err != nil {
		return natsbus.ServerOptions{}, err
	}
	if cfg.users != "" {
		if so.Users, err = readUsers(cfg.users, cfg.cluster); err != nil {
			return natsbus.ServerOptions{}, fmt.Errorf("broker: %w", err)
		}
	} else if cfg.cluster != "" {
		return natsbus.ServerOptions{}, fmt.Errorf("broker: -nats-cluster is used with -users only")
	}
	return so, nil
}

// tlsConfig returns the server's TLS configuration of -tls-cert, -tls-key
// and -tls-client-ca, or nil without -tls-cert.
func (cfg *brokerConfig) tlsConfig() (*tls.Config, error) {
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return nil, fmt.Errorf("broker: -tls-cert and -tls-key go together")
	}
	if cfg.tlsCert == "" {
		if cfg.tlsClientCA != "" {
			return nil, fmt.Errorf("broker: -tls-client-ca needs -tls-cert and -tls-key")
		}
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("broker: TLS: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cfg.tlsClientCA != "" {
		b, err := readLimited(cfg.tlsClientCA, 1<<20)
		if err != nil {
			return nil, fmt.Errorf("broker: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("broker: %s: no certificate", cfg.tlsClientCA)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// serveBroker runs the embedded NATS server of so until the context of
// signals ends, then shuts it down; users names the accounts' file.
func serveBroker(signals func() (context.Context, context.CancelFunc), so natsbus.ServerOptions, users string, stdout io.Writer) error {
	ctx, stop := signals()
	defer stop()
	srv, err := natsbus.StartServer(so)
	if err != nil {
		return fmt.Errorf("broker: %w", err)
	}
	fmt.Fprintf(stdout, "broker listening on %s\n", srv.URL())
	if a := srv.MonitorAddr(); a != nil {
		fmt.Fprintf(stdout, "broker monitoring on http://%s\n", a)
	}
	if len(so.Users) > 0 {
		fmt.Fprintf(stdout, "broker: %d node accounts from %s\n", len(so.Users), users)
	}
	select {
	case <-ctx.Done():
	case <-srv.Done():
		return fmt.Errorf("broker: the NATS server stopped")
	}
	stop()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("broker: shutting down: %w", err)
	}
	fmt.Fprintln(stdout, "broker stopped")
	return nil
}

// hostPort splits the address of flag name into a host and a port for
// natsbus.ServerOptions, where -1 asks for a random free port (port 0).
func hostPort(name, addr string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("broker: %s %q: %w", name, addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("broker: %s %q: bad port", name, addr)
	}
	if port == 0 {
		port = -1
	}
	return host, port, nil
}

// readUsers reads the broker's accounts: "NAME PASSWORD" per line, NAME a
// node name. Each account may publish and subscribe only to what its role
// needs (natsbus.NodePermissions), on cluster or, when empty, on any
// cluster. Errors never quote a password.
func readUsers(path, cluster string) ([]natsbus.User, error) {
	b, err := readLimited(path, 1<<20)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	var out []natsbus.User
	sc := bufio.NewScanner(bytes.NewReader(b))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("%s line %d: want NAME PASSWORD", path, n)
		}
		role, err := roleOfName(f[0])
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, n, err)
		}
		perms, err := permissions(cluster, role)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, n, err)
		}
		out = append(out, natsbus.User{Name: f[0], Password: f[1], Publish: perms.Publish, Subscribe: perms.Subscribe})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no account", path)
	}
	return out, nil
}

// roleOfName returns the role of a node name such as "calculator-3".
func roleOfName(name string) (share.Role, error) {
	for _, r := range []share.Role{share.RoleDistributor, share.RoleCalculator, share.RoleCombiner} {
		if rest, ok := strings.CutPrefix(name, strings.ToLower(r.String())+"-"); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 1 {
				return r, nil
			}
		}
	}
	return 0, fmt.Errorf("%q is not a node name (distributor-N, calculator-J or combiner-A)", name)
}

// permissions are the subjects of a role on cluster, or on every cluster
// ("tolerant.*.bN") when cluster is empty.
func permissions(cluster string, role share.Role) (natsbus.Permissions, error) {
	if cluster != "" {
		return natsbus.NodePermissions(cluster, role)
	}
	p, err := natsbus.NodePermissions("x", role)
	if err != nil {
		return p, err
	}
	any := func(subjects []string) []string {
		out := make([]string, len(subjects))
		for n, s := range subjects {
			out[n] = strings.Replace(s, natsbus.SubjectPrefix+".x.", natsbus.SubjectPrefix+".*.", 1)
		}
		return out
	}
	return natsbus.Permissions{Publish: any(p.Publish), Subscribe: any(p.Subscribe)}, nil
}
