package zk

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"lighthouse/internal/testenv"
	"lighthouse/model"
)

func discoveryWith(t *testing.T, yaml string) model.Discovery {
	t.Helper()
	s := model.Load(nil, []model.File{{Path: "discovery/zookeeper.yaml", Data: []byte("hosts: [\"127.0.0.1:2181\"]\npath: /lh\n" + yaml)}})
	if s.Diagnostics.HasErrors() {
		t.Fatalf("discovery config: %s", s.Diagnostics)
	}
	return s.Config.Discovery["zookeeper"]
}

// The credentials file: one line user:password, owner-only; every problem
// names the file and the discovery line, never the content.
func TestReadCredentials(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "zk.secret")
	d := discoveryWith(t, "auth:\n  scheme: digest\n  credentials_file: "+file+"\n")
	const secret = "s3cr3t-Pa55"
	for _, tc := range []struct {
		name    string
		content string
		mode    os.FileMode
		want    string // substring of the error; "" for none
	}{
		{"good", "reporter:" + secret + "\n", 0o600, ""},
		{"read-only", "reporter:" + secret, 0o400, ""},
		{"group-readable", "reporter:" + secret + "\n", 0o640, "discovery/zookeeper.yaml:5: auth.credentials_file: " + file + ": readable by group or others (mode 0640)"},
		{"no colon", secret + "\n", 0o600, "must hold one line user:password"},
		{"two lines", "reporter:" + secret + "\nx:y\n", 0o600, "it has several"},
		{"missing", "", 0, "discovery/zookeeper.yaml:5: auth.credentials_file: " + file + ": no such file or directory"},
	} {
		os.Remove(file)
		if tc.mode != 0 {
			if err := os.WriteFile(file, []byte(tc.content), tc.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(file, tc.mode)
		}
		c, err := ReadCredentials(d)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want == "" && (c.user != "reporter" || c.password != secret):
			t.Errorf("%s: read %q", tc.name, c.user)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) || c != nil && strings.Contains(c.String(), secret) {
			t.Errorf("%s: the password shows: %v %v", tc.name, err, c)
		}
	}
}

// TLSConfig: an expired client certificate, a CA file without
// certificates and a key that does not match are errors naming the file.
func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	ca := testenv.NewCA(t, dir, "ca")
	now := time.Now()
	good, goodKey := ca.Issue(t, "good", now.Add(-time.Hour), now.Add(time.Hour))
	old, oldKey := ca.Issue(t, "old", now.Add(-2*time.Hour), now.Add(-time.Hour))
	empty := filepath.Join(dir, "empty.pem")
	os.WriteFile(empty, []byte("nothing\n"), 0o644)
	for _, tc := range []struct {
		name, ca, cert, key, want string
	}{
		{"good", ca.CertFile, good, goodKey, ""},
		{"server only", ca.CertFile, "", "", ""},
		{"expired", ca.CertFile, old, oldKey, "tls.cert_file: " + old + `: the certificate "CN=old" expired at`},
		{"no CA", empty, "", "", "tls.ca_file: " + empty + ": no PEM certificate in it"},
		{"key mismatch", ca.CertFile, good, oldKey, "tls.key_file: " + oldKey + ": does not match cert_file"},
		{"missing CA", filepath.Join(dir, "nope.pem"), "", "", "nope.pem: no such file or directory"},
	} {
		y := "tls:\n  ca_file: " + tc.ca + "\n"
		if tc.cert != "" {
			y += "  cert_file: " + tc.cert + "\n  key_file: " + tc.key + "\n"
		}
		_, err := TLSConfig(discoveryWith(t, y), now)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// Over TLS with a client certificate, a registry registers; a server that
// needs a client certificate refuses a client without one, and the error
// names the server.
func TestRegistryTLS(t *testing.T) {
	z := testenv.StartZooKeeper(t, testenv.WithTLS("need"))
	t.Logf("zoo.cfg:\n%s", z.ZooCfg()) // the README's snippet comes from here
	log := slog.New(slog.DiscardHandler)
	d := discoveryWith(t, z.TLS.DiscoveryYAML(true))
	d.Hosts = z.Hosts()
	r, err := ConnectDiscovery(d, log)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	testenv.WaitFor(t, 10*time.Second, "a session over TLS", func() bool { return r.Session() != 0 })
	if _, err := r.Register(context.Background(), "/lh/web/a:1", []byte("x")); err != nil {
		t.Fatal(err)
	}

	d = discoveryWith(t, z.TLS.DiscoveryYAML(false))
	d.Hosts = z.Hosts()
	_, err = NewSecurity(d).Dialer(time.Second*3, d.Hosts, nil)("tcp", z.Addr, time.Second)
	if err == nil || !strings.Contains(err.Error(), "TLS handshake with ZooKeeper "+z.Addr) {
		t.Errorf("without a client certificate: %v", err)
	}
}

// Without auth and acl the registration ACL is the original's,
// world:anyone:cdrwa: the wire format of an unsecured setup is unchanged.
func TestDefaultACLUnchanged(t *testing.T) {
	got := NewSecurity(discoveryWith(t, "")).ACL()
	if want := gozk.WorldACL(gozk.PermAll); len(got) != 1 || got[0] != want[0] {
		t.Errorf("ACL %+v, want %+v", got, want)
	}
}

// BenchmarkConnect measures what a new session costs: plain, with digest
// credentials, and over mutual TLS with credentials (connect, handshake,
// credentials submitted, close).
func BenchmarkConnect(b *testing.B) {
	plain := testenv.StartZooKeeper(b, testenv.WithTLS(""))
	secure := testenv.StartZooKeeper(b, testenv.WithTLS("need"))
	dir := b.TempDir()
	creds := filepath.Join(dir, "zk.secret")
	if err := os.WriteFile(creds, []byte("reporter:bench-pw\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	auth := "auth:\n  scheme: digest\n  credentials_file: " + creds + "\n"
	for _, bc := range []struct {
		name string
		z    *testenv.ZooKeeper
		yaml string
	}{
		{"plain", plain, ""},
		{"digest", plain, auth},
		{"tls+digest", secure, auth + secure.TLS.DiscoveryYAML(true)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := model.Load(nil, []model.File{{Path: "discovery/zookeeper.yaml", Data: []byte(fmt.Sprintf("hosts: [%q]\npath: /lh\n", bc.z.Addr) + bc.yaml)}})
			if s.Diagnostics.HasErrors() {
				b.Fatal(s.Diagnostics)
			}
			d := s.Config.Discovery["zookeeper"]
			for b.Loop() {
				r, err := ConnectDiscovery(d, slog.New(slog.DiscardHandler))
				if err != nil {
					b.Fatal(err)
				}
				for r.Session() == 0 {
					time.Sleep(100 * time.Microsecond)
				}
				r.Close()
			}
		})
	}
}
