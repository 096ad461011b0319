package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lighthouse/internal/testenv"
)

// validate checks the files discovery's auth and tls name: each problem is
// located at the key that names the file, and the password never shows.
func TestValidateSecurityFiles(t *testing.T) {
	secrets := t.TempDir()
	const password = "validate-pw-9d2e"
	good := filepath.Join(secrets, "zk.secret")
	os.WriteFile(good, []byte("reporter:"+password+"\n"), 0o600)
	open := filepath.Join(secrets, "open.secret")
	os.WriteFile(open, []byte("reporter:"+password+"\n"), 0o644)
	os.Chmod(open, 0o644)
	ca := testenv.NewCA(t, secrets, "ca")
	now := time.Now()
	cert, key := ca.Issue(t, "client", now.Add(-time.Hour), now.Add(30*24*time.Hour))
	old, oldKey := ca.Issue(t, "old", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	soon, soonKey := ca.Issue(t, "soon", now.Add(-time.Hour), now.Add(24*time.Hour))
	auth := func(file string) string {
		return fmt.Sprintf("auth:\n  scheme: digest\n  credentials_file: %s\n", file)
	}
	tls := func(ca, cert, key string) string {
		return fmt.Sprintf("tls:\n  ca_file: %s\n  cert_file: %s\n  key_file: %s\n", ca, cert, key)
	}
	for _, tc := range []struct {
		name, zk string
		code     int
		want     string
	}{
		{"good", goodZK + auth(good) + tls(ca.CertFile, cert, key), exitOK, ""},
		{"open credentials", goodZK + auth(open), exitError, "discovery/zookeeper.yaml:5: auth.credentials_file: " + open + ": readable by group or others (mode 0644); make it 0600 or 0400\n"},
		{"missing credentials", goodZK + auth(secrets+"/nope"), exitError, "discovery/zookeeper.yaml:5: auth.credentials_file: " + secrets + "/nope: no such file or directory\n"},
		{"expired certificate", goodZK + tls(ca.CertFile, old, oldKey), exitError, "discovery/zookeeper.yaml:5: tls.cert_file: " + old + ": the certificate \"CN=old\" expired at "},
		{"expiring certificate", goodZK + tls(ca.CertFile, soon, soonKey), exitOK, "discovery/zookeeper.yaml:5: warning: tls.cert_file: " + soon + ": the certificate expires at "},
		{"not a CA", goodZK + tls(key, cert, key), exitError, "discovery/zookeeper.yaml:4: tls.ca_file: " + key + ": no PEM certificate in it\n"},
		{"unknown perms", goodZK + auth(good) + "acl: [{scheme: world, perms: rwx}]\n", exitError, "discovery/zookeeper.yaml:6: acl[0].perms: must be letters among r w c d a"},
	} {
		dir := writeDir(t, base(map[string]string{"discovery/zookeeper.yaml": tc.zk}))
		code, stdout, stderr := runCLI(t, "validate", "--config-dir", dir)
		if code != tc.code || !strings.Contains(stdout, tc.want) || tc.want == "" && stdout != "" {
			t.Errorf("%s: code %d, stdout %q; want %d, %q", tc.name, code, stdout, tc.code, tc.want)
		}
		if strings.Contains(stdout+stderr, password) {
			t.Errorf("%s: the password shows: %s%s", tc.name, stdout, stderr)
		}
	}
}

// plan and render never read the credentials: a discovery config whose
// credentials file is missing renders, plans offline, and plans live
// (reading as a client without credentials, which the default ACL lets
// read).
func TestPlanRenderNeedNoSecret(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	dir := planDir(t, z.Addr)
	os.WriteFile(filepath.Join(dir, "discovery/zookeeper.yaml"), []byte(fmt.Sprintf("hosts: [%q]\npath: /lh\nauth: {scheme: digest, credentials_file: /nonexistent/zk.secret}\n", z.Addr)), 0o644)
	m := writeDir(t, map[string]string{"m.json": `{"cache": [{"host": "c1.example", "ip": "10.0.0.1", "port": 6379}]}`})
	if code, _, stderr := runCLI(t, "render", "--config-dir", dir, "--membership", filepath.Join(m, "m.json"), "--haproxy-version", "2.6.12"); code != 0 {
		t.Errorf("render: %d %s", code, stderr)
	}
	code, out, stderr := runCLI(t, "plan", "--config-dir", dir, "--haproxy-version", "2.6.12")
	if code != 0 || !strings.Contains(out, "^ start") {
		t.Errorf("plan --live: %d %s %s", code, out, stderr)
	}
}
