// Command cfssl-tolerant is a real Go CA server, CloudFlare's cfssl
// (v1.6.5), whose key is a tolerant cluster: cfssl's local signer gets
// x509sign's Signer as its crypto.Signer, and its HTTP sign API
// (/api/v1/cfssl/sign) issues certificates for CSRs.
//
// x509sign's Signer is also a crypto.MessageSigner, so crypto/x509 (which
// cfssl calls with the signer as it is) gives it the whole
// TBSCertificate: every calculator and combiner hashes and checks it
// ([0092], [0110]), and no policy for digest-only requests is needed.
// (step-ca instead wraps every KMS signer in a type that hides
// SignMessage, so it sends digests only; its distributor must be one the
// nodes accept digest-only requests from.)
//
// It connects like the PKCS #11 module, from the file written by
// "tolerant pkcs11-config" (its PIN is not used: the server is the
// distributor itself):
//
//	cfssl-tolerant -config p11.conf -ca-cert root.pem -listen 127.0.0.1:8888
//	curl -d '{"certificate_request": "-----BEGIN CERTIFICATE REQUEST-----\n..."}' \
//	    http://127.0.0.1:8888/api/v1/cfssl/sign
//
// It is its own Go module so that cfssl's dependencies stay out of the
// library's.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/tolerantca/tolerant/examples/tolerant-pkcs11/p11conf"
)

func main() {
	conf := flag.String("config", os.Getenv(p11conf.EnvVar), "configuration written by tolerant pkcs11-config (default: $"+p11conf.EnvVar+")")
	caCert := flag.String("ca-cert", "", "PEM certificate of the cluster's key, the issuer of what the server signs (required)")
	listen := flag.String("listen", "127.0.0.1:8888", "address of the HTTP API")
	days := flag.Int("days", 90, "validity of issued certificates, in days")
	flag.Parse()
	if err := run(*conf, *caCert, *listen, time.Duration(*days)*24*time.Hour); err != nil {
		fmt.Fprintln(os.Stderr, "cfssl-tolerant:", err)
		os.Exit(1)
	}
}

func run(confPath, caPath, listen string, validity time.Duration) error {
	if confPath == "" || caPath == "" {
		return fmt.Errorf("-config and -ca-cert are required")
	}
	c, err := p11conf.Load(confPath)
	if err != nil {
		return err
	}
	cl, err := c.LoadPublic()
	if err != nil {
		return err
	}
	ca, err := readCert(caPath)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	signer, closer, err := c.Dial(context.Background(), cl, log)
	if err != nil {
		return err
	}
	defer closer.Close()
	h, err := newHandler(signer, ca, validity)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	log.Info("cfssl sign API listening", "addr", l.Addr().String(), "path", signPath)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(l)
}
