package runtime_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"lighthouse/internal/testenv"
	"lighthouse/model"
)

// actionCounts counts the writer's plan steps by kind, as its metrics see
// them.
type actionCounts struct {
	mu   sync.Mutex
	done map[string]int
}

func (a *actionCounts) Action(kind string, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ok {
		a.done[kind]++
	}
}

func (a *actionCounts) get(kind string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.done[kind]
}

func (a *actionCounts) ConfigLoadErrors(int)      {}
func (a *actionCounts) Cluster(string, bool, int) {}
func (a *actionCounts) ClusterGone(string)        {}
func (a *actionCounts) Reload(string)             {}
func (a *actionCounts) Converged(time.Duration)   {}
func (a *actionCounts) HAProxyUp(bool)            {}

// A writer that starts with no HAProxy running and many nodes registered
// starts HAProxy once, with every node in its config: no server is added
// at runtime after the start and nothing is reloaded.
func TestWriterColdStart(t *testing.T) {
	r := testenv.HAProxyReleases(t)[0] // the start is the writer's, not the release's
	const clusters, nodes = 20, 25
	e := newWriterEnv(t, r, 200*time.Millisecond)
	counts := &actionCounts{done: map[string]int{}}
	e.metrics = counts
	for c := range clusters {
		name := fmt.Sprintf("c%02d", c)
		writeFile(t, filepath.Join(e.dir, "config/clusters", name+".yaml"), fmt.Sprintf("discovery: zookeeper\nhaproxy:\n  port: %d\n", testenv.FreePort(t)))
		for _, p := range []string{"/lighthouse", "/lighthouse/services", "/lighthouse/services/" + name} {
			e.conn.Create(p, nil, 0, zk.WorldACL(zk.PermAll))
		}
		for n := range nodes {
			host := fmt.Sprintf("n%02d.test", n)
			data := model.Node{Host: host, IP: fmt.Sprintf("10.1.%d.%d", c, n+1), Port: 8000}.Encode()
			if _, err := e.conn.Create(fmt.Sprintf("/lighthouse/services/%s/%s:8000", name, host), data, 0, zk.WorldACL(zk.PermAll)); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Now()
	e.run()
	t.Cleanup(e.stop)
	testenv.WaitFor(t, 20*time.Second, "HAProxy running", func() bool {
		_, ok := e.local.Process.Running(context.Background())
		return ok
	})
	running := time.Since(start)
	// Let the writer settle: anything it would add or reload comes now.
	time.Sleep(time.Second)
	total := 0
	for c := range clusters {
		states, err := e.local.Socket.ShowServersState(context.Background(), fmt.Sprintf("c%02d", c))
		if err != nil {
			t.Fatal(err)
		}
		total += len(states)
	}
	t.Logf("HAProxy running %v after the writer started, serving %d servers", running.Round(time.Millisecond), total)
	if total != clusters*nodes {
		t.Errorf("HAProxy has %d servers, want %d", total, clusters*nodes)
	}
	if n := counts.get("start"); n != 1 {
		t.Errorf("%d starts, want 1", n)
	}
	for _, kind := range []string{"reload", "add_server"} {
		if n := counts.get(kind); n != 0 {
			t.Errorf("%d %s steps after a cold start, want 0", n, kind)
		}
	}
}
