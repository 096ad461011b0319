package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// NettyCodecJar is the Netty jar ZooKeeper's TLS needs beyond the ones its
// jar's manifest lists: without it, every TLS connection fails with
// NoClassDefFoundError io/netty/handler/codec/ByteToMessageDecoder.
const NettyCodecJar = "/usr/share/java/netty-codec.jar"

// ZKTLS is the TLS setup of a ZooKeeper started WithTLS: the CA that signs
// the server's certificate and the client certificate tests may use.
type ZKTLS struct {
	CA *CA
	// CAFile is the CA's certificate, PEM.
	CAFile string
	// CertFile and KeyFile are a client certificate (CN "lighthouse")
	// signed by CA, and its key, PEM: the daemons' (DiscoveryYAML).
	CertFile, KeyFile string
	// TestCertFile and TestKeyFile are another (CN "test-client"): the
	// test's own clients' (Connect, Conn). With client certificates
	// ZooKeeper authenticates each session as x509:<subject>, so the
	// test's clients must not share the daemons' identity.
	TestCertFile, TestKeyFile string
	// ClientAuth is the server's ssl.clientAuth: "need", "want" or "none".
	ClientAuth string
}

// DiscoveryYAML is the tls: key of a discovery config for this server,
// with the client certificate when withCert.
func (s *ZKTLS) DiscoveryYAML(withCert bool) string {
	y := fmt.Sprintf("tls:\n  ca_file: %q\n", s.CAFile)
	if withCert {
		y += fmt.Sprintf("  cert_file: %q\n  key_file: %q\n", s.CertFile, s.KeyFile)
	}
	return y
}

// Config is a client TLS config with the test's client certificate.
func (s *ZKTLS) Config(t testing.TB) *tls.Config {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(s.TestCertFile, s.TestKeyFile)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return &tls.Config{RootCAs: s.CA.Pool(), Certificates: []tls.Certificate{pair}, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// WithTLS makes the server serve TLS through Netty on a second port,
// secureClientPort, with a certificate for 127.0.0.1 and localhost signed
// by a fresh CA; clientAuth is ssl.clientAuth ("need": clients must present
// a certificate signed by the CA; "none"). The keystore and truststore are
// PEM files (ssl.keyStore.type=PEM, which ZooKeeper 3.8 reads: the
// PKCS#8 key and the certificate in one file). Addr and Hosts then name
// the secure port, Connect and Conn use TLS, and PlainAddr keeps the plain
// port (four-letter words, ExpireSession). WithTLS("") serves plain TCP
// only, whatever LIGHTHOUSE_ZK_TLS says.
func WithTLS(clientAuth string) ZKOption {
	return func(c *zkConfig) { c.tls = clientAuth }
}

// CA is a certificate authority made for a test.
type CA struct {
	Dir      string
	CertFile string
	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
}

var serial atomic.Int64

// NewCA makes a CA valid from an hour ago for a day, its certificate
// written to dir/<name>.pem.
func NewCA(t testing.TB, dir, name string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &CA{Dir: dir, CertFile: filepath.Join(dir, name+".pem"), cert: cert, key: key}
	writePEM(t, ca.CertFile, pemBlock("CERTIFICATE", der))
	return ca
}

// Pool is a pool holding the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// Issue makes a certificate for name (also a SAN for 127.0.0.1 and
// localhost) valid from notBefore to notAfter, for servers and clients,
// and writes dir/<name>.pem and dir/<name>.key (PKCS#8).
func (ca *CA) Issue(t testing.TB, name string, notBefore, notAfter time.Time) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	certFile, keyFile = filepath.Join(ca.Dir, name+".pem"), filepath.Join(ca.Dir, name+".key")
	writePEM(t, certFile, pemBlock("CERTIFICATE", der))
	writePEM(t, keyFile, pemBlock("PRIVATE KEY", kder))
	return certFile, keyFile
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func writePEM(t testing.TB, file string, b ...[]byte) {
	t.Helper()
	var all []byte
	for _, x := range b {
		all = append(all, x...)
	}
	if err := os.WriteFile(file, all, 0o600); err != nil {
		t.Fatalf("testenv: %v", err)
	}
}

// setupTLS makes the certificates of a server started WithTLS and returns
// its zoo.cfg lines.
func (z *ZooKeeper) setupTLS(securePort int) []string {
	t := z.t
	if z.TLS == nil {
		dir := filepath.Join(z.Dir, "tls")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatalf("testenv: %v", err)
		}
		ca := NewCA(t, dir, "ca")
		now := time.Now()
		srvCert, srvKey := ca.Issue(t, "zookeeper", now.Add(-time.Hour), now.Add(24*time.Hour))
		cert, key := ca.Issue(t, "lighthouse", now.Add(-time.Hour), now.Add(24*time.Hour))
		testCert, testKey := ca.Issue(t, "test-client", now.Add(-time.Hour), now.Add(24*time.Hour))
		// ZooKeeper's PEM keystore: the key and the certificate in one file.
		k, _ := os.ReadFile(srvKey)
		c, _ := os.ReadFile(srvCert)
		writePEM(t, filepath.Join(dir, "keystore.pem"), k, c)
		z.TLS = &ZKTLS{CA: ca, CAFile: ca.CertFile, CertFile: cert, KeyFile: key, TestCertFile: testCert, TestKeyFile: testKey, ClientAuth: z.cfg.tls}
	}
	dir := filepath.Join(z.Dir, "tls")
	return []string{
		"serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
		fmt.Sprintf("secureClientPort=%d", securePort),
		"secureClientPortAddress=127.0.0.1",
		"ssl.keyStore.location=" + filepath.Join(dir, "keystore.pem"),
		"ssl.keyStore.type=PEM",
		"ssl.trustStore.location=" + z.TLS.CAFile,
		"ssl.trustStore.type=PEM",
		"ssl.clientAuth=" + z.cfg.tls,
	}
}

// ZooCfg returns the server's zoo.cfg lines after the common ones (those
// of its options), for documentation and logs.
func (z *ZooKeeper) ZooCfg() string {
	b, _ := os.ReadFile(z.ConfigPath)
	return strings.TrimSpace(string(b))
}

// TLSFromEnv is the ssl.clientAuth StartZooKeeper uses when the
// environment variable LIGHTHOUSE_ZK_TLS is set ("need", "want" or
// "none"): every standalone server of a test run then serves TLS, and
// DiscoveryYAML points clients at it, so that a suite runs over TLS
// unchanged.
func TLSFromEnv() string { return os.Getenv("LIGHTHOUSE_ZK_TLS") }

// DiscoveryYAML is a discovery config for this server with base path
// path: its hosts, and with TLS its tls key (with the client certificate).
func (z *ZooKeeper) DiscoveryYAML(path string) string {
	y := fmt.Sprintf("hosts: [%q]\npath: %q\n", z.Addr, path)
	if z.TLS != nil {
		y += z.TLS.DiscoveryYAML(true)
	}
	return y
}
