package runtime_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"lighthouse/effects/testenv"
)

// A missing cluster znode is unknown, not empty: deleting
// /lighthouse/services/web with its members (as zkCli's deleteall does, in
// one transaction) and a typo in discovery/zookeeper.yaml's path keep
// every server in HAProxy, and the writer says which znode is missing.
// A cluster znode that comes back rules again.
func TestWriterMissingClusterZnode(t *testing.T) {
	testenv.ForEachHAProxy(t, testWriterMissingClusterZnode)
}

func testWriterMissingClusterZnode(t *testing.T, r testenv.HAProxyRelease) {
	e := startWriter(t, r)
	b1 := startBackend(t, "app1", "127.0.0.11")
	b2 := startBackend(t, "app2", "127.0.0.12")
	e.register(e.conn, "web", b1)
	e.register(e.conn, "web", b2)
	testenv.WaitFor(t, 20*time.Second, "app1 and app2 serve", func() bool { return sameSet(seen(e.webPort, 6), "app1", "app2") })

	stillServe := func(what string) {
		t.Helper()
		for range 5 {
			if got := seen(e.webPort, 6); !sameSet(got, "app1", "app2") {
				t.Fatalf("%s: requests reached %v, want app1 and app2", what, got)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// Deleted with its members in one transaction.
	if _, err := e.conn.Multi(
		&zk.DeleteRequest{Path: "/lighthouse/services/web/" + b1.znode(), Version: -1},
		&zk.DeleteRequest{Path: "/lighthouse/services/web/" + b2.znode(), Version: -1},
		&zk.DeleteRequest{Path: "/lighthouse/services/web", Version: -1}); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 5*time.Second, "a warning naming the missing znode", func() bool {
		return strings.Contains(e.logs.String(), "cluster znode is missing") && strings.Contains(e.logs.String(), "znode=/lighthouse/services/web")
	})
	stillServe("web's znode deleted")

	// Back with one member: that one serves alone.
	e.register(e.conn, "web", b1)
	testenv.WaitFor(t, 10*time.Second, "only app1 serves", func() bool { return sameSet(seen(e.webPort, 6), "app1") })
	e.register(e.conn, "web", b2)
	testenv.WaitFor(t, 10*time.Second, "app1 and app2 serve again", func() bool { return sameSet(seen(e.webPort, 6), "app1", "app2") })

	// A typo in the path: the writer reconnects and finds web missing.
	writeFile(t, filepath.Join(e.dir, "config/discovery/zookeeper.yaml"), fmt.Sprintf("hosts: [%q]\npath: /lighthouse/servics\n", e.zk.Addr))
	testenv.WaitFor(t, 10*time.Second, "a warning naming the typo's znode", func() bool {
		return strings.Contains(e.logs.String(), "znode=/lighthouse/servics/web")
	})
	stillServe("a typo in the discovery path")
}
