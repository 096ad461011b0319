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

// A config file that cannot be written (here: its candidate's path is taken
// by a directory, as a full disk would refuse it) freezes nothing: joins go
// on through the runtime API, the failure is logged once and tried again
// with a backoff instead of in a tight loop, and once the file can be
// written again the structural change waiting for it is applied.
func TestWriterUnwritableConfigFile(t *testing.T) {
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		e := startWriter(t, r)
		b1 := startBackend(t, "app1", "127.0.0.11")
		b2 := startBackend(t, "app2", "127.0.0.12")
		b3 := startBackend(t, "app3", "127.0.0.13")
		e.register(e.conn, "web", b1)
		testenv.WaitFor(t, 20*time.Second, "app1 serves", func() bool { return sameSet(seen(e.webPort, 3), "app1") })
		testenv.WaitFor(t, 10*time.Second, "the config file holds app1", func() bool {
			file, _ := os.ReadFile(e.local.Process.ConfigFile)
			return strings.Contains(string(file), b1.znode())
		})
		time.Sleep(300 * time.Millisecond) // no validation in flight
		start := e.proc()

		blocker := e.local.Process.ConfigFile + ".candidate"
		os.Remove(blocker) // a candidate left by a validation
		if err := os.MkdirAll(filepath.Join(blocker, "x"), 0o755); err != nil {
			t.Fatal(err)
		}
		e.register(e.conn, "web", b2)
		testenv.WaitFor(t, 3*time.Second, "app2 joins while the file cannot be written", func() bool { return sameSet(seen(e.webPort, 6), "app1", "app2") })

		apiPort := testenv.FreePort(t)
		writeFile(t, filepath.Join(e.dir, "config/clusters/api.yaml"), fmt.Sprintf("discovery: zookeeper\nhaproxy:\n  port: %d\n", apiPort))
		e.register(e.conn, "api", b1)
		time.Sleep(500 * time.Millisecond)
		e.register(e.conn, "web", b3)
		testenv.WaitFor(t, 3*time.Second, "app3 joins while a new cluster waits for the file", func() bool {
			return sameSet(seen(e.webPort, 9), "app1", "app2", "app3")
		})
		if p := e.proc(); p.Master.Reloads != start.Master.Reloads {
			t.Fatalf("HAProxy reloaded although the file could not be written")
		}
		plans := strings.Count(e.logs.String(), "carrying out plan")
		time.Sleep(2 * time.Second)
		if n := strings.Count(e.logs.String(), "carrying out plan") - plans; n > 10 {
			t.Errorf("%d plans in 2 s while the file cannot be written: no backoff", n)
		}
		if n := strings.Count(e.logs.String(), "the config file cannot be written; the last good one stays"); n != 1 {
			t.Errorf("the write failure was logged %d times at error level, want once", n)
		}

		if err := os.RemoveAll(blocker); err != nil {
			t.Fatal(err)
		}
		testenv.WaitFor(t, 40*time.Second, "api serves once the file can be written", func() bool { return sameSet(seen(apiPort, 2), "app1") })
		if !strings.Contains(e.logs.String(), "the config file is written again") {
			t.Error("the recovery is not logged")
		}
	})
}
