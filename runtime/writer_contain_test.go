package runtime_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lighthouse/internal/testenv"
)

// A cluster file whose lines haproxy -c rejects (`balance nonsense`) stops
// neither joins nor leaves of another cluster: they reach HAProxy through
// the runtime API, with no reload, and the last good config stays on disk.
// The rejection is logged at the file and line that caused it.
// Before, every later join waited for a reload that never came.
func TestWriterRejectedCandidateKeepsMembership(t *testing.T) {
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		e := startWriter(t, r)
		b1 := startBackend(t, "app1", "127.0.0.11")
		b2 := startBackend(t, "app2", "127.0.0.12")
		e.register(e.conn, "web", b1)
		testenv.WaitFor(t, 20*time.Second, "app1 serves", func() bool { return sameSet(seen(e.webPort, 3), "app1") })
		start := e.proc()
		e.checkRelease(start)

		writeFile(t, filepath.Join(e.dir, "config/clusters/aaa.yaml"),
			fmt.Sprintf("discovery: zookeeper\nhaproxy:\n  port: %d\n  backend: [\"balance nonsense\"]\n", testenv.FreePort(t)))
		testenv.WaitFor(t, 10*time.Second, "the candidate is rejected", func() bool {
			return strings.Contains(e.logs.String(), "haproxy -c rejected")
		})
		if !strings.Contains(e.logs.String(), "clusters/aaa.yaml:4: haproxy.backend[0]") {
			t.Error("the rejection is not logged at the line of aaa.yaml that caused it")
		}
		good, err := os.ReadFile(e.local.Process.ConfigFile)
		if err != nil {
			t.Fatal(err)
		}

		e.register(e.conn, "web", b2)
		testenv.WaitFor(t, 10*time.Second, "app2 joins while the candidate is rejected", func() bool { return sameSet(seen(e.webPort, 6), "app1", "app2") })
		e.deregister(e.conn, "web", b1)
		testenv.WaitFor(t, 10*time.Second, "app1 leaves while the candidate is rejected", func() bool { return sameSet(seen(e.webPort, 6), "app2") })

		if p := e.proc(); p.Master.Reloads != start.Master.Reloads || p.Workers[0].PID != start.Workers[0].PID {
			t.Fatalf("HAProxy reloaded: before %+v, after %+v", start, p)
		}
		now, err := os.ReadFile(e.local.Process.ConfigFile)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(now), "nonsense") || !strings.Contains(string(good), "backend web") {
			t.Fatalf("the config file is not the last good one:\n%s", now)
		}
	})
}
