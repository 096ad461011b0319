package runtime_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lighthouse/internal/testenv"
)

// A request in flight on a server that left its cluster holds back no
// other change: joins and leaves of another cluster go on at once, the
// removal waits as a fact of the next plans, and after drain_timeout the
// request is cut and the server deleted.
func TestWriterBusyServerBlocksNothing(t *testing.T) {
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		e := startWriter(t, r)
		bal := filepath.Join(e.dir, "config/balancers/haproxy.yaml")
		text, err := os.ReadFile(bal)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, bal, string(text)+"drain_timeout: 2\n")
		b1 := startBackend(t, "app1", "127.0.0.11")
		b2 := startBackend(t, "app2", "127.0.0.12")
		e.register(e.conn, "web", b1)

		// aaa's only server accepts requests and never answers.
		ln, err := net.Listen("tcp", "127.0.0.14:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		accepted := make(chan net.Conn, 4)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted <- c
			}
		}()
		hang := &backend{name: "hang", ip: "127.0.0.14", port: ln.Addr().(*net.TCPAddr).Port}
		aaaPort := testenv.FreePort(t)
		writeFile(t, filepath.Join(e.dir, "config/clusters/aaa.yaml"), fmt.Sprintf("discovery: zookeeper\nhaproxy:\n  port: %d\n", aaaPort))
		e.register(e.conn, "aaa", hang)
		testenv.WaitFor(t, 20*time.Second, "app1 serves", func() bool { return sameSet(seen(e.webPort, 3), "app1") })
		testenv.WaitFor(t, 10*time.Second, "aaa has its server", func() bool {
			return strings.Contains(e.serversState(t), "aaa "+hang.znode())
		})

		inflight := make(chan error, 1)
		go func() {
			c := &http.Client{Timeout: 30 * time.Second}
			resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/slow", aaaPort))
			if err == nil {
				resp.Body.Close()
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			inflight <- err
		}()
		select {
		case c := <-accepted:
			t.Cleanup(func() { c.Close() })
		case <-time.After(10 * time.Second):
			t.Fatal("the slow request never reached aaa's server")
		}

		left := time.Now()
		e.deregister(e.conn, "aaa", hang)
		e.register(e.conn, "web", b2)
		testenv.WaitFor(t, 1500*time.Millisecond, "app2 joins while aaa's server drains", func() bool { return sameSet(seen(e.webPort, 6), "app1", "app2") })
		e.deregister(e.conn, "web", b1)
		testenv.WaitFor(t, 1500*time.Millisecond, "app1 leaves while aaa's server drains", func() bool { return sameSet(seen(e.webPort, 6), "app2") })
		if !strings.Contains(e.serversState(t), "aaa "+hang.znode()) {
			t.Fatal("aaa's server was deleted with a request in flight before drain_timeout")
		}

		select {
		case err := <-inflight:
			t.Logf("the request in flight ended %v after the server left: %v", time.Since(left).Round(10*time.Millisecond), err)
			if d := time.Since(left); d < 1500*time.Millisecond {
				t.Errorf("the request in flight was cut after %v, before drain_timeout (2s)", d)
			}
		case <-time.After(8 * time.Second):
			t.Fatal("the request in flight was not cut after drain_timeout")
		}
		testenv.WaitFor(t, 5*time.Second, "aaa's server is deleted", func() bool {
			return !strings.Contains(e.serversState(t), "aaa "+hang.znode())
		})
		busy := 0
		for _, line := range strings.Split(e.logs.String(), "\n") {
			if strings.Contains(line, "server still has requests in flight") && strings.Contains(line, hang.znode()) {
				busy++
			}
		}
		if busy != 1 {
			t.Errorf("the busy server was logged %d times, want once", busy)
		}
	})
}

// serversState is the admin socket's `show servers state`, as
// "backend server" lines.
func (e *writerEnv) serversState(t *testing.T) string {
	t.Helper()
	obs, err := e.local.Observe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for be, list := range obs.Servers {
		for _, s := range list {
			b.WriteString(be + " " + s.Name + "\n")
		}
	}
	return b.String()
}
