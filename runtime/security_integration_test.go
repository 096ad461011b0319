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

	"lighthouse/effects/testenv"
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
