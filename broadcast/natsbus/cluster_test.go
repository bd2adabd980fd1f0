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
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/tolerantca/tolerant/broadcast"
	"github.com/tolerantca/tolerant/internal/testcluster"
	"github.com/tolerantca/tolerant/share"
)

// The whole (5,3,2) cluster on NATS, each node on its own connection
// ([0039]): signatures byte-identical to crypto/rsa's.
func TestSign(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	c := startCluster(t, srv.URL(), nil)
	if n := srv.NumClients(); n != 5+len(testcluster.Deal(t, 5, 3, 2, searched).Combiners)+1 {
		t.Errorf("%d clients, want one per node", n)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { sign(t, c, fmt.Sprintf("message %d", i), 20*time.Second) })
	}
	wg.Wait()
	for j := 1; j <= 5; j++ {
		st := c.Bus(share.Node{Role: share.RoleCalculator, Number: j}).Status()
		if !st.Connected || st.Name != fmt.Sprintf("calculator-%d", j) || st.Published == 0 {
			t.Errorf("calculator %d: %+v", j, st)
		}
		if s := c.Calculator(j).Stats(); s.Rejected != 0 || s.Malformed != 0 {
			t.Errorf("calculator %d: %+v", j, s)
		}
	}
}

// Two calculators lose their connections: t=3 of k=5 still sign.
func TestSignTwoCalculatorsClosed(t *testing.T) {
	srv := startServer(t, ServerOptions{})
	c := startCluster(t, srv.URL(), &ClusterOptions{Distributor: fastDistributor()})
	sign(t, c, "before", 20*time.Second)
	for _, j := range []int{2, 4} {
		if err := c.Bus(share.Node{Role: share.RoleCalculator, Number: j}).Close(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		out := sign(t, c, fmt.Sprintf("after %d", i), 20*time.Second)
		if used := out.Rep.Calculators(); slices.Contains(used, 2) || slices.Contains(used, 4) {
			t.Fatalf("calculators %v used", used)
		}
	}
	if !c.StopCalculator(2) || c.StopCalculator(2) {
		t.Error("StopCalculator")
	}
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
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
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
		t.Error(err)
	}
	for i := range 3 {
		sign(t, c, fmt.Sprintf("after %d", i), 20*time.Second)
	}
	if err := dist.Healthy(); err != nil {
		t.Error(err)
	}
	if st := dist.Status(); st.Reconnects < 1 || st.Disconnects < 1 || st.Subscriptions != 2 {
		t.Errorf("distributor bus: %+v", st)
	}
	if n := srv2.NumClients(); n != 5+len(testcluster.Deal(t, 5, 3, 2, searched).Combiners)+1 {
		t.Errorf("%d clients after the restart", n)
	}
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
	if err := unbuffered.Publish(ctx, broadcast.B2, []byte("lost")); !errors.Is(err, ErrBufferFull) {
		t.Fatalf("unbuffered Publish while disconnected: %v", err)
	}
	sent := 0
	for {
		err := buffered.Publish(ctx, broadcast.B2, fmt.Appendf(nil, "kept %03d", sent))
		if errors.Is(err, ErrBufferFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sent++
		if sent > 1000 {
			t.Fatal("the reconnect buffer never filled")
		}
	}
	if time.Since(start) > time.Second {
		t.Errorf("publishing while disconnected took %v", time.Since(start))
	}
	if sent == 0 {
		t.Fatal("nothing buffered")
	}
	if st := buffered.Status(); st.PublishErrors != 1 || st.Published != uint64(sent) || st.Connected {
		t.Errorf("status %+v", st)
	}

	startServer(t, ServerOptions{Port: port})
	// On reconnection, nats.go re-subscribes before it flushes the
	// buffer: the publisher's own subscription gets every buffered
	// message, in order. Another connection may come back later and miss
	// some (the protocol retransmits), but gets what follows.
	for i := range sent {
		if got, w := recv(t, own), fmt.Sprintf("kept %03d", i); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
	waitFor(t, 10*time.Second, "the reconnections", func() bool {
		return buffered.Healthy() == nil && sub.Healthy() == nil && unbuffered.Healthy() == nil
	})
	if err := sub.Flush(ctx); err != nil { // its subscription is registered again
		t.Fatal(err)
	}
	if err := buffered.Publish(ctx, broadcast.B2, []byte("after")); err != nil {
		t.Fatal(err)
	}
	for m := recv(t, s); m != "after"; m = recv(t, s) {
		if !strings.HasPrefix(m, "kept ") {
			t.Fatalf("unexpected %q", m)
		}
	}
	if got := recv(t, own); got != "after" {
		t.Fatalf("got %q", got)
	}
	if !strings.Contains(logs.String(), "nats disconnected") || !strings.Contains(logs.String(), "nats reconnected") {
		t.Errorf("connection events not logged:\n%s", logs)
	}
	if strings.Contains(logs.String(), "kept") {
		t.Error("a payload was logged")
	}
}

// A server with a self-signed certificate; clients trusting it sign.
func TestTLS(t *testing.T) {
	cert, pemFile := selfSigned(t)
	srv := startServer(t, ServerOptions{TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}})
	if !strings.HasPrefix(srv.URL(), "tls://") {
		t.Fatalf("URL %s", srv.URL())
	}
	if _, err := Dial(testcluster.Timeout(t, 10*time.Second), Options{Cluster: testCluster, URL: srv.URL()}); err == nil {
		t.Fatal("a client that does not trust the certificate connected")
	}
	c := startCluster(t, srv.URL(), &ClusterOptions{Bus: Options{RootCAs: []string{pemFile}}})
	sign(t, c, "over TLS", 20*time.Second)

	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	b := dial(t, Options{URL: srv.URL(), TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}})
	if err := b.Healthy(); err != nil {
		t.Fatal(err)
	}
}

func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
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
		if err != nil {
			t.Fatal(err)
		}
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
	if !errors.Is(err, ErrAuth) || !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("wrong password: %v", err)
	}
	if !strings.Contains(err.Error(), `"calculator-1"`) || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("error %q", err)
	}
	if _, err := Dial(testcluster.Timeout(t, 10*time.Second), Options{Cluster: testCluster, URL: srv.URL()}); !errors.Is(err, ErrAuth) {
		t.Fatalf("no credentials: %v", err)
	}
	// Credentials in the URL are redacted from errors.
	_, err = Dial(testcluster.Timeout(t, 10*time.Second), Options{Cluster: testCluster, URL: strings.Replace(srv.URL(), "nats://", "nats://calculator-1:wrong-secret@", 1)})
	if !errors.Is(err, ErrAuth) || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("wrong password in the URL: %v", err)
	}
	for _, l := range []string{logs.String(), srvLogs.String()} {
		if strings.Contains(l, "wrong-secret") || strings.Contains(l, "pw-") {
			t.Errorf("a password was logged:\n%s", l)
		}
	}

	// A calculator's credentials cannot publish on B3 (its permissions),
	// so a forged signature never reaches the distributor's subscription.
	calc := dial(t, Options{URL: srv.URL(), Cluster: "ca", User: "calculator-1", Password: "pw-calculator-1"})
	dist := dial(t, Options{URL: srv.URL(), Cluster: "ca", User: "distributor-1", Password: "pw-distributor-1"})
	s := subscribe(t, dist, broadcast.B3)
	ctx := testcluster.Timeout(t, 10*time.Second)
	if err := calc.Publish(ctx, broadcast.B3, []byte("forged")); err != nil {
		t.Fatal(err)
	}
	calc.Flush(ctx)
	if err := c.Bus(share.Node{Role: share.RoleCombiner, Number: 1}).Publish(ctx, broadcast.B3, []byte("genuine")); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, s); got != "genuine" {
		t.Fatalf("got %q", got)
	}
}

// A node authenticated by an nkey seed file.
func TestNKey(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	seedFile := writeFile(t, t.TempDir(), "node.nk", string(seed))
	srv := startServer(t, ServerOptions{Users: []User{{NKey: pub}}})
	b := dial(t, Options{URL: srv.URL(), NKeySeedFile: seedFile})
	if err := b.Healthy(); err != nil {
		t.Fatal(err)
	}
	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	if _, err := Dial(testcluster.Timeout(t, 10*time.Second), Options{Cluster: testCluster, URL: srv.URL(), NKeySeedFile: writeFile(t, t.TempDir(), "other.nk", string(otherSeed))}); !errors.Is(err, ErrAuth) {
		t.Fatalf("unknown nkey: %v", err)
	}
}

func TestServerLifecycle(t *testing.T) {
	srv := startServer(t, ServerOptions{Name: "broker"})
	if err := srv.Healthy(); err != nil {
		t.Fatal(err)
	}
	if srv.Port() <= 0 || !strings.HasSuffix(srv.URL(), fmt.Sprintf(":%d", srv.Port())) || srv.NATS().Name() != "broker" {
		t.Fatalf("URL %s, port %d", srv.URL(), srv.Port())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	<-srv.Done()
	if err := srv.Healthy(); !errors.Is(err, ErrServer) {
		t.Fatalf("Healthy after Shutdown: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNodePermissions(t *testing.T) {
	p, err := NodePermissions("ca", share.RoleCalculator)
	if err != nil || !slices.Equal(p.Publish, []string{"tolerant.ca.b1", "tolerant.ca.b2"}) || !slices.Equal(p.Subscribe, []string{"tolerant.ca.b1"}) {
		t.Fatalf("%+v, %v", p, err)
	}
	if _, err := NodePermissions("", share.RoleCalculator); !errors.Is(err, ErrOptions) {
		t.Fatalf("no cluster: %v", err)
	}
	if _, err := NodePermissions("x", 9); !errors.Is(err, ErrOptions) {
		t.Fatal(err)
	}
	if _, err := NodePermissions("a.b", share.RoleCombiner); !errors.Is(err, ErrOptions) {
		t.Fatal(err)
	}
	if n := NodeName(share.Node{Role: share.RoleCombiner, Number: 2}); n != "combiner-2" {
		t.Fatal(n)
	}
}

func TestStartClusterBadInput(t *testing.T) {
	if _, err := StartCluster(context.Background(), "nats://127.0.0.1:1", nil, nil); !errors.Is(err, ErrOptions) {
		t.Fatal(err)
	}
	d := testcluster.Deal(t, 5, 3, 2, searched)
	ctx := testcluster.Timeout(t, 10*time.Second)
	if _, err := StartCluster(ctx, "nats://127.0.0.1:1", d, &ClusterOptions{Bus: Options{DialTimeout: 200 * time.Millisecond}}); err == nil {
		t.Fatal("StartCluster without a server succeeded")
	}
	srv := startServer(t, ServerOptions{})
	if _, err := StartCluster(ctx, srv.URL(), d, &ClusterOptions{Bus: Options{Cluster: "bad.name"}}); !errors.Is(err, ErrOptions) {
		t.Fatal(err)
	}
}
