package runtime_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"lighthouse/internal/testenv"
)

// badEntries puts the unreadable entries of issue #13 into sub: a symlink
// to /dev/zero (once read until the writer ran out of memory), a symlink
// loop, a FIFO (once blocked the read for good) and a directory named like
// a config file.
func badEntries(t *testing.T, sub string) {
	t.Helper()
	for _, err := range []error{
		os.Symlink("/dev/zero", filepath.Join(sub, "zero.yaml")),
		os.Symlink("loop.yaml", filepath.Join(sub, "loop.yaml")),
		syscall.Mkfifo(filepath.Join(sub, "fifo.yaml"), 0o644),
		os.Mkdir(filepath.Join(sub, "dir.yaml"), 0o755),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Unreadable entries in clusters/ are errors of their own: the writer
// goes on following the config directory (a new cluster serves).
func TestWriterReadsPastUnreadableFiles(t *testing.T) {
	rs := testenv.HAProxyReleases(t)
	e := startWriter(t, rs[len(rs)-1]) // the newest: the behaviour is the reader's, not HAProxy's
	b1 := startBackend(t, "app1", "127.0.0.11")
	e.register(e.conn, "web", b1)
	testenv.WaitFor(t, 20*time.Second, "app1 serves through web", func() bool { return sameSet(seen(e.webPort, 2), "app1") })

	badEntries(t, filepath.Join(e.dir, "config/clusters"))
	testenv.WaitFor(t, 5*time.Second, "located errors in the log", func() bool {
		logs := e.logs.String()
		return strings.Contains(logs, "clusters/zero.yaml: cannot read: a character device, not a regular file") &&
			strings.Contains(logs, "clusters/loop.yaml: cannot read: too many levels of symbolic links") &&
			strings.Contains(logs, "clusters/fifo.yaml: cannot read: a named pipe (FIFO), not a regular file") &&
			strings.Contains(logs, "clusters/dir.yaml: cannot read: a directory, not a regular file")
	})
	apiPort := testenv.FreePort(t)
	writeFile(t, filepath.Join(e.dir, "config/clusters/api.yaml"), fmt.Sprintf("discovery: zookeeper\nhaproxy:\n  port: %d\n", apiPort))
	e.register(e.conn, "api", b1)
	testenv.WaitFor(t, 10*time.Second, "the new cluster api serves", func() bool { return sameSet(seen(apiPort, 2), "app1") })
	if !sameSet(seen(e.webPort, 2), "app1") {
		t.Error("web stopped serving")
	}
	if strings.Contains(e.logs.String(), "reading the config directory") {
		t.Error("an unreadable file failed the whole read")
	}
}

// The same for the reporter: a service file that turns into a dangling
// symlink keeps its registration (its last good version), and a new
// service beside the unreadable entries is registered.
func TestReporterReadsPastUnreadableFiles(t *testing.T) {
	rig := newRig(t)
	a, b := newHealthServer(t), newHealthServer(t)
	service := func(port int) string {
		return fmt.Sprintf("ports: [%d]\ndiscovery: zookeeper\nchecks:\n  interval: 100ms\n  http: {uri: /health, rise: 1, fall: 1}\n", port)
	}
	rig.write("services/api.yaml", service(a.port))
	rig.start()
	pa := rig.znode("api", a.port)
	rig.waitPresent(pa)

	sub := filepath.Join(rig.dir, "services")
	badEntries(t, sub)
	if err := os.Remove(filepath.Join(sub, "api.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("gone.yaml", filepath.Join(sub, "api.yaml")); err != nil {
		t.Fatal(err)
	}
	rig.write("services/other.yaml", service(b.port))
	rig.waitPresent(rig.znode("other", b.port))
	if _, _, ok := rig.get(pa); !ok {
		t.Error("api, now a dangling symlink, was deregistered: its last good version should stay in force")
	}
}
