package runtime_test

import (
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"lighthouse/internal/testenv"
	"lighthouse/model"
)

// A second znode that names a running server (its host and port) with
// another address, lower in sort order and dead, does not move the server:
// the running address stays and every request still succeeds. Before, the
// lower address won.
func TestWriterDuplicateServerKeepsRunningAddress(t *testing.T) {
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		e := startWriter(t, r)
		b1 := startBackend(t, "app1", "127.0.0.11")
		e.register(e.conn, "web", b1)
		testenv.WaitFor(t, 20*time.Second, "app1 serves", func() bool { return sameSet(seen(e.webPort, 3), "app1") })

		host := b1.name + ".test"
		dead := model.Node{Host: host, IP: "127.0.0.2", Port: b1.port, Peer: &model.Peer{Name: host, IP: "127.0.0.2", Port: model.DefaultPeerPort}, Metadata: map[string]any{}}
		if _, err := e.conn.Create("/lighthouse/services/web/duplicate", dead.Encode(), zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
		testenv.WaitFor(t, 10*time.Second, "the duplicate is reported", func() bool {
			return strings.Contains(e.logs.String(), "is listed with 2 addresses")
		})
		time.Sleep(500 * time.Millisecond)
		if got := seen(e.webPort, 10); !sameSet(got, "app1") || got["app1"] != 10 {
			t.Fatalf("with a duplicate of app1 at a dead address, web answers %v", got)
		}
	})
}
