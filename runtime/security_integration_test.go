package runtime_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"lighthouse/internal/testenv"
	"lighthouse/runtime"
)

// The passwords of these tests. Every log line and error the tests see is
// searched for them (guardSecrets).
const (
	reporterPassword = "rep-pw-7f3a9c"
	writerPassword   = "wri-pw-51be0d"
	wrongPassword    = "bad-pw-c0ffee"
)

var secrets = []string{reporterPassword, writerPassword, wrongPassword}

// guardSecrets fails the test, when it ends, if any of the logs or errors
// collected holds a password.
func guardSecrets(t *testing.T, logs ...*testenv.Buffer) *[]error {
	errs := new([]error)
	t.Cleanup(func() {
		var texts []string
		for _, l := range logs {
			texts = append(texts, l.String())
		}
		for _, err := range *errs {
			if err != nil {
				texts = append(texts, err.Error())
			}
		}
		for i, text := range texts {
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Errorf("a password shows in log or error %d:\n%s", i, text)
				}
			}
		}
	})
	return errs
}

// secretFile writes "user:password" to a file only its owner can read.
func secretFile(t *testing.T, dir, name, creds string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(creds+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// authYAML is the auth key for a credentials file.
func authYAML(file string) string {
	return fmt.Sprintf("auth:\n  scheme: digest\n  credentials_file: %q\n", file)
}

// digestID is the digest ACL id of user and password.
func digestID(user, password string) string {
	return gozk.DigestACL(gozk.PermRead, user, password)[0].ID
}

// authConn is a client of z authenticated as user:password.
func authConn(t *testing.T, z *testenv.ZooKeeper, user, password string) *gozk.Conn {
	t.Helper()
	c := z.Conn(t)
	if err := c.AddAuth("digest", []byte(user+":"+password)); err != nil {
		t.Fatal(err)
	}
	return c
}

// webService is a service checked over HTTP, registered after one pass.
func webService(port int) string {
	return fmt.Sprintf("port: %d\ndiscovery: zookeeper\nchecks:\n  interval: 100ms\n  http: {uri: /health, rise: 1, fall: 1}\n", port)
}

// ownACL is what the ACL entry auth becomes for the reporter of these
// tests: its digest identity and, with a client certificate, its x509 one
// (ZooKeeper authenticates a TLS client by its certificate's subject).
func ownACL(z *testenv.ZooKeeper) []gozk.ACL {
	own := []gozk.ACL{{Perms: gozk.PermAll, Scheme: "digest", ID: digestID("reporter", reporterPassword)}}
	if z.TLS != nil && z.TLS.ClientAuth != "none" {
		own = append(own, gozk.ACL{Perms: gozk.PermAll, Scheme: "x509", ID: "CN=lighthouse"})
	}
	return own
}

func wantACL(t *testing.T, c *gozk.Conn, p string, want []gozk.ACL) {
	t.Helper()
	got, _, err := c.GetACL(p)
	if err != nil {
		t.Fatalf("getAcl %s: %v", p, err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("ACL of %s: %+v, want %+v", p, got, want)
	}
}

// A reporter with credentials registers under the default ACL (its own
// identity all, everyone read), parents included. A client without
// credentials reads the znode but can neither delete nor overwrite it, nor
// create a znode under the cluster. With an ACL of digest readers, a
// client without credentials cannot even read, and the reader can.
func TestSecureRegistration(t *testing.T) {
	for _, tc := range []struct {
		name     string
		acl      string
		anonRead bool
	}{
		{"default acl", "", true},
		{"digest readers", fmt.Sprintf("acl:\n  - {scheme: auth, perms: rwcda}\n  - {scheme: digest, id: %q, perms: r}\n", digestID("writer", writerPassword)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := newRig(t)
			errs := guardSecrets(t, &rig.logs)
			creds := secretFile(t, rig.dir, "zk.secret", "reporter:"+reporterPassword)
			rig.write("discovery/zookeeper.yaml", rig.zk.DiscoveryYAML(base)+authYAML(creds)+tc.acl)
			web := newHealthServer(t)
			rig.write("services/web.yaml", webService(web.port))
			rig.start()
			p := rig.znode("web", web.port)
			reader := authConn(t, rig.zk, "writer", writerPassword)
			testenv.WaitFor(t, 10*time.Second, p+" registered", func() bool {
				ok, _, err := reader.Exists(p)
				return ok && err == nil
			})

			want := append(ownACL(rig.zk), gozk.ACL{Perms: gozk.PermRead, Scheme: "world", ID: "anyone"})
			if !tc.anonRead {
				want = append(ownACL(rig.zk), gozk.ACL{Perms: gozk.PermRead, Scheme: "digest", ID: digestID("writer", writerPassword)})
			}
			// ZooKeeper shows digest ids in full to a client with
			// admin permission only (to others: "user:x").
			owner := authConn(t, rig.zk, "reporter", reporterPassword)
			for _, q := range []string{"/lighthouse", base, base + "/web", p} {
				wantACL(t, owner, q, want)
			}
			if _, _, err := reader.Get(p); err != nil {
				t.Errorf("the reader cannot read: %v", err)
			}

			anon := rig.conn // no credentials
			_, _, err := anon.Get(p)
			if tc.anonRead && err != nil {
				t.Errorf("a client without credentials cannot read: %v", err)
			}
			if !tc.anonRead && !errors.Is(err, gozk.ErrNoAuth) {
				t.Errorf("a client without credentials reads under digest readers: %v", err)
			}
			if err := anon.Delete(p, -1); !errors.Is(err, gozk.ErrNoAuth) {
				t.Errorf("delete without credentials: %v, want %v", err, gozk.ErrNoAuth)
			}
			if _, err := anon.Set(p, []byte(`{"host": "evil"}`), -1); !errors.Is(err, gozk.ErrNoAuth) {
				t.Errorf("overwrite without credentials: %v, want %v", err, gozk.ErrNoAuth)
			}
			if _, err := anon.Create(base+"/web/evil:80", []byte("{}"), gozk.FlagEphemeral, gozk.WorldACL(gozk.PermAll)); !errors.Is(err, gozk.ErrNoAuth) {
				t.Errorf("create under the cluster without credentials: %v, want %v", err, gozk.ErrNoAuth)
			}
			// The reader may read, nothing else.
			if err := reader.Delete(p, -1); !errors.Is(err, gozk.ErrNoAuth) {
				t.Errorf("delete by the reader: %v, want %v", err, gozk.ErrNoAuth)
			}
			// Deregistered on stop, with its credentials.
			rig.stop()
			testenv.WaitFor(t, 10*time.Second, p+" deregistered", func() bool {
				ok, _, err := reader.Exists(p)
				return !ok && err == nil
			})
			*errs = append(*errs, err)
		})
	}
}

// After its session expired, the reporter registers again in a new
// session, and the znode has the same ACL: go-zookeeper submitted the
// credentials again in the new session.
func TestSecureReregistrationAfterExpiry(t *testing.T) {
	rig := newRig(t)
	guardSecrets(t, &rig.logs)
	creds := secretFile(t, rig.dir, "zk.secret", "reporter:"+reporterPassword)
	rig.write("discovery/zookeeper.yaml", rig.zk.DiscoveryYAML(base)+authYAML(creds))
	web := newHealthServer(t)
	rig.write("services/web.yaml", webService(web.port))
	rig.start()
	p := rig.znode("web", web.port)
	_, st := rig.waitPresent(p)
	first := st.EphemeralOwner

	rig.zk.ExpireSession(t, first)
	testenv.WaitFor(t, 15*time.Second, p+" registered in a new session", func() bool {
		_, st, ok, err := rig.lookup(p)
		return err == nil && ok && st.EphemeralOwner != first
	})
	want := append(ownACL(rig.zk), gozk.ACL{Perms: gozk.PermRead, Scheme: "world", ID: "anyone"})
	wantACL(t, authConn(t, rig.zk, "reporter", reporterPassword), p, want)
	if err := rig.conn.Delete(p, -1); !errors.Is(err, gozk.ErrNoAuth) {
		t.Errorf("delete without credentials after the re-registration: %v, want %v", err, gozk.ErrNoAuth)
	}
	if !strings.Contains(rig.logs.String(), "re-submitting `1` credentials after reconnect") {
		t.Errorf("the client's log does not show the credentials submitted again")
	}
}

// registerAs registers b in cluster through conn, creating the parents,
// all with acl.
func registerAs(t *testing.T, conn *gozk.Conn, acl []gozk.ACL, cluster string, b *backend) {
	t.Helper()
	for _, p := range []string{"/lighthouse", "/lighthouse/services", "/lighthouse/services/" + cluster} {
		if _, err := conn.Create(p, nil, 0, acl); err != nil && err != gozk.ErrNodeExists {
			t.Fatal(err)
		}
	}
	if _, err := conn.Create("/lighthouse/services/"+cluster+"/"+b.znode(), b.data(), gozk.FlagEphemeral, acl); err != nil {
		t.Fatal(err)
	}
}

// A writer whose credentials may only read follows membership in a tree
// that clients without credentials cannot read at all.
func TestSecureWriterReadOnly(t *testing.T) {
	r := testenv.HAProxyReleases(t)[0]
	e := startWriter(t, r)
	errs := guardSecrets(t, e.logs)
	creds := secretFile(t, e.dir, "writer.secret", "writer:"+writerPassword)
	writeFile(t, filepath.Join(e.dir, "config/discovery/zookeeper.yaml"), e.zk.DiscoveryYAML("/lighthouse/services")+authYAML(creds))

	owner := authConn(t, e.zk, "reporter", reporterPassword)
	acl := append(gozk.DigestACL(gozk.PermAll, "reporter", reporterPassword), gozk.DigestACL(gozk.PermRead, "writer", writerPassword)...)
	b1 := startBackend(t, "app1", "127.0.0.11")
	b2 := startBackend(t, "app2", "127.0.0.12")
	registerAs(t, owner, acl, "web", b1)
	testenv.WaitFor(t, 20*time.Second, "app1 serves", func() bool { return sameSet(seen(e.webPort, 3), "app1") })
	registerAs(t, owner, acl, "web", b2)
	testenv.WaitFor(t, 10*time.Second, "app1 and app2 serve", func() bool { return sameSet(seen(e.webPort, 6), "app1", "app2") })
	if err := owner.Delete("/lighthouse/services/web/"+b1.znode(), -1); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, "app2 alone serves", func() bool { return sameSet(seen(e.webPort, 4), "app2") })

	// Without credentials the tree cannot be read: the writer's are used.
	_, _, err := e.conn.Children("/lighthouse/services/web")
	if !errors.Is(err, gozk.ErrNoAuth) {
		t.Errorf("a client without credentials lists the cluster: %v", err)
	}
	// And they only read.
	reader := authConn(t, e.zk, "writer", writerPassword)
	if err := reader.Delete("/lighthouse/services/web/"+b2.znode(), -1); !errors.Is(err, gozk.ErrNoAuth) {
		t.Errorf("the writer's credentials delete a registration: %v", err)
	}
	*errs = append(*errs, err)
}

// The faults of a secured setup each give one clear error naming the file
// or the server; the reporter keeps trying with backoff, and registers once
// the fault is fixed.
func TestSecureReporterFaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  bool
		// config returns the discovery config with the fault, and
		// the one without it.
		config func(t *testing.T, rig *reporterRig) (bad, good string)
		want   []string // in the error logged, once
	}{
		{name: "missing credentials file", config: func(t *testing.T, rig *reporterRig) (string, string) {
			file := filepath.Join(rig.dir, "zk.secret")
			return rig.zk.DiscoveryYAML(base) + authYAML(file), ""
		}, want: []string{"auth.credentials_file: %DIR%/zk.secret: no such file or directory"}},
		{name: "credentials readable by others", config: func(t *testing.T, rig *reporterRig) (string, string) {
			file := secretFile(t, rig.dir, "zk.secret", "reporter:"+reporterPassword)
			os.Chmod(file, 0o644)
			return rig.zk.DiscoveryYAML(base) + authYAML(file), ""
		}, want: []string{"auth.credentials_file: %DIR%/zk.secret: readable by group or others (mode 0644)"}},
		{name: "wrong CA", tls: true, config: func(t *testing.T, rig *reporterRig) (string, string) {
			other := testenv.NewCA(t, rig.dir, "other-ca")
			bad := fmt.Sprintf("hosts: [%q]\npath: %q\ntls:\n  ca_file: %q\n  cert_file: %q\n  key_file: %q\n", rig.zk.Addr, base, other.CertFile, rig.zk.TLS.CertFile, rig.zk.TLS.KeyFile)
			return bad, rig.zk.DiscoveryYAML(base)
		}, want: []string{"TLS handshake with ZooKeeper %ADDR% (server name", "ca_file %DIR%/other-ca.pem, cert_file %CERT%): tls: failed to verify certificate: x509: certificate signed by unknown authority"}},
		{name: "expired certificate", tls: true, config: func(t *testing.T, rig *reporterRig) (string, string) {
			cert, key := rig.zk.TLS.CA.Issue(t, "expired", time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
			bad := fmt.Sprintf("hosts: [%q]\npath: %q\ntls:\n  ca_file: %q\n  cert_file: %q\n  key_file: %q\n", rig.zk.Addr, base, rig.zk.TLS.CAFile, cert, key)
			return bad, rig.zk.DiscoveryYAML(base)
		}, want: []string{"tls.cert_file: %TLSDIR%/expired.pem: the certificate", "CN=expired", "expired at"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var z *testenv.ZooKeeper
			if tc.tls {
				z = testenv.StartZooKeeper(t, testenv.WithTLS("need"))
			} else {
				z = testenv.StartZooKeeper(t)
			}
			rig := &reporterRig{t: t, zk: z, conn: z.Conn(t), dir: t.TempDir(), host: runtimeHost}
			guardSecrets(t, &rig.logs)
			bad, good := tc.config(t, rig)
			rig.write("discovery/zookeeper.yaml", bad)
			web := newHealthServer(t)
			rig.write("services/web.yaml", webService(web.port))
			rig.start()

			rep := strings.NewReplacer("%DIR%", rig.dir, "%ADDR%", z.Addr)
			if z.TLS != nil {
				rep = strings.NewReplacer("%DIR%", rig.dir, "%ADDR%", z.Addr, "%CERT%", z.TLS.CertFile, "%TLSDIR%", z.TLS.CA.Dir)
			}
			testenv.WaitFor(t, 10*time.Second, "the error logged", func() bool {
				line := lineWith(rig.logs.String(), "cannot connect to ZooKeeper")
				for _, w := range tc.want {
					if !strings.Contains(line, rep.Replace(w)) {
						return false
					}
				}
				return true
			})
			// Tried again with backoff (a second between rounds), warned
			// about once.
			testenv.WaitFor(t, 10*time.Second, "three attempts", func() bool {
				return strings.Count(rig.logs.String(), "failed to connect to "+z.Addr) >= 3
			})
			if n := strings.Count(rig.logs.String(), "level=ERROR msg=\"cannot connect to ZooKeeper"); n != 1 {
				t.Errorf("the error was logged %d times, want once", n)
			}
			select {
			case err := <-rig.done:
				t.Fatalf("the reporter exited: %v", err)
			default:
			}
			if _, _, ok := rig.get(rig.znode("web", web.port)); ok {
				t.Fatal("registered despite the fault")
			}

			// Fixed: registered, without a restart.
			switch {
			case good != "":
				rig.write("discovery/zookeeper.yaml", good)
			case tc.name == "missing credentials file":
				secretFile(t, rig.dir, "zk.secret", "reporter:"+reporterPassword)
			default:
				os.Chmod(filepath.Join(rig.dir, "zk.secret"), 0o600)
			}
			rig.waitPresent(rig.znode("web", web.port))
		})
	}
}

// lineWith is the first line of text holding s, "" if none.
func lineWith(text, s string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

var runtimeHost = runtime.Identity{Name: "app01.example.com", IP: "10.0.0.11"}

// A wrong password is a refusal by ZooKeeper: the registration fails with
// an error naming the credentials file (never the password), and is tried
// again with a growing backoff.
func TestSecureReporterWrongPassword(t *testing.T) {
	rig := newRig(t)
	errs := guardSecrets(t, &rig.logs)
	// The tree belongs to the right credentials.
	owner := authConn(t, rig.zk, "reporter", reporterPassword)
	acl := append(gozk.DigestACL(gozk.PermAll, "reporter", reporterPassword), gozk.WorldACL(gozk.PermRead)...)
	for _, p := range []string{"/lighthouse", base, base + "/web"} {
		if _, err := owner.Create(p, nil, 0, acl); err != nil {
			t.Fatal(err)
		}
	}
	creds := secretFile(t, rig.dir, "zk.secret", "reporter:"+wrongPassword)
	rig.write("discovery/zookeeper.yaml", rig.zk.DiscoveryYAML(base)+authYAML(creds))
	web := newHealthServer(t)
	rig.write("services/web.yaml", webService(web.port))
	rig.start()
	want := "zk: not authenticated: the znode's ACL does not grant it to digest user reporter of " + creds
	testenv.WaitFor(t, 15*time.Second, "three failed registrations", func() bool {
		return strings.Count(rig.logs.String(), want) >= 3
	})
	for _, backoff := range []string{"retry_in=250ms", "retry_in=500ms", "retry_in=1s"} {
		if !strings.Contains(rig.logs.String(), backoff) {
			t.Errorf("no retry with %s", backoff)
		}
	}
	select {
	case err := <-rig.done:
		t.Fatalf("the reporter exited: %v", err)
	default:
	}
	*errs = append(*errs, nil)
}

// The writer keeps the last known members while it cannot connect: a
// credentials file gone missing, then back.
func TestSecureWriterKeepsMembers(t *testing.T) {
	r := testenv.HAProxyReleases(t)[0]
	e := startWriter(t, r)
	guardSecrets(t, e.logs)
	good := secretFile(t, e.dir, "writer.secret", "writer:"+writerPassword)
	writeFile(t, filepath.Join(e.dir, "config/discovery/zookeeper.yaml"), e.zk.DiscoveryYAML("/lighthouse/services")+authYAML(good))
	owner := authConn(t, e.zk, "reporter", reporterPassword)
	acl := append(gozk.DigestACL(gozk.PermAll, "reporter", reporterPassword), gozk.DigestACL(gozk.PermRead, "writer", writerPassword)...)
	b1 := startBackend(t, "app1", "127.0.0.11")
	registerAs(t, owner, acl, "web", b1)
	testenv.WaitFor(t, 20*time.Second, "app1 serves", func() bool { return sameSet(seen(e.webPort, 3), "app1") })

	missing := filepath.Join(e.dir, "moved.secret")
	writeFile(t, filepath.Join(e.dir, "config/discovery/zookeeper.yaml"), e.zk.DiscoveryYAML("/lighthouse/services")+authYAML(missing))
	want := "auth.credentials_file: " + missing + ": no such file or directory"
	testenv.WaitFor(t, 10*time.Second, "the error logged", func() bool { return strings.Contains(e.logs.String(), want) })
	testenv.WaitFor(t, 10*time.Second, "three attempts", func() bool {
		return strings.Count(e.logs.String(), "failed to connect to "+e.zk.Addr) >= 3
	})
	if !sameSet(seen(e.webPort, 3), "app1") {
		t.Fatal("the last known member stopped serving")
	}
	if n := strings.Count(e.logs.String(), "msg=\"cannot connect to ZooKeeper"); n != 1 {
		t.Errorf("the error was logged %d times, want once", n)
	}

	// Back: membership is followed again.
	secretFile(t, e.dir, "moved.secret", "writer:"+writerPassword)
	b2 := startBackend(t, "app2", "127.0.0.12")
	registerAs(t, owner, acl, "web", b2)
	testenv.WaitFor(t, 20*time.Second, "app1 and app2 serve", func() bool { return sameSet(seen(e.webPort, 6), "app1", "app2") })

	// A wrong password: connected, but refused by the ACL; logged once,
	// naming the file; the members stay.
	wrong := secretFile(t, e.dir, "wrong.secret", "writer:"+wrongPassword)
	writeFile(t, filepath.Join(e.dir, "config/discovery/zookeeper.yaml"), e.zk.DiscoveryYAML("/lighthouse/services")+authYAML(wrong))
	want = "zk: not authenticated: the znode's ACL does not grant it to digest user writer of " + wrong
	testenv.WaitFor(t, 10*time.Second, "the refusal logged", func() bool { return strings.Contains(e.logs.String(), want) })
	time.Sleep(3 * time.Second) // retried meanwhile (1 s, then 2 s)
	if !sameSet(seen(e.webPort, 6), "app1", "app2") {
		t.Fatal("the last known members stopped serving")
	}
	if n := strings.Count(e.logs.String(), "msg=\"reading cluster members refused"); n != 1 {
		t.Errorf("the refusal was logged %d times, want once", n)
	}
}
