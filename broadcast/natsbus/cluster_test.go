package natsbus

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/share"
)

// The whole (5,3,2) cluster on NATS, each node on its own connection
// ([0039]): signatures byte-identical to crypto/rsa's.
func TestSign(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	c := startCluster(t, srv.URL(), nil)
	nodes := 5 + len(testcluster.Deal(t, 5, 3, 2, searched).Combiners) + 1
	assert.Equal(t, nodes, srv.NumClients(), "clients: one per node")
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { sign(t, c, fmt.Sprintf("message %d", i), 20*time.Second) })
	}
	wg.Wait()
	for j := 1; j <= 5; j++ {
		st := c.Bus(share.Node{Role: share.RoleCalculator, Number: j}).Status()
		assert.True(t, st.Connected, "calculator %d connected, status %+v", j, st)
		assert.Equal(t, fmt.Sprintf("calculator-%d", j), st.Name, "calculator %d name, status %+v", j, st)
		assert.NotZero(t, st.Published, "calculator %d published, status %+v", j, st)
		s := c.Calculator(j).Stats()
		assert.Zero(t, s.Rejected, "calculator %d rejected, stats %+v", j, s)
		assert.Zero(t, s.Malformed, "calculator %d malformed, stats %+v", j, s)
	}
}

// Two calculators lose their connections: t=3 of k=5 still sign.
func TestSignTwoCalculatorsClosed(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	c := startCluster(t, srv.URL(), &ClusterOptions{Distributor: fastDistributor()})
	sign(t, c, "before", 20*time.Second)
	for _, j := range []int{2, 4} {
		require.NoError(t, c.Bus(share.Node{Role: share.RoleCalculator, Number: j}).Close())
	}
	for i := range 3 {
		out := sign(t, c, fmt.Sprintf("after %d", i), 20*time.Second)
		used := out.Rep.Calculators()
		require.NotContains(t, used, 2, "closed calculator 2 used")
		require.NotContains(t, used, 4, "closed calculator 4 used")
	}
	assert.True(t, c.StopCalculator(2), "first StopCalculator(2) stops nothing")
	assert.False(t, c.StopCalculator(2), "second StopCalculator(2) stops again")
}

// The NATS server goes down in the middle of signing and a new one starts
// on the same port: the connections come back, their subscriptions too,
// and both the pending tasks and new ones complete.
func TestServerRestart(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	port := srv.Port()
	c := startCluster(t, srv.URL(), &ClusterOptions{Bus: fastBus(Options{}), Distributor: fastDistributor()})
	sign(t, c, "warm up", 20*time.Second)

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	signAsync := func(msg string) {
		wg.Go(func() {
			if _, err := c.Distributor().Sign(testcluster.Timeout(t, 30*time.Second), testcluster.Request(msg)); err != nil {
				errs <- fmt.Errorf("%q: %w", msg, err)
			}
		})
	}
	for i := range 4 {
		signAsync(fmt.Sprintf("pending %d", i))
	}
	require.NoError(t, srv.Close())
	dist := c.Bus(share.Node{Role: share.RoleDistributor, Number: 1})
	waitFor(t, 5*time.Second, "the disconnection", func() bool { return errors.Is(dist.Healthy(), ErrNotConnected) })
	for i := range 4 {
		signAsync(fmt.Sprintf("during the outage %d", i))
	}
	time.Sleep(300 * time.Millisecond)

	srv2 := startServer(t, ServerOptions{Port: port})
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	for i := range 3 {
		sign(t, c, fmt.Sprintf("after %d", i), 20*time.Second)
	}
	assert.NoError(t, dist.Healthy())
	st := dist.Status()
	assert.GreaterOrEqual(t, st.Reconnects, uint64(1), "distributor bus reconnects, status %+v", st)
	assert.GreaterOrEqual(t, st.Disconnects, uint64(1), "distributor bus disconnects, status %+v", st)
	assert.Equal(t, 2, st.Subscriptions, "distributor bus subscriptions, status %+v", st)
	nodes := 5 + len(testcluster.Deal(t, 5, 3, 2, searched).Combiners) + 1
	assert.Equal(t, nodes, srv2.NumClients(), "clients after the restart: one per node")
}

// While disconnected, Publish buffers up to ReconnectBufSize and then fails
// at once with ErrBufferFull; buffered messages are sent on reconnection.
func TestPublishWhileDisconnected(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	port := srv.Port()
	ctx := testcluster.Timeout(t, 20*time.Second)
	log, logs := testcluster.Logger()
	buffered := dial(t, fastBus(Options{URL: srv.URL(), Name: "buffered", ReconnectBufSize: 1024, Logger: log}))
	unbuffered := dial(t, fastBus(Options{URL: srv.URL(), ReconnectBufSize: -1}))
	sub := dial(t, fastBus(Options{URL: srv.URL()}))
	s := subscribe(t, sub, broadcast.B2)
	own := subscribe(t, buffered, broadcast.B2)

	srv.Close()
	for _, b := range []*Bus{buffered, unbuffered, sub} {
		waitFor(t, 5*time.Second, "the disconnection", func() bool { return errors.Is(b.Healthy(), ErrNotConnected) })
	}
	start := time.Now()
	require.ErrorIs(t, unbuffered.Publish(ctx, broadcast.B2, []byte("lost")), ErrBufferFull, "unbuffered Publish while disconnected")
	sent := 0
	for {
		err := buffered.Publish(ctx, broadcast.B2, fmt.Appendf(nil, "kept %03d", sent))
		if errors.Is(err, ErrBufferFull) {
			break
		}
		require.NoError(t, err)
		sent++
		require.LessOrEqual(t, sent, 1000, "the reconnect buffer never filled")
	}
	assert.LessOrEqual(t, time.Since(start), time.Second, "publishing while disconnected took longer than 1 s")
	require.NotZero(t, sent, "nothing buffered")
	st := buffered.Status()
	assert.Equal(t, uint64(1), st.PublishErrors, "publish errors, status %+v", st)
	assert.Equal(t, uint64(sent), st.Published, "published, status %+v", st)
	assert.False(t, st.Connected, "connected, status %+v", st)

	startServer(t, ServerOptions{Port: port})
	// On reconnection, nats.go re-subscribes before it flushes the
	// buffer: the publisher's own subscription gets every buffered
	// message, in order. Another connection may come back later and miss
	// some (the protocol retransmits), but gets what follows.
	for i := range sent {
		require.Equal(t, fmt.Sprintf("kept %03d", i), recv(t, own))
	}
	waitFor(t, 10*time.Second, "the reconnections", func() bool {
		return buffered.Healthy() == nil && sub.Healthy() == nil && unbuffered.Healthy() == nil
	})
	require.NoError(t, sub.Flush(ctx)) // its subscription is registered again
	require.NoError(t, buffered.Publish(ctx, broadcast.B2, []byte("after")))
	for m := recv(t, s); m != "after"; m = recv(t, s) {
		require.True(t, strings.HasPrefix(m, "kept "), "unexpected %q, want a buffered message or \"after\"", m)
	}
	require.Equal(t, "after", recv(t, own))
	assert.Contains(t, logs.String(), "nats disconnected", "connection events not logged")
	assert.Contains(t, logs.String(), "nats reconnected", "connection events not logged")
	assert.NotContains(t, logs.String(), "kept", "a payload was logged")
}

// A server with a self-signed certificate; clients trusting it sign.
func TestTLS(t *testing.T) {
	cert, pemFile := selfSigned(t)
	srv := startServer(t, ServerOptions{TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}})
	require.True(t, strings.HasPrefix(srv.URL(), "tls://"), "URL %s, want tls://", srv.URL())
	_, err := Dial(testcluster.Timeout(t, 10*time.Second), Options{Cluster: testCluster, URL: srv.URL()})
	require.Error(t, err, "a client that does not trust the certificate connected")
	c := startCluster(t, srv.URL(), &ClusterOptions{Bus: Options{RootCAs: []string{pemFile}}})
	sign(t, c, "over TLS", 20*time.Second)

	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	b := dial(t, Options{URL: srv.URL(), TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}})
	require.NoError(t, b.Healthy())
}

func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tolerant test NATS"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:        true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "ca.pem")
	writeFile(t, filepath.Dir(p), "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, p
}

// Every node has its own NATS user, allowed only the subjects its role
// needs; a wrong password fails to dial with ErrAuth.
func TestCredentials(t *testing.T) {
	d := testcluster.Deal(t, 5, 3, 2, searched)
	var users []User
	var nodes []share.Node
	nodes = append(nodes, share.Node{Role: share.RoleDistributor, Number: 1})
	for j := 1; j <= 5; j++ {
		nodes = append(nodes, share.Node{Role: share.RoleCalculator, Number: j})
	}
	for n := 1; n <= len(d.Combiners); n++ {
		nodes = append(nodes, share.Node{Role: share.RoleCombiner, Number: n})
	}
	for _, n := range nodes {
		perm, err := NodePermissions("ca", n.Role)
		require.NoError(t, err)
		users = append(users, User{Name: NodeName(n), Password: "pw-" + NodeName(n), Publish: perm.Publish, Subscribe: perm.Subscribe})
	}
	srvLog, srvLogs := testcluster.Logger()
	srv := startServer(t, ServerOptions{Users: users, Logger: srvLog})
	c := startCluster(t, srv.URL(), &ClusterOptions{
		Bus: Options{Cluster: "ca"},
		NodeBus: func(n share.Node, o *Options) {
			o.User, o.Password = NodeName(n), "pw-"+NodeName(n)
		},
	})
	sign(t, c, "with credentials", 20*time.Second)

	log, logs := testcluster.Logger()
	_, err := Dial(testcluster.Timeout(t, 10*time.Second), Options{Cluster: testCluster, URL: srv.URL(), User: "calculator-1", Password: "wrong-secret", Logger: log})
	require.ErrorIs(t, err, ErrAuth, "wrong password")
	require.ErrorIs(t, err, nats.ErrAuthorization, "wrong password")
	assert.Contains(t, err.Error(), `"calculator-1"`, "the error names the user")
	assert.NotContains(t, err.Error(), "wrong-secret", "the error holds the password")
	_, err = Dial(testcluster.Timeout(t, 10*time.Second), Options{Cluster: testCluster, URL: srv.URL()})
	require.ErrorIs(t, err, ErrAuth, "no credentials")
	// Credentials in the URL are redacted from errors.
	_, err = Dial(testcluster.Timeout(t, 10*time.Second), Options{Cluster: testCluster, URL: strings.Replace(srv.URL(), "nats://", "nats://calculator-1:wrong-secret@", 1)})
	require.ErrorIs(t, err, ErrAuth, "wrong password in the URL")
	require.NotContains(t, err.Error(), "wrong-secret", "the error holds the password in the URL")
	for _, l := range []string{logs.String(), srvLogs.String()} {
		assert.NotContains(t, l, "wrong-secret", "a password was logged")
		assert.NotContains(t, l, "pw-", "a password was logged")
	}

	// A calculator's credentials cannot publish on B3 (its permissions),
	// so a forged signature never reaches the distributor's subscription.
	calc := dial(t, Options{URL: srv.URL(), Cluster: "ca", User: "calculator-1", Password: "pw-calculator-1"})
	dist := dial(t, Options{URL: srv.URL(), Cluster: "ca", User: "distributor-1", Password: "pw-distributor-1"})
	s := subscribe(t, dist, broadcast.B3)
	ctx := testcluster.Timeout(t, 10*time.Second)
	require.NoError(t, calc.Publish(ctx, broadcast.B3, []byte("forged")))
	calc.Flush(ctx)
	require.NoError(t, c.Bus(share.Node{Role: share.RoleCombiner, Number: 1}).Publish(ctx, broadcast.B3, []byte("genuine")))
	require.Equal(t, "genuine", recv(t, s), "the distributor received")
}

// A node authenticated by an nkey seed file.
func TestNKey(t *testing.T) {
	kp, err := nkeys.CreateUser()
	require.NoError(t, err)
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	seedFile := writeFile(t, t.TempDir(), "node.nk", string(seed))
	srv := startServer(t, ServerOptions{Users: []User{{NKey: pub}}})
	b := dial(t, Options{URL: srv.URL(), NKeySeedFile: seedFile})
	require.NoError(t, b.Healthy())
	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	_, err = Dial(testcluster.Timeout(t, 10*time.Second), Options{Cluster: testCluster, URL: srv.URL(), NKeySeedFile: writeFile(t, t.TempDir(), "other.nk", string(otherSeed))})
	require.ErrorIs(t, err, ErrAuth, "unknown nkey")
}

func TestServerLifecycle(t *testing.T) {
	srv := startServer(t, ServerOptions{Name: "broker"})
	require.NoError(t, srv.Healthy())
	require.Positive(t, srv.Port(), "port")
	require.True(t, strings.HasSuffix(srv.URL(), fmt.Sprintf(":%d", srv.Port())), "URL %s, want it to end in the port %d", srv.URL(), srv.Port())
	require.Equal(t, "broker", srv.NATS().Name(), "server name")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(ctx))
	<-srv.Done()
	require.ErrorIs(t, srv.Healthy(), ErrServer, "Healthy after Shutdown")
	require.NoError(t, srv.Close())
}

func TestNodePermissions(t *testing.T) {
	p, err := NodePermissions("ca", share.RoleCalculator)
	require.NoError(t, err)
	require.Equal(t, []string{"tolerant.ca.b1", "tolerant.ca.b2"}, p.Publish, "a calculator publishes")
	require.Equal(t, []string{"tolerant.ca.b1"}, p.Subscribe, "a calculator subscribes")
	_, err = NodePermissions("", share.RoleCalculator)
	require.ErrorIs(t, err, ErrOptions, "no cluster")
	_, err = NodePermissions("x", 9)
	require.ErrorIs(t, err, ErrOptions, "role 9")
	_, err = NodePermissions("a.b", share.RoleCombiner)
	require.ErrorIs(t, err, ErrOptions, "cluster a.b")
	require.Equal(t, "combiner-2", NodeName(share.Node{Role: share.RoleCombiner, Number: 2}))
}

func TestStartClusterBadInput(t *testing.T) {
	_, err := StartCluster(context.Background(), "nats://127.0.0.1:1", nil, nil)
	require.ErrorIs(t, err, ErrOptions, "no dealing")
	d := testcluster.Deal(t, 5, 3, 2, searched)
	ctx := testcluster.Timeout(t, 10*time.Second)
	_, err = StartCluster(ctx, "nats://127.0.0.1:1", d, &ClusterOptions{Bus: Options{DialTimeout: 200 * time.Millisecond}})
	require.Error(t, err, "StartCluster without a server succeeded")
	srv := startServer(t, ServerOptions{})
	_, err = StartCluster(ctx, srv.URL(), d, &ClusterOptions{Bus: Options{Cluster: "bad.name"}})
	require.ErrorIs(t, err, ErrOptions, "cluster bad.name")
}
