package zk

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"lighthouse/model"
)

// Security carries out discovery's auth, acl and tls keys for one client:
// it reads the credentials file and the TLS files when the client
// connects, authenticates the session, and gives the ACL of the znodes the
// reporter creates. Nothing it logs or returns holds the password.
//
// The files are read on each connection attempt until they are good, so a
// missing or wrong file is retried with the client's backoff (a second
// between rounds) and fixed without a restart; the credentials, once read,
// are kept for the life of the client (go-zookeeper submits them again on
// every new connection and session). The TLS files are read on every
// connection, so renewed certificates are picked up at the next reconnect.
type Security struct {
	d   model.Discovery
	acl []zk.ACL
	now func() time.Time

	creds     atomic.Pointer[credentials]
	credsRead chan struct{} // closed when creds is set
	once      sync.Once
	ready     atomic.Bool // the credentials were added to the session (or there are none)
}

// credentials is a digest user and password. Its String never shows the
// password.
type credentials struct {
	user     string
	password string
}

func (c *credentials) String() string { return "digest user " + c.user }

// NewSecurity prepares the security of a client for discovery config d.
func NewSecurity(d model.Discovery) *Security {
	s := &Security{d: d, now: time.Now, credsRead: make(chan struct{})}
	for _, e := range d.RegistrationACL() {
		s.acl = append(s.acl, zk.ACL{Perms: int32(e.Perms), Scheme: e.Scheme, ID: e.ID})
	}
	if d.Auth == nil {
		s.ready.Store(true)
	}
	return s
}

// ACL is the ACL for the znodes the reporter creates.
func (s *Security) ACL() []zk.ACL { return s.acl }

// Ready reports whether the session may be used: the credentials have been
// submitted, or there are none to submit.
func (s *Security) Ready() bool { return s.ready.Load() }

// Start submits the credentials once the dialer has read them, retrying
// until it succeeds or ctx ends, then calls onReady. Without auth it does
// nothing.
func (s *Security) Start(ctx context.Context, conn *zk.Conn, log *slog.Logger, onReady func()) {
	if s.d.Auth == nil {
		return
	}
	go func() {
		select {
		case <-s.credsRead:
		case <-ctx.Done():
			return
		}
		c := s.creds.Load()
		for ctx.Err() == nil {
			// Queued before any request of ours: the server sees the
			// credentials first on this connection, and go-zookeeper
			// submits them first on every later one.
			err := conn.AddAuth("digest", []byte(c.user+":"+c.password))
			if err == nil {
				s.ready.Store(true)
				if log != nil {
					log.Info("ZooKeeper credentials submitted", "component", "zookeeper", "credentials", c.String(), "file", s.d.Auth.CredentialsFile)
				}
				onReady()
				return
			}
			if errors.Is(err, zk.ErrClosing) || errors.Is(err, zk.ErrConnectionClosed) && ctx.Err() != nil {
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
}

// prepare reads what a connection attempt needs: the credentials (until
// they are read once) and the TLS config (every time). Its errors name the
// file and its place in the discovery config.
func (s *Security) prepare() (*tls.Config, error) {
	if s.d.Auth != nil && s.creds.Load() == nil {
		c, err := ReadCredentials(s.d)
		if err != nil {
			return nil, err
		}
		s.creds.Store(c)
		s.once.Do(func() { close(s.credsRead) })
	}
	if s.d.TLS == nil {
		return nil, nil
	}
	return TLSConfig(s.d, s.now())
}

// Explain adds what a refusal by ZooKeeper means to err.
func (s *Security) Explain(err error) error {
	if !errors.Is(err, zk.ErrNoAuth) {
		return err
	}
	if s.d.Auth == nil {
		return fmt.Errorf("%w: the znode's ACL asks for credentials and this discovery config has none (%s)", err, s.d.At("auth").Diag(model.Error, "not set").String())
	}
	who := "the credentials"
	if c := s.creds.Load(); c != nil {
		who = c.String()
	}
	return fmt.Errorf("%w: the znode's ACL does not grant it to %s of %s (a wrong password, or an ACL without this user?)", err, who, s.d.Auth.CredentialsFile)
}

// setupError is a connection attempt that failed on our side or in TLS:
// a file, a certificate (diag locates the key that names it), a handshake.
type setupError struct {
	err  error
	diag *model.Diagnostic
}

func (e setupError) Error() string { return e.err.Error() }
func (e setupError) Unwrap() error { return e.err }

// fileError is a located error about a file of discovery's config.
func fileError(d model.Discovery, key, file, format string, args ...any) error {
	diag := d.At(key).Diag(model.Error, file+": "+fmt.Sprintf(format, args...))
	return setupError{err: errors.New(diag.String()), diag: &diag}
}

// CheckFiles checks the files discovery config d names, as `lighthouse
// validate` does: the credentials file (there, readable by its owner
// only, one line user:password), the CA file (certificates, none expired
// at now), and the client certificate and key (a pair, valid at now; a
// warning when it expires within a week). The password is never shown.
func CheckFiles(d model.Discovery, now time.Time) model.Diagnostics {
	var ds model.Diagnostics
	add := func(err error) {
		var se setupError
		if errors.As(err, &se) && se.diag != nil {
			ds = append(ds, *se.diag)
		} else if err != nil {
			ds = append(ds, d.Pos.Diag(model.Error, err.Error()))
		}
	}
	if d.Auth != nil {
		_, err := ReadCredentials(d)
		add(err)
	}
	if t := d.TLS; t != nil {
		_, err := TLSConfig(d, now)
		add(err)
		if err == nil {
			if err := CheckCAFile(d, now); err != nil {
				add(fileError(d, "tls.ca_file", t.CAFile, "%v", err))
			}
			if t.CertFile != "" {
				b, _ := readBounded(t.CertFile)
				if certs, err := parseCerts(b); err == nil && certs[0].NotAfter.Sub(now) < 7*24*time.Hour {
					ds = append(ds, d.At("tls.cert_file").Diag(model.Warning, fmt.Sprintf("%s: the certificate expires at %s, in less than a week", t.CertFile, certs[0].NotAfter.UTC().Format(time.RFC3339))))
				}
			}
		}
	}
	return ds
}

// MaxCredentialsFile bounds the credentials file.
const MaxCredentialsFile = 4 << 10

// ReadCredentials reads discovery's credentials file: one line
// "user:password", readable by its owner only. Errors name the file and the
// line of the discovery config that names it, never the content.
func ReadCredentials(d model.Discovery) (*credentials, error) {
	file := d.Auth.CredentialsFile
	fail := func(format string, args ...any) error {
		return fileError(d, "auth.credentials_file", file, format, args...)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fail("%v", unwrapPath(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fail("%v", unwrapPath(err))
	}
	if !st.Mode().IsRegular() {
		return nil, fail("not a regular file")
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fail("readable by group or others (mode %#o); make it 0600 or 0400", perm)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxCredentialsFile+1))
	if err != nil {
		return nil, fail("%v", unwrapPath(err))
	}
	if len(b) > MaxCredentialsFile {
		return nil, fail("larger than %d bytes; it must hold one line user:password", MaxCredentialsFile)
	}
	line := strings.TrimRight(string(b), "\r\n")
	user, password, ok := strings.Cut(line, ":")
	switch {
	case strings.ContainsAny(line, "\r\n"):
		return nil, fail("must hold one line user:password, it has several")
	case !ok || user == "" || password == "":
		return nil, fail("must hold one line user:password")
	case strings.ContainsFunc(line, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return nil, fail("must not hold control characters")
	}
	return &credentials{user: user, password: password}, nil
}

// unwrapPath drops the path from an *os.PathError: the caller names the file.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// TLSConfig reads discovery's TLS files into a client config that verifies
// the server's certificate against ca_file and, with cert_file and
// key_file, presents the client's. A client certificate that has expired
// at now (or is not valid yet) is an error naming its file.
func TLSConfig(d model.Discovery, now time.Time) (*tls.Config, error) {
	t := d.TLS
	fail := func(key, file string, format string, args ...any) error {
		return fileError(d, "tls."+key, file, format, args...)
	}
	pemCA, err := readBounded(t.CAFile)
	if err != nil {
		return nil, fail("ca_file", t.CAFile, "%v", err)
	}
	pool := x509.NewCertPool()
	cas, err := parseCerts(pemCA)
	if err != nil {
		return nil, fail("ca_file", t.CAFile, "%v", err)
	}
	for _, c := range cas {
		pool.AddCert(c)
	}
	cfg := &tls.Config{RootCAs: pool, ServerName: t.ServerName, MinVersion: tls.VersionTLS12}
	if t.CertFile != "" {
		certPEM, err := readBounded(t.CertFile)
		if err != nil {
			return nil, fail("cert_file", t.CertFile, "%v", err)
		}
		keyPEM, err := readBounded(t.KeyFile)
		if err != nil {
			return nil, fail("key_file", t.KeyFile, "%v", err)
		}
		certs, err := parseCerts(certPEM)
		if err != nil {
			return nil, fail("cert_file", t.CertFile, "%v", err)
		}
		if msg := validity(certs[0], now); msg != "" {
			return nil, fail("cert_file", t.CertFile, "%s", msg)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fail("key_file", t.KeyFile, "does not match cert_file %s or is not a PEM private key: %v", t.CertFile, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// CheckCAFile reports the certificates of ca_file that have expired at now
// (TLSConfig accepts them: the server's chain decides).
func CheckCAFile(d model.Discovery, now time.Time) error {
	b, err := readBounded(d.TLS.CAFile)
	if err != nil {
		return err
	}
	certs, err := parseCerts(b)
	if err != nil {
		return err
	}
	for _, c := range certs {
		if msg := validity(c, now); msg != "" {
			return fmt.Errorf("certificate %q: %s", c.Subject.String(), msg)
		}
	}
	return nil
}

func validity(c *x509.Certificate, now time.Time) string {
	switch {
	case now.After(c.NotAfter):
		return fmt.Sprintf("the certificate %q expired at %s", c.Subject.String(), c.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(c.NotBefore):
		return fmt.Sprintf("the certificate %q is not valid before %s", c.Subject.String(), c.NotBefore.UTC().Format(time.RFC3339))
	}
	return ""
}

// maxPEMFile bounds a CA, certificate or key file.
const maxPEMFile = 1 << 20

func readBounded(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPEMFile+1))
	if err != nil {
		return nil, unwrapPath(err)
	}
	if len(b) > maxPEMFile {
		return nil, fmt.Errorf("larger than %d bytes", maxPEMFile)
	}
	return b, nil
}

// parseCerts reads every CERTIFICATE block of a PEM file; at least one.
func parseCerts(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("a certificate does not parse: %v", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate in it")
	}
	return out, nil
}

// handshakeTLS runs the TLS handshake on c within deadline. Its errors name
// the server and the CA file.
func (s *Security) handshakeTLS(c net.Conn, cfg *tls.Config, address string, deadline time.Time) (net.Conn, error) {
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			host = address
		}
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	tc := tls.Client(c, cfg)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, setupError{err: fmt.Errorf("TLS handshake with ZooKeeper %s (server name %q, %s): %w", address, cfg.ServerName, s.tlsFiles(), err)}
	}
	return tc, nil
}

func (s *Security) tlsFiles() string {
	t := s.d.TLS
	if t.CertFile == "" {
		return "ca_file " + t.CAFile
	}
	return "ca_file " + t.CAFile + ", cert_file " + t.CertFile
}
