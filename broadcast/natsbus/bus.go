package natsbus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tolerantca/tolerant/broadcast/transport"
	rd "github.com/tolerantca/tolerant/internal/redact"
)

// Errors of this package. Publish and Subscribe on a closed [Bus] return
// transport.ErrClosed, and an unknown channel transport.ErrChannel.
var (
	// ErrOptions: the options are invalid (a bad cluster name, several
	// kinds of credentials, a missing file, ...).
	ErrOptions = errors.New("natsbus: invalid options")
	// ErrAuth: the NATS server refused the connection's credentials. The
	// error also wraps nats.go's error (e.g. nats.ErrAuthorization).
	ErrAuth = errors.New("natsbus: the NATS server refused the credentials")
	// ErrNotConnected: the connection is down and being re-established
	// ([Bus.Healthy]).
	ErrNotConnected = errors.New("natsbus: not connected to the NATS server")
	// ErrBufferFull: the connection is down and its reconnect buffer
	// (Options.ReconnectBufSize) is full, so the message was not sent. The
	// protocol's retransmissions recover once the connection is back.
	ErrBufferFull = errors.New("natsbus: disconnected and the reconnect buffer is full; message not sent")
	// ErrTooLarge: the message exceeds the server's maximum payload.
	ErrTooLarge = errors.New("natsbus: message larger than the server's maximum payload")
)

// SubjectPrefix is the first token of every subject of this package.
const SubjectPrefix = "tolerant"

// DefaultCluster returns the name of the signing cluster of the key called
// keyID when none is chosen: the key id itself ([0124]). The tolerant
// command and [StartCluster] both use it, so that nodes started either way
// meet on the same subjects.
func DefaultCluster(keyID string) string { return keyID }

// Defaults of [Options].
const (
	DefaultURL          = "nats://127.0.0.1:4222" // Options.URL
	DefaultDialTimeout  = 5 * time.Second         // Options.DialTimeout
	DefaultReconnect    = time.Second             // Options.ReconnectWait
	DefaultWriteTimeout = 5 * time.Second         // Options.WriteTimeout
	DefaultDrainTimeout = 10 * time.Second        // Options.DrainTimeout
	DefaultQueueSize    = 8192                    // Options.QueueSize
	DefaultRetryMaxWait = 5 * time.Second         // Options.RetryMaxWait
)

// maxCluster bounds the length of a cluster name.
const maxCluster = 64

// ValidateCluster checks a cluster name: 1 to 64 ASCII letters, digits, '-'
// or '_'. This is stricter than a NATS subject token (no '.', '*', '>' or
// white space), so that the name is also safe in file names and logs.
func ValidateCluster(cluster string) error {
	if cluster == "" || len(cluster) > maxCluster {
		return fmt.Errorf("%w: cluster name must be 1 to %d characters", ErrOptions, maxCluster)
	}
	for _, r := range cluster {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-', r == '_':
		default:
			return fmt.Errorf("%w: cluster name %q: only letters, digits, '-' and '_' are allowed", ErrOptions, cluster)
		}
	}
	return nil
}

// Subject returns the NATS subject of channel ch of a cluster:
// "tolerant.<cluster>.b1", ".b2" or ".b3".
func Subject(cluster string, ch transport.Channel) (string, error) {
	if err := ValidateCluster(cluster); err != nil {
		return "", err
	}
	if !ch.Valid() {
		return "", fmt.Errorf("%w: %v", transport.ErrChannel, ch)
	}
	return fmt.Sprintf("%s.%s.b%d", SubjectPrefix, cluster, uint8(ch)), nil
}

// Options configure a connection ([Dial]). Only URL is usually needed; at
// most one kind of credentials may be set (CredsFile, NKeySeedFile,
// User/Password or Token), and credentials may also be part of the URL.
type Options struct {
	// URL of the NATS server, or a comma-separated list of servers of a
	// NATS cluster; "tls://" requires TLS. Default DefaultURL.
	URL string
	// Cluster names the signing cluster: its channels are the subjects
	// "tolerant.<Cluster>.b1" ... ([Subject]). Required: there is no
	// default shared by unrelated keys; the convention is the key id
	// ([DefaultCluster]).
	Cluster string
	// Name is the connection's name as the server shows it, e.g.
	// "calculator-3". It is not a secret.
	Name string

	// TLS configures TLS (root CAs, client certificate, ServerName). It is
	// cloned. Setting it, RootCAs or ClientCert requires TLS.
	TLS *tls.Config
	// RootCAs are PEM files of the CAs that sign the server's certificate.
	RootCAs []string
	// ClientCert and ClientKey are PEM files of a client certificate, for
	// servers that verify clients.
	ClientCert, ClientKey string

	// CredsFile is a NATS credentials file (user JWT and nkey seed).
	CredsFile string
	// NKeySeedFile is a file holding a user nkey seed ("SU...").
	NKeySeedFile string
	// User and Password authenticate with a user name and password.
	User, Password string
	// Token authenticates with a token.
	Token string

	// DialTimeout bounds each attempt to connect to a server, at Dial and
	// on every reconnection; Dial's context may end the wait sooner.
	// Default DefaultDialTimeout.
	DialTimeout time.Duration
	// ReconnectWait is the pause between reconnection attempts to one
	// server (nats.go adds jitter). Default DefaultReconnect.
	ReconnectWait time.Duration
	// MaxReconnects bounds the reconnection attempts; zero or negative
	// means forever (the default). Once exhausted the connection closes,
	// and with it the Bus and its subscriptions.
	MaxReconnects int
	// ReconnectBufSize is how many bytes of publications are kept while
	// disconnected, sent on reconnect; beyond it Publish fails with
	// ErrBufferFull. Zero means nats.go's default (8 MiB); negative keeps
	// nothing, so Publish fails at once while disconnected.
	ReconnectBufSize int
	// WriteTimeout bounds a write to the server's socket, so that Publish
	// cannot block on a stalled connection; after a failed write the
	// connection is re-established. Default DefaultWriteTimeout.
	WriteTimeout time.Duration
	// PingInterval is how often the client checks that the server is
	// alive; zero means nats.go's default (2 minutes). A dead connection
	// is noticed after about two intervals.
	PingInterval time.Duration
	// DrainTimeout bounds Close's drain. Default DefaultDrainTimeout.
	DrainTimeout time.Duration
	// RetryDial makes [Dial] retry, until its context ends, while no
	// server can be reached yet (a node started before its broker). Wrong
	// options (ErrOptions) and refused credentials (ErrAuth) are returned
	// at once: retrying cannot help. The pause starts at 500ms and doubles
	// up to RetryMaxWait.
	RetryDial bool
	// RetryMaxWait caps the pause between RetryDial's attempts. Default
	// DefaultRetryMaxWait.
	RetryMaxWait time.Duration
	// QueueSize is the capacity of every subscription's queue; a message
	// that finds it full is dropped and counted. Default DefaultQueueSize.
	QueueSize int

	// Logger receives connection events (disconnects, reconnects, close,
	// asynchronous errors, dropped messages). Default discards. Payloads
	// and credentials are never logged.
	Logger *slog.Logger
}

// Bus is a [transport.Broadcaster] over one NATS connection. It is safe for
// concurrent use. Every subscriber receives every message published on its
// channel after it subscribed, including its own, at most once.
type Bus struct {
	nc       rd.Hidden[*nats.Conn] // holds the credentials; see redact.go
	opts     rd.Hidden[*Options]
	subjects [4]string // by transport.Channel
	log      *slog.Logger
	url      string // redacted

	closing  atomic.Bool   // Close called, or the connection closed
	done     chan struct{} // closed when the NATS connection is closed
	doneOnce sync.Once
	drain    sync.Once

	mu   sync.Mutex
	subs map[*Subscription]struct{} // nil once closed

	published, pubErrors, delivered, dropped, disconnects atomic.Uint64
}

// Dial connects to the NATS server of opts.URL and returns a Bus for the
// cluster opts.Cluster. It waits until the server accepted the connection,
// the connection failed (credentials refused: ErrAuth), or ctx ended; with
// opts.RetryDial it tries again while the server cannot be reached.
func Dial(ctx context.Context, opts Options) (*Bus, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	if !o.RetryDial {
		return dialOnce(ctx, o)
	}
	wait := 500 * time.Millisecond
	for {
		b, err := dialOnce(ctx, o)
		if err == nil || errors.Is(err, ErrOptions) || errors.Is(err, ErrAuth) || ctx.Err() != nil {
			return b, err
		}
		if o.Logger != nil {
			o.Logger.Warn("cannot reach NATS yet; retrying", "nats", o.Name, "err", err, "retry_in", wait.String())
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, o.RetryMaxWait)
	}
}

// dialOnce makes one attempt of Dial with normalized options.
func dialOnce(ctx context.Context, o Options) (*Bus, error) {
	var err error
	b := &Bus{opts: rd.Hide(&o), done: make(chan struct{}), subs: make(map[*Subscription]struct{})}
	for _, ch := range []transport.Channel{transport.B1, transport.B2, transport.B3} {
		if b.subjects[ch], err = Subject(o.Cluster, ch); err != nil {
			return nil, err
		}
	}
	b.url = redact(o.URL)
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	b.log = log.With("nats", o.Name, "cluster", o.Cluster)

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// nats.Connect takes no context: it runs in a goroutine that ends
	// within DialTimeout per server, and ctx cuts the wait short.
	nopts, err := b.natsOptions(o.DialTimeout)
	if err != nil {
		return nil, err
	}

	type result struct {
		nc  *nats.Conn
		err error
	}
	res := make(chan result, 1)
	go func() {
		nc, err := nats.Connect(o.URL, nopts...)
		res <- result{nc, err}
	}()
	var r result
	select {
	case r = <-res:
	case <-ctx.Done():
		go func() { // ends within timeout
			if r := <-res; r.nc != nil {
				r.nc.Close()
			}
		}()
		return nil, fmt.Errorf("natsbus: dialing %s: %w", b.url, ctx.Err())
	}
	if r.err != nil {
		return nil, b.dialError(r.err)
	}
	b.nc = rd.Hide(r.nc)
	b.log.Info("nats connected", "url", redact(b.conn().ConnectedUrl()), "server", b.conn().ConnectedServerId())
	return b, nil
}

func (o Options) normalize() (Options, error) {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	if o.Cluster == "" {
		return o, fmt.Errorf("%w: no cluster name (the convention is the key id: DefaultCluster)", ErrOptions)
	}
	if err := ValidateCluster(o.Cluster); err != nil {
		return o, err
	}
	kinds := 0
	for _, set := range []bool{o.CredsFile != "", o.NKeySeedFile != "", o.User != "" || o.Password != "", o.Token != ""} {
		if set {
			kinds++
		}
	}
	if kinds > 1 {
		return o, fmt.Errorf("%w: set only one of CredsFile, NKeySeedFile, User/Password and Token", ErrOptions)
	}
	for _, f := range []string{o.CredsFile, o.NKeySeedFile} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return o, fmt.Errorf("%w: %v", ErrOptions, err)
		}
	}
	if (o.ClientCert == "") != (o.ClientKey == "") {
		return o, fmt.Errorf("%w: ClientCert and ClientKey go together", ErrOptions)
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.ReconnectWait <= 0 {
		o.ReconnectWait = DefaultReconnect
	}
	if o.MaxReconnects <= 0 {
		o.MaxReconnects = -1
	}
	if o.ReconnectBufSize < 0 {
		o.ReconnectBufSize = -1
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.RetryMaxWait <= 0 {
		o.RetryMaxWait = DefaultRetryMaxWait
	}
	return o, nil
}

func (b *Bus) natsOptions(timeout time.Duration) ([]nats.Option, error) {
	o := b.options()
	nopts := []nats.Option{
		nats.Name(o.Name),
		nats.Timeout(timeout),
		nats.ReconnectWait(o.ReconnectWait),
		nats.MaxReconnects(o.MaxReconnects),
		nats.ReconnectBufSize(o.ReconnectBufSize),
		nats.FlusherTimeout(o.WriteTimeout),
		nats.ReconnectOnFlusherError(),
		nats.DrainTimeout(o.DrainTimeout),
		nats.DisconnectErrHandler(b.onDisconnect),
		nats.ReconnectHandler(b.onReconnect),
		nats.ClosedHandler(b.onClosed),
		nats.ErrorHandler(b.onError),
		nats.LameDuckModeHandler(func(*nats.Conn) {
			b.log.Warn("nats server entering lame duck mode; will reconnect elsewhere")
		}),
	}
	if o.PingInterval > 0 {
		nopts = append(nopts, nats.PingInterval(o.PingInterval))
	}
	if o.TLS != nil {
		nopts = append(nopts, nats.Secure(o.TLS.Clone()))
	}
	if len(o.RootCAs) > 0 {
		nopts = append(nopts, nats.RootCAs(o.RootCAs...))
	}
	if o.ClientCert != "" {
		nopts = append(nopts, nats.ClientCert(o.ClientCert, o.ClientKey))
	}
	switch {
	case o.CredsFile != "":
		nopts = append(nopts, nats.UserCredentials(o.CredsFile))
	case o.NKeySeedFile != "":
		opt, err := nats.NkeyOptionFromSeed(o.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("%w: nkey seed file %s: %v", ErrOptions, o.NKeySeedFile, err)
		}
		nopts = append(nopts, opt)
	case o.User != "" || o.Password != "":
		nopts = append(nopts, nats.UserInfo(o.User, o.Password))
	case o.Token != "":
		nopts = append(nopts, nats.Token(o.Token))
	}
	// Options that read files fail when applied; check them here so that
	// the error is ErrOptions rather than a connection failure.
	var probe nats.Options
	for _, opt := range nopts {
		if err := opt(&probe); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrOptions, err)
		}
	}
	return nopts, nil
}

func (b *Bus) dialError(err error) error {
	for _, auth := range []error{nats.ErrAuthorization, nats.ErrAuthExpired, nats.ErrAuthRevoked, nats.ErrAccountAuthExpired, nats.ErrNkeysNotSupported} {
		if errors.Is(err, auth) {
			who := ""
			if b.options().User != "" {
				who = fmt.Sprintf(" as user %q", b.options().User)
			}
			return fmt.Errorf("natsbus: dialing %s%s: %w: %w", b.url, who, ErrAuth, err)
		}
	}
	return fmt.Errorf("natsbus: dialing %s: %w", b.url, err)
}

func (b *Bus) onDisconnect(_ *nats.Conn, err error) {
	if b.closing.Load() {
		return
	}
	b.disconnects.Add(1)
	b.log.Warn("nats disconnected; reconnecting", "err", err)
}

func (b *Bus) onReconnect(nc *nats.Conn) {
	b.log.Info("nats reconnected", "url", redact(nc.ConnectedUrl()), "server", nc.ConnectedServerId(), "reconnects", nc.Stats().Reconnects)
}

func (b *Bus) onError(_ *nats.Conn, sub *nats.Subscription, err error) {
	if sub != nil {
		b.log.Warn("nats error", "subject", sub.Subject, "err", err)
		return
	}
	b.log.Warn("nats error", "err", err)
}

// onClosed runs when the connection is closed for good: by Close, or by
// nats.go after MaxReconnects or a refused reconnection. The Bus is then
// closed too, and so are its subscriptions.
func (b *Bus) onClosed(nc *nats.Conn) {
	if b.closing.CompareAndSwap(false, true) {
		b.log.Error("nats connection closed", "err", nc.LastError())
	} else {
		b.log.Info("nats connection closed")
	}
	b.doneOnce.Do(func() { close(b.done) })
	b.mu.Lock()
	subs := b.subs
	b.subs = nil
	b.mu.Unlock()
	for s := range subs {
		s.close()
	}
}

// Cluster returns the cluster name.
func (b *Bus) Cluster() string { return b.options().Cluster }

// Name returns the connection name.
func (b *Bus) Name() string { return b.options().Name }

// Publish sends msg on ch to every subscriber of the cluster's channel,
// including this Bus's own. It does not wait for the server: a nil error
// means the message was queued for sending (or, while disconnected,
// buffered for the reconnection), not that anyone received it.
//
// It returns ctx's error if ctx has ended, transport.ErrChannel,
// transport.ErrClosed after Close, ErrBufferFull when disconnected with a
// full reconnect buffer, or ErrTooLarge. It blocks at most
// Options.WriteTimeout, on a stalled socket.
func (b *Bus) Publish(ctx context.Context, ch transport.Channel, msg []byte) error {
	if !ch.Valid() {
		return fmt.Errorf("%w: %v", transport.ErrChannel, ch)
	}
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if b.closing.Load() {
		return transport.ErrClosed
	}
	err := b.conn().Publish(b.subjects[ch], msg)
	if err == nil {
		b.published.Add(1)
		return nil
	}
	b.pubErrors.Add(1)
	switch {
	case errors.Is(err, nats.ErrReconnectBufExceeded):
		return fmt.Errorf("%w (%v, %s)", ErrBufferFull, ch, b.conn().Status())
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionDraining):
		return fmt.Errorf("%w: %v", transport.ErrClosed, err)
	case errors.Is(err, nats.ErrMaxPayload):
		return fmt.Errorf("%w: %d bytes on %v", ErrTooLarge, len(msg), ch)
	}
	return fmt.Errorf("natsbus: publish on %v: %w", ch, err)
}

// Subscribe starts receiving the messages of ch. See [Bus.SubscribeContext];
// Subscribe waits at most Options.DialTimeout for the server.
func (b *Bus) Subscribe(ch transport.Channel) (transport.Subscription, error) {
	ctx, cancel := context.WithTimeout(context.Background(), b.options().DialTimeout)
	defer cancel()
	return b.SubscribeContext(ctx, ch)
}

// SubscribeContext starts receiving the messages of ch. While connected, it
// returns once the server has registered the subscription, so that every
// message published afterwards, by anyone, is delivered. While
// disconnected it returns at once: the subscription is registered when the
// connection is back, as after every reconnection.
//
// Like Subscribe it returns a transport.Subscription; its dynamic type is
// *[Subscription] (for Dropped and Channel), and it is nil on error.
func (b *Bus) SubscribeContext(ctx context.Context, ch transport.Channel) (transport.Subscription, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if !ch.Valid() {
		return nil, fmt.Errorf("%w: %v", transport.ErrChannel, ch)
	}
	s := &Subscription{bus: b, ch: ch, c: make(chan []byte, b.options().QueueSize)}
	b.mu.Lock()
	if b.subs == nil || b.closing.Load() {
		b.mu.Unlock()
		return nil, transport.ErrClosed
	}
	ns, err := b.conn().Subscribe(b.subjects[ch], s.deliver)
	if err != nil {
		b.mu.Unlock()
		if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrConnectionDraining) {
			return nil, fmt.Errorf("%w: %v", transport.ErrClosed, err)
		}
		return nil, fmt.Errorf("natsbus: subscribe to %v: %w", ch, err)
	}
	s.ns = ns
	b.subs[s] = struct{}{}
	b.mu.Unlock()

	if b.conn().IsConnected() {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, b.options().DialTimeout)
			defer cancel()
		}
		if err := b.conn().FlushWithContext(ctx); err != nil && b.conn().IsConnected() {
			s.Close()
			return nil, fmt.Errorf("natsbus: subscribe to %v: %w", ch, err)
		}
	}
	return s, nil
}

// Flush waits until the server has processed everything this Bus
// published so far, or ctx ends (default bound: Options.DialTimeout).
func (b *Bus) Flush(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if b.closing.Load() {
		return transport.ErrClosed
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.options().DialTimeout)
		defer cancel()
	}
	if err := b.conn().FlushWithContext(ctx); err != nil {
		return fmt.Errorf("natsbus: flush: %w", err)
	}
	return nil
}

// Healthy returns nil while the connection is up, an error wrapping
// ErrNotConnected while it is being re-established, and transport.ErrClosed
// once it is closed.
func (b *Bus) Healthy() error {
	if b.closing.Load() || b.conn().IsClosed() {
		return transport.ErrClosed
	}
	if b.conn().IsConnected() {
		return nil
	}
	if err := b.conn().LastError(); err != nil {
		return fmt.Errorf("%w (%s): %v", ErrNotConnected, b.conn().Status(), err)
	}
	return fmt.Errorf("%w (%s)", ErrNotConnected, b.conn().Status())
}

// Status is a snapshot of a [Bus], for health checks and metrics. It holds
// no secret.
type Status struct {
	Name      string // connection name
	Cluster   string // cluster name
	State     string // nats.go's state: CONNECTED, RECONNECTING, DRAINING_SUBS, CLOSED, ...
	Connected bool
	URL       string // the server connected to, credentials redacted; empty when not connected
	ServerID  string // the server connected to
	// Reconnects counts successful reconnections, Disconnects lost
	// connections.
	Reconnects, Disconnects uint64
	// Published counts messages accepted by Publish, PublishErrors the
	// calls that failed.
	Published, PublishErrors uint64
	// Delivered counts messages placed in a subscription's queue; Dropped
	// those dropped because the queue was full.
	Delivered, Dropped uint64
	// SlowConsumer counts messages nats.go itself dropped for this Bus's
	// open subscriptions (its pending limits); normally zero, because the
	// subscriptions' queues never block it.
	SlowConsumer  uint64
	Subscriptions int    // open subscriptions
	LastError     string // nats.go's last connection error, if any
}

// Status returns a snapshot of the connection and the counters.
func (b *Bus) Status() Status {
	st := Status{
		Name: b.options().Name, Cluster: b.options().Cluster,
		State: b.conn().Status().String(), Connected: b.conn().IsConnected(),
		Reconnects: b.conn().Stats().Reconnects, Disconnects: b.disconnects.Load(),
		Published: b.published.Load(), PublishErrors: b.pubErrors.Load(),
		Delivered: b.delivered.Load(), Dropped: b.dropped.Load(),
	}
	if st.Connected {
		st.URL, st.ServerID = redact(b.conn().ConnectedUrl()), b.conn().ConnectedServerId()
	}
	if err := b.conn().LastError(); err != nil {
		st.LastError = err.Error()
	}
	b.mu.Lock()
	st.Subscriptions = len(b.subs)
	for s := range b.subs {
		if n, err := s.ns.Dropped(); err == nil && n > 0 {
			st.SlowConsumer += uint64(n)
		}
	}
	b.mu.Unlock()
	return st
}

// Close drains the connection (nc.Drain: subscriptions stop, messages
// already received are delivered to the queues, publications are flushed)
// and waits until it is closed, at most Options.DrainTimeout. Every
// subscription's channel is then closed. It is idempotent.
func (b *Bus) Close() error { return b.Shutdown(context.Background()) }

// Shutdown is Close with a context: when ctx ends before the drain is
// done, the connection is closed at once and ctx's error returned.
func (b *Bus) Shutdown(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	b.drain.Do(func() {
		b.closing.Store(true)
		if err := b.conn().Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) &&
			!errors.Is(err, nats.ErrConnectionReconnecting) { // nats.go closed it
			b.log.Warn("nats drain failed; closing", "err", err)
			b.conn().Close()
		}
	})
	var err error
	select {
	case <-b.done:
	case <-ctx.Done():
		err = ctx.Err()
		b.conn().Close()
		select { // the closed handler is already queued
		case <-b.done:
		case <-time.After(time.Second):
		}
	}
	return err
}

// Subscription is a subscriber's view of one channel of a [Bus]; it
// implements transport.Subscription.
type Subscription struct {
	bus *Bus
	ch  transport.Channel
	ns  *nats.Subscription

	once    sync.Once
	mu      sync.Mutex
	closed  bool
	c       chan []byte
	dropped atomic.Uint64
}

// deliver runs on the NATS client's dispatcher: it never blocks.
func (s *Subscription) deliver(m *nats.Msg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.c <- m.Data: // nats.go gives every message its own copy
		s.bus.delivered.Add(1)
	default:
		s.bus.dropped.Add(1)
		if n := s.dropped.Add(1); n&(n-1) == 0 { // 1, 2, 4, 8, ...
			s.bus.log.Warn("subscriber queue full; message dropped", "channel", s.ch, "dropped", n)
		}
	}
}

// C delivers the messages. It is closed when the subscription or its Bus is
// closed.
func (s *Subscription) C() <-chan []byte { return s.c }

// Channel returns the channel subscribed to.
func (s *Subscription) Channel() transport.Channel { return s.ch }

// Dropped counts the messages dropped because the queue was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close unsubscribes and closes C. It is idempotent and always returns nil.
func (s *Subscription) Close() error {
	s.once.Do(func() {
		s.bus.mu.Lock()
		if s.bus.subs != nil {
			delete(s.bus.subs, s)
		}
		s.bus.mu.Unlock()
		s.ns.Unsubscribe() // fails only when the connection is already closed or draining
		s.close()
	})
	return nil
}

func (s *Subscription) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.c)
	}
}

// redact removes credentials from a comma-separated list of URLs.
func redact(urls string) string {
	parts := strings.Split(urls, ",")
	for n, p := range parts {
		p = strings.TrimSpace(p)
		if !strings.Contains(p, "@") {
			parts[n] = p
			continue
		}
		if u, err := url.Parse(p); err == nil && u.User != nil {
			u.User = url.User("REDACTED")
			parts[n] = u.String()
		} else {
			parts[n] = "REDACTED"
		}
	}
	return strings.Join(parts, ",")
}
