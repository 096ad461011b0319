package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"lighthouse/effects/haproxy"
	"lighthouse/internal/testenv"
	"lighthouse/model"
)

// Between full observations the writer reads only the backends whose
// membership changed: a change made by hand on the admin socket stays
// until the next full observation, and is put right within
// observe_interval.
func TestWriterRevertsManualChangesWithinObserveInterval(t *testing.T) {
	r := testenv.HAProxyReleases(t)[0] // the writer's observation, not the release's
	e := newWriterEnv(t, r, 200*time.Millisecond)
	cfg := filepath.Join(e.dir, "config/balancers/haproxy.yaml")
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg, string(data)+"observe_interval: 1h\n")
	e.run()
	t.Cleanup(e.stop)
	b := startBackend(t, "app1", "127.0.0.11")
	e.register(e.conn, "web", b)
	testenv.WaitFor(t, 20*time.Second, "app1 serves", func() bool { return sameSet(seen(e.webPort, 2), "app1") })
	// The writer settles: the start, the observation of everything that
	// follows it, the file brought up to date.
	testenv.WaitFor(t, 10*time.Second, "the writer settled", func() bool {
		n := len(e.logs.Lines())
		time.Sleep(500 * time.Millisecond)
		return len(e.logs.Lines()) == n
	})

	state := func() model.ServerState {
		list, err := e.local.Socket.ShowServersState(context.Background(), "web")
		if err != nil || len(list) != 1 {
			return ""
		}
		return list[0].State
	}
	if err := e.local.Socket.OnServer(context.Background(), haproxy.DisableServer, "web", b.znode()); err != nil {
		t.Fatal(err)
	}
	if s := state(); s != model.ServerMaint {
		t.Fatalf("after disable server by hand: %s", s)
	}
	// An hour between full observations: the writer trusts its plans, and
	// several resyncs later the change is still there.
	time.Sleep(time.Second)
	if s := state(); s != model.ServerMaint {
		t.Fatalf("put right (%s) although the last full observation is recent: every resync observes everything", s)
	}
	writeFile(t, cfg, string(data)+"observe_interval: 1\n")
	start := time.Now()
	testenv.WaitFor(t, 5*time.Second, "the server ready again", func() bool { return state() == model.ServerReady })
	took := time.Since(start)
	t.Logf("a server disabled by hand was ready again after %v (observe_interval 1 s)", took.Round(time.Millisecond))
	// Within the interval, the config reload and one resync tick, with
	// slack for a loaded machine.
	if took > 3*time.Second {
		t.Errorf("put right after %v, want within observe_interval (1 s) and a resync", took)
	}
}
