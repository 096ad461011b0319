package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"lighthouse/effects/haproxy"
	"lighthouse/internal/testenv"
	"lighthouse/model"
)

// The writer binary, started under its original name, brings HAProxy up
// with a node from ZooKeeper, re-reads everything on SIGHUP, and on SIGTERM
// exits 0 leaving HAProxy serving; with every supported release as the
// haproxy on its PATH (the original's entry point takes no flags).
func TestWriterBinarySignals(t *testing.T) { testenv.ForEachHAProxy(t, testWriterBinarySignals) }

// asSystemd makes the processes the test starts see a $NOTIFY_SOCKET, as
// under a Type=notify unit, and returns a check of the next thing they
// tell systemd.
func asSystemd(t *testing.T, dir string) (told func(want string)) {
	notify := filepath.Join(dir, "notify")
	systemd, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notify, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { systemd.Close() })
	t.Setenv("NOTIFY_SOCKET", notify)
	return func(want string) {
		t.Helper()
		systemd.SetReadDeadline(time.Now().Add(20 * time.Second))
		buf := make([]byte, 256)
		n, err := systemd.Read(buf)
		if err != nil || string(buf[:n]) != want {
			t.Errorf("systemd was told %q (%v), want %s", buf[:n], err, want)
		}
	}
}

func testWriterBinarySignals(t *testing.T, r testenv.HAProxyRelease) {
	testenv.Require(t, "zookeeper")
	pathDir := t.TempDir()
	if err := os.Symlink(r.Binary, filepath.Join(pathDir, "haproxy")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", pathDir+string(filepath.ListSeparator)+os.Getenv("PATH"))
	bin := reporterBinary(t)
	alias := filepath.Join(filepath.Dir(bin), "lighthouse-writer")
	if _, err := os.Lstat(alias); err != nil {
		if err := os.Symlink("lighthouse", alias); err != nil {
			t.Fatal(err)
		}
	}
	z := testenv.StartZooKeeper(t)
	conn := z.Conn(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "app") }))
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	for _, p := range []string{"/lh", "/lh/web"} {
		conn.Create(p, nil, 0, gozk.WorldACL(gozk.PermAll))
	}
	node := model.Node{Host: "app.example.com", IP: "127.0.0.1", Port: port}.Encode()
	if _, err := conn.Create(fmt.Sprintf("/lh/web/app.example.com:%d", port), node, 0, gozk.WorldACL(gozk.PermAll)); err != nil {
		t.Fatal(err)
	}
	run := testenv.ShortTempDir(t)
	webPort := testenv.FreePort(t)
	dir := writeDir(t, map[string]string{
		"balancers/haproxy.yaml":   fmt.Sprintf("config_file: %s/h.cfg\nsocket_file: %s/h.sock\npid_file: %s/h.pid\nbind_address: 127.0.0.1\ndefaults: [\"mode http\", \"timeout connect 1s\", \"timeout client 5s\", \"timeout server 5s\"]\n", run, run, run),
		"discovery/zookeeper.yaml": fmt.Sprintf("hosts: [%q]\npath: /lh\n", z.Addr),
		"clusters/web.yaml":        fmt.Sprintf("discovery: zookeeper\nhaproxy:\n  port: %d\n", webPort),
		"logging.yaml":             "level: debug\nformat: json\n",
	})
	local := haproxy.NewLocal(r.Binary, run+"/h.cfg", run+"/h.sock", run+"/h.pid")
	local.SetVersion(r.Version)
	t.Cleanup(func() { local.Process.Stop(context.Background()) })

	// As systemd runs it (Type=notify): READY=1 once HAProxy serves.
	told := asSystemd(t, run)

	proc := startReporterProcess(t, alias, dir)
	get := func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", webPort))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == 200 && string(body) == "app"
	}
	told("READY=1")
	if !get() {
		t.Error("READY=1 before HAProxy serves the node")
	}
	testenv.WaitFor(t, 20*time.Second, "the node serves through HAProxy", get)
	if pl, err := local.Process.ShowProc(context.Background()); err != nil || len(pl.Workers) == 0 || !strings.HasPrefix(pl.Workers[0].Version, r.Version.String()) {
		t.Fatalf("HAProxy runs %+v (%v), want release %s", pl.Workers, err, r.Version)
	}

	proc.cmd.Process.Signal(syscall.SIGHUP)
	testenv.WaitFor(t, 5*time.Second, "SIGHUP re-reads everything", func() bool {
		return strings.Contains(proc.out.String(), "re-reading everything")
	})
	if !strings.Contains(proc.out.String(), `"program":"writer"`) {
		t.Errorf("log lines do not carry program=writer:\n%s", proc.out)
	}

	proc.cmd.Process.Signal(syscall.SIGTERM)
	if err := proc.waitExit(t, 5*time.Second); err != nil {
		t.Fatalf("writer exit: %v\n%s", err, proc.out)
	}
	told("STOPPING=1")
	if _, ok := local.Process.Running(context.Background()); !ok || !get() {
		t.Errorf("HAProxy does not serve after the writer stopped")
	}
}
