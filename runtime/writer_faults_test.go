package runtime_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	lzk "lighthouse/effects/zk"
	"lighthouse/internal/testenv"
	"lighthouse/model"
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

	// stillServe checks, five times over half a second, that app1 and app2
	// are in HAProxy and ready, and that every request is answered by one
	// of them; both must have answered by the end. Which of the two a
	// single round of requests reaches is HAProxy's balancing, not the
	// writer's: a server that comes back from maint may be handed a run of
	// requests in a row.
	stillServe := func(what string) {
		t.Helper()
		all := map[string]int{}
		for range 5 {
			rows, err := e.local.Socket.ShowServersState(context.Background(), "web")
			if err != nil {
				t.Fatalf("%s: show servers state: %v", what, err)
			}
			state := map[string]model.ServerState{}
			for _, r := range rows {
				state[r.Name] = r.State
			}
			for _, b := range []*backend{b1, b2} {
				if st, ok := state[b.znode()]; !ok || st != model.ServerReady {
					t.Fatalf("%s: %s in HAProxy %v, state %q; want it there and ready (web: %v)", what, b.znode(), ok, st, state)
				}
			}
			for name, n := range seen(e.webPort, 6) {
				if name != "app1" && name != "app2" {
					t.Fatalf("%s: %d requests answered by %q, want app1 or app2", what, n, name)
				}
				all[name] += n
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !sameSet(all, "app1", "app2") {
			t.Fatalf("%s: requests reached %v, want app1 and app2", what, all)
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

// When the ZooKeeper leader hangs (SIGSTOP: it still accepts TCP), the
// reporters' sessions and the writer's move to the other servers once those
// have elected another leader, and every server stays in HAProxy
// throughout. (go-zookeeper alone waited 10 × 2/3 of the session timeout
// in the hung server's handshake: the reporters' sessions expired, their
// znodes went, and HAProxy lost the servers.) One HAProxy release: the
// fault is ZooKeeper's.
func TestWriterKeepsServersWhenTheLeaderHangs(t *testing.T) {
	const sessionTimeout = 4 * time.Second
	r := testenv.HAProxyReleases(t)[0]
	ens := testenv.StartEnsemble(t)
	e := startWriter(t, r)
	writeFile(t, filepath.Join(e.dir, "config/discovery/zookeeper.yaml"),
		fmt.Sprintf("hosts: [%s]\npath: /lighthouse/services\nsession_timeout: %d\n", quoted(ens.Hosts()), int(sessionTimeout.Seconds())))
	b1 := startBackend(t, "app1", "127.0.0.11")
	b2 := startBackend(t, "app2", "127.0.0.12")
	reg, err := lzk.Connect(ens.Hosts(), sessionTimeout, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	testenv.WaitFor(t, 10*time.Second, "the reporter's session", func() bool { return reg.Session() != 0 })
	var sid int64
	for _, b := range []*backend{b1, b2} {
		if sid, err = reg.Register(context.Background(), "/lighthouse/services/web/"+b.znode(), b.data()); err != nil {
			t.Fatal(err)
		}
	}
	testenv.WaitFor(t, 20*time.Second, "app1 and app2 serve", func() bool { return sameSet(seen(e.webPort, 6), "app1", "app2") })

	leader := ens.Servers[ens.Leader()]
	start := time.Now()
	leader.Pause()
	defer leader.Resume()
	var back time.Duration // when the reporter had its session again
	dropped := false       // the reporter has lost its connection
	// Long enough for an election (over 13 s once on a loaded machine).
	for time.Since(start) < 6*sessionTimeout {
		if got := seen(e.webPort, 4); !sameSet(got, "app1", "app2") {
			t.Fatalf("%v after the leader hung, requests reached %v, want app1 and app2", time.Since(start).Round(10*time.Millisecond), got)
		}
		s := reg.Session()
		dropped = dropped || s == 0
		if back == 0 && dropped && s == sid {
			back = time.Since(start)
		}
		if back > 0 && time.Since(start) > back+time.Second {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if back == 0 {
		t.Fatalf("the reporter's session %#x was not back within %v (now %#x)", sid, 6*sessionTimeout, reg.Session())
	}
	t.Logf("the leader hung: the reporter's session back after about %v; app1 and app2 served throughout", back.Round(10*time.Millisecond))
}

func quoted(hosts []string) string {
	q := make([]string, len(hosts))
	for i, h := range hosts {
		q[i] = fmt.Sprintf("%q", h)
	}
	return strings.Join(q, ", ")
}
