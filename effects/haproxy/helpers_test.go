package haproxy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"lighthouse/internal/testenv"
)

// forEachRelease runs f in a parallel subtest per installed HAProxy release
// ("haproxy-3.4"; testenv.ForEachHAProxy: skipped under -short, and a
// missing release fails the test when CI is set).
func forEachRelease(t *testing.T, f func(t *testing.T, r testenv.HAProxyRelease)) {
	t.Helper()
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		t.Parallel()
		f(t, r)
	})
}

// instance is an HAProxy started by this package's Process in a short
// temporary directory.
type instance struct {
	Process
	Admin Socket
	Dir   string
}

// header is the global and defaults sections of every test config: an admin
// socket in dir, no logging (a daemon's stderr goes nowhere).
func header(dir string, globalExtra ...string) string {
	var b strings.Builder
	b.WriteString("global\n")
	for _, l := range globalExtra {
		b.WriteString("    " + l + "\n")
	}
	fmt.Fprintf(&b, "    stats socket %s/admin.sock mode 600 level admin\n", dir)
	b.WriteString("    stats timeout 30s\n\n")
	b.WriteString("defaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n\n")
	return b.String()
}

// newInstance writes header(dir)+body to dir/haproxy.cfg, "{dir}" replaced
// by dir everywhere, and returns the Process (release r's binary) and admin
// Socket for it, not started, both knowing r's version. HAProxy is
// hard-stopped when the test ends.
func newInstance(t testing.TB, r testenv.HAProxyRelease, body string, globalExtra ...string) *instance {
	t.Helper()
	dir := testenv.ShortTempDir(t)
	in := &instance{
		Process: Process{
			Binary:       r.Binary,
			Version:      r.Version,
			ConfigFile:   filepath.Join(dir, "haproxy.cfg"),
			PidFile:      filepath.Join(dir, "haproxy.pid"),
			MasterSocket: MasterSocketPath(filepath.Join(dir, "admin.sock")),
		},
		Admin: Socket{Path: filepath.Join(dir, "admin.sock"), Version: r.Version},
		Dir:   dir,
	}
	text := strings.ReplaceAll(header(dir, globalExtra...)+body, "{dir}", dir)
	if err := os.WriteFile(in.ConfigFile, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hardStop(t, in.Process) })
	return in
}

// startInstance is newInstance plus Start.
func startInstance(t testing.TB, r testenv.HAProxyRelease, body string, globalExtra ...string) *instance {
	t.Helper()
	in := newInstance(t, r, body, globalExtra...)
	start := time.Now()
	if err := in.Start(ctxT(t)); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("Start took %v", time.Since(start).Round(time.Millisecond))
	return in
}

// hardStop SIGTERMs the master (a hard stop, ~2 ms) and waits for it.
func hardStop(t testing.TB, p Process) {
	pid, ok := p.Running(context.Background())
	if !ok {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Errorf("haproxy master %d still alive 5s after SIGTERM", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ctxT is a context for one call in a test.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// backend is a tiny HTTP server that answers its name.
func backend(t testing.TB, name string) (port int) {
	t.Helper()
	return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, name)
	}))
}

func serve(t testing.TB, h http.Handler) int {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.URL, "http://"))
	n, _ := strconv.Atoi(port)
	return n
}

var client = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true},
	Timeout:   5 * time.Second,
}

// get requests / through HAProxy's frontend and returns status and body.
func get(t testing.TB, port int) (int, string) {
	t.Helper()
	resp, err := client.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/")
	if err != nil {
		t.Fatalf("GET through haproxy: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// wantBody fails unless a request through the frontend answers 200 body.
func wantBody(t testing.TB, port int, body string) {
	t.Helper()
	if code, got := get(t, port); code != 200 || got != body {
		t.Fatalf("GET through haproxy = %d %q, want 200 %q", code, got, body)
	}
}

// wantBodySoon is wantBody right after a reload: for a moment a new
// connection may still reach the old worker (it was queued on the listener
// the workers share before the old one let go of it), so the new config
// must answer within 2 s rather than on the first request.
func wantBodySoon(t testing.TB, port int, body string) {
	t.Helper()
	testenv.WaitFor(t, 2*time.Second, fmt.Sprintf("%q through haproxy", body), func() bool {
		code, got := get(t, port)
		return code == 200 && got == body
	})
}

// serverState returns the `show servers state` row of backend/server.
func serverState(t *testing.T, s Socket, backend, server string) (ServersStateRow, bool) {
	t.Helper()
	list, err := s.ShowServersState(ctxT(t), backend)
	if err != nil {
		t.Fatalf("ShowServersState: %v", err)
	}
	for _, st := range list {
		if st.Name == server {
			return st, true
		}
	}
	return ServersStateRow{}, false
}

// statRow returns the `show stat` row of proxy/name.
func statRow(t *testing.T, s Socket, proxy, name string) StatRow {
	t.Helper()
	rows, err := s.ShowStat(ctxT(t))
	if err != nil {
		t.Fatalf("ShowStat: %v", err)
	}
	for _, r := range rows {
		if r.Proxy == proxy && r.Name == name {
			return r
		}
	}
	t.Fatalf("show stat has no row %s/%s", proxy, name)
	return StatRow{}
}
