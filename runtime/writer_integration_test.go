package runtime_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"lighthouse/effects"
	"lighthouse/effects/haproxy"
	"lighthouse/effects/lastgood"
	lzk "lighthouse/effects/zk"
	"lighthouse/internal/testenv"
	"lighthouse/model"
	"lighthouse/model/haproxyapi"
	"lighthouse/runtime"
)

// backend is a tiny HTTP server that answers its own name.
type backend struct {
	name string
	ip   string
	port int
	hits atomic.Int64
	srv  *http.Server
}

func startBackend(t testing.TB, name, ip string) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{name: name, ip: ip, port: ln.Addr().(*net.TCPAddr).Port}
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		io.WriteString(w, b.name)
	})}
	go b.srv.Serve(ln)
	t.Cleanup(func() { b.srv.Close() })
	return b
}

func (b *backend) znode() string { return fmt.Sprintf("%s.test:%d", b.name, b.port) }

func (b *backend) data() []byte {
	host := b.name + ".test"
	return model.Node{Host: host, IP: b.ip, Port: b.port, Peer: &model.Peer{Name: host, IP: b.ip, Port: model.DefaultPeerPort}, Metadata: map[string]any{}}.Encode()
}

type writerEnv struct {
	t       testing.TB
	release testenv.HAProxyRelease
	dir     string
	zk      *testenv.ZooKeeper
	conn    *zk.Conn
	local   *haproxy.Local
	logs    *testenv.Buffer
	cancel  context.CancelFunc
	done    chan error
	webPort int
	resync  time.Duration
	metrics runtime.WriterMetrics // nil: none
	// onDiscovery, when set, is handed each watcher the writer connects.
	onDiscovery func(*lzk.Watcher)
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// startWriter starts ZooKeeper and a writer that runs release r of HAProxy
// (its binary for the processes, its version for rendering and planning)
// with one cluster, web. webBackend are web's backend lines; none means
// "mode http" and "balance roundrobin".
func startWriter(t testing.TB, r testenv.HAProxyRelease, webBackend ...string) *writerEnv {
	return startWriterResync(t, r, 200*time.Millisecond, webBackend...)
}

// startWriterResync is startWriter with the writer's Resync.
func startWriterResync(t testing.TB, r testenv.HAProxyRelease, resync time.Duration, webBackend ...string) *writerEnv {
	e := newWriterEnv(t, r, resync, webBackend...)
	e.run()
	t.Cleanup(e.stop)
	return e
}

// newWriterEnv is startWriterResync without starting the writer: call run.
func newWriterEnv(t testing.TB, r testenv.HAProxyRelease, resync time.Duration, webBackend ...string) *writerEnv {
	testenv.Require(t, "zookeeper")
	if len(webBackend) == 0 {
		webBackend = []string{"mode http", "balance roundrobin"}
	}
	e := &writerEnv{t: t, release: r, dir: testenv.ShortTempDir(t), zk: testenv.StartZooKeeper(t), logs: &testenv.Buffer{}}
	e.conn = e.zk.Conn(t)
	e.webPort = testenv.FreePort(t)
	run := filepath.Join(e.dir, "run")
	writeFile(t, filepath.Join(e.dir, "config/balancers/haproxy.yaml"), fmt.Sprintf(`config_file: %s/haproxy.cfg
socket_file: %s/admin.sock
pid_file: %s/haproxy.pid
bind_address: 127.0.0.1
restart_interval: 0.2
defaults:
  - "mode http"
  - "timeout connect 2s"
  - "timeout client 10s"
  - "timeout server 10s"
stats:
  port: %d
  bind_address: 127.0.0.1
`, run, run, run, testenv.FreePort(t)))
	writeFile(t, filepath.Join(e.dir, "config/discovery/zookeeper.yaml"), e.zk.DiscoveryYAML("/lighthouse/services"))
	writeFile(t, filepath.Join(e.dir, "config/clusters/web.yaml"), fmt.Sprintf("discovery: zookeeper\nhaproxy:\n  port: %d\n  backend: %s\n", e.webPort, yamlList(webBackend)))
	e.local = haproxy.NewLocal(r.Binary, run+"/haproxy.cfg", run+"/admin.sock", run+"/haproxy.pid")
	e.local.SetVersion(r.Version)
	t.Cleanup(func() { e.local.Process.Stop(context.Background()) })

	e.resync = resync
	// A failed test shows what the writer said (at debug level), the
	// last 16 KiB of it: CI shows a part of the output, and a shorter log
	// leaves room for the next failure's.
	t.Cleanup(func() {
		if t.Failed() && !testing.Verbose() {
			out := e.logs.String()
			t.Logf("the writer's log:\n%s", out[max(0, len(out)-16<<10):])
		}
	})
	return e
}

// run starts a writer on e's config directory, keeping the last good config
// files in e.dir/state; after stop, run starts a new one, as a restart does.
func (e *writerEnv) run() {
	t, r := e.t, e.release
	log := slog.New(slog.NewTextHandler(io.MultiWriter(e.logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug})).With("program", "writer")
	cfgDir, err := effects.WatchConfigDir(filepath.Join(e.dir, "config"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cfgDir.Close() })
	w := &runtime.Writer{
		Log:    log,
		Config: cfgDir,
		NewHAProxy: func(b *model.Balancer) runtime.HAProxy {
			l := haproxy.NewLocal(r.Binary, b.ConfigFile, b.SocketFile, b.PidFile)
			l.SetVersion(r.Version) // as cmd/lighthouse does with the version it detects
			return l
		},
		NewDiscovery: func(d model.Discovery) (runtime.Discovery, error) {
			w, err := lzk.ConnectWatcher(d, log)
			if err == nil && e.onDiscovery != nil {
				e.onDiscovery(w)
			}
			return w, err
		},
		Version:  func(ctx context.Context) (model.Version, error) { return effects.HAProxyVersion(ctx, r.Binary) },
		Resync:   e.resync,
		LastGood: lastgood.Store{Dir: filepath.Join(e.dir, "state")},
		Metrics:  e.metrics,
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	go func() { e.done <- w.Run(ctx) }()
}

// yamlList writes directive lines as a YAML flow list.
func yamlList(lines []string) string {
	q := make([]string, len(lines))
	for i, l := range lines {
		q[i] = fmt.Sprintf("%q", l)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// testWriter sends log lines to t.Log while the test runs.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	if testing.Verbose() {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func (e *writerEnv) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	select {
	case err := <-e.done:
		if err != nil {
			e.t.Errorf("writer returned %v", err)
		}
	case <-time.After(10 * time.Second):
		e.t.Error("writer did not stop")
	}
	e.cancel = nil
}

func (e *writerEnv) register(conn *zk.Conn, cluster string, b *backend) {
	e.t.Helper()
	for _, p := range []string{"/lighthouse", "/lighthouse/services", "/lighthouse/services/" + cluster} {
		if _, err := conn.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && err != zk.ErrNodeExists {
			e.t.Fatal(err)
		}
	}
	if _, err := conn.Create("/lighthouse/services/"+cluster+"/"+b.znode(), b.data(), zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		e.t.Fatal(err)
	}
}

func (e *writerEnv) deregister(conn *zk.Conn, cluster string, b *backend) {
	e.t.Helper()
	if err := conn.Delete("/lighthouse/services/"+cluster+"/"+b.znode(), -1); err != nil {
		e.t.Fatal(err)
	}
}

var client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func get(port int) (string, error) {
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return string(body), err
}

// seen returns which backends answered n requests.
func seen(port, n int) map[string]int {
	out := map[string]int{}
	for i := 0; i < n; i++ {
		body, err := get(port)
		if err != nil {
			out["error: "+err.Error()]++
			continue
		}
		out[body]++
	}
	return out
}

func sameSet(got map[string]int, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if got[w] == 0 {
			return false
		}
	}
	return true
}

// proc asks the master for its processes; the master socket is briefly
// re-bound during a reload, so a failed ask is tried again.
func (e *writerEnv) proc() haproxyapi.ProcList {
	e.t.Helper()
	var pl haproxyapi.ProcList
	var err error
	for i := 0; i < 50; i++ {
		if pl, err = e.local.Process.ShowProc(context.Background()); err == nil && len(pl.Workers) > 0 {
			return pl
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("show proc: %v", err)
	return pl
}

// checkRelease fails the test unless the worker runs the writer's release:
// a test that passes on the wrong binary proves nothing about its release.
func (e *writerEnv) checkRelease(pl haproxyapi.ProcList) {
	e.t.Helper()
	if len(pl.Workers) == 0 || !strings.HasPrefix(pl.Workers[0].Version, e.release.Version.String()) {
		e.t.Fatalf("HAProxy runs %+v, want release %s (%s)", pl.Workers, e.release.Version, e.release.Binary)
	}
}

// The writer keeps HAProxy in sync through membership changes (runtime
// API, no reload), structural changes (one validated reload each), broken
// and rejected edits (none), a ZooKeeper outage and a killed HAProxy, on
// every supported release.
func TestWriterEndToEnd(t *testing.T) { testenv.ForEachHAProxy(t, testWriterEndToEnd) }

func testWriterEndToEnd(t *testing.T, r testenv.HAProxyRelease) {
	e := startWriter(t, r)
	b1 := startBackend(t, "app1", "127.0.0.11")
	b2 := startBackend(t, "app2", "127.0.0.12")
	b3 := startBackend(t, "app3", "127.0.0.13")

	// A node registered in the original's format receives traffic.
	e.register(e.conn, "web", b1)
	testenv.WaitFor(t, 20*time.Second, "app1 serves through the cluster port", func() bool { return sameSet(seen(e.webPort, 3), "app1") })
	start := e.proc()
	e.checkRelease(start)
	worker := start.Workers[0].PID

	// Membership changes go through the runtime API: no reload.
	e.register(e.conn, "web", b2)
	e.register(e.conn, "web", b3)
	testenv.WaitFor(t, 10*time.Second, "app1..3 serve", func() bool { return sameSet(seen(e.webPort, 9), "app1", "app2", "app3") })
	e.deregister(e.conn, "web", b1)
	testenv.WaitFor(t, 10*time.Second, "app1 stops receiving", func() bool { return sameSet(seen(e.webPort, 6), "app2", "app3") })
	if p := e.proc(); p.Master.Reloads != start.Master.Reloads || p.Workers[0].PID != worker {
		t.Fatalf("membership changes reloaded HAProxy: before %+v, after %+v", start, p)
	}
	testenv.WaitFor(t, 5*time.Second, "the config file follows membership", func() bool {
		file, _ := os.ReadFile(e.local.Process.ConfigFile)
		return !strings.Contains(string(file), b1.znode()) && strings.Contains(string(file), b3.znode())
	})

	// A new cluster file: exactly one reload.
	apiPort := testenv.FreePort(t)
	writeFile(t, filepath.Join(e.dir, "config/clusters/api.yaml"), fmt.Sprintf("discovery: zookeeper\nhaproxy:\n  port: %d\n", apiPort))
	e.register(e.conn, "api", b1)
	testenv.WaitFor(t, 10*time.Second, "api serves", func() bool { return sameSet(seen(apiPort, 2), "app1") })
	time.Sleep(500 * time.Millisecond)
	if p := e.proc(); p.Master.Reloads != start.Master.Reloads+1 {
		t.Fatalf("a new cluster caused %d reloads, want 1", p.Master.Reloads-start.Master.Reloads)
	}

	// server_options changed: one reload, and the running servers have them.
	before := e.proc().Master.Reloads
	writeFile(t, filepath.Join(e.dir, "config/clusters/web.yaml"), fmt.Sprintf("discovery: zookeeper\nhaproxy:\n  port: %d\n  backend: [\"mode http\", \"balance roundrobin\"]\n  server_options: maxconn 50 weight 7\n", e.webPort))
	testenv.WaitFor(t, 10*time.Second, "servers run with weight 7", func() bool {
		states, err := e.local.Socket.ShowServersState(context.Background(), "web")
		if err != nil || len(states) == 0 {
			return false
		}
		for _, s := range states {
			if s.UWeight != 7 {
				return false
			}
		}
		return true
	})
	if p := e.proc(); p.Master.Reloads != before+1 {
		t.Errorf("server_options change: %d reloads, want 1", p.Master.Reloads-before)
	}

	// A broken edit: no reload, a located error, the last good config serves.
	before = e.proc().Master.Reloads
	writeFile(t, filepath.Join(e.dir, "config/clusters/api.yaml"), "discovery: zookeeper\nhaproxy:\n  port: eighty\n")
	testenv.WaitFor(t, 5*time.Second, "a located error in the log", func() bool {
		return strings.Contains(e.logs.String(), `clusters/api.yaml:3: haproxy.port: must be an integer 1..65535, got \"eighty\"`)
	})
	time.Sleep(300 * time.Millisecond)
	if p := e.proc(); p.Master.Reloads != before {
		t.Errorf("a broken edit reloaded HAProxy")
	}
	if !sameSet(seen(apiPort, 2), "app1") {
		t.Errorf("the last good api cluster stopped serving")
	}

	// A config that haproxy -c rejects is never installed; the last good one
	// keeps serving, the rejection is logged once, and the next good edit
	// goes through.
	before = e.proc().Master.Reloads
	writeFile(t, filepath.Join(e.dir, "config/clusters/api.yaml"), fmt.Sprintf("discovery: zookeeper\nhaproxy:\n  port: %d\n  backend: [\"balance nosuch\"]\n", apiPort))
	testenv.WaitFor(t, 5*time.Second, "the rejection is logged", func() bool {
		return strings.Contains(e.logs.String(), "haproxy -c rejected candidate")
	})
	time.Sleep(2500 * time.Millisecond) // a resync or two
	if p := e.proc(); p.Master.Reloads != before {
		t.Errorf("a rejected config was reloaded")
	}
	if n := strings.Count(e.logs.String(), "haproxy -c rejected candidate"); n != 1 {
		t.Errorf("the rejection was logged %d times, want once", n)
	}
	if file, _ := os.ReadFile(e.local.Process.ConfigFile); strings.Contains(string(file), "nosuch") {
		t.Errorf("the rejected config was written")
	}
	if !sameSet(seen(apiPort, 2), "app1") {
		t.Errorf("the last good config stopped serving")
	}
	writeFile(t, filepath.Join(e.dir, "config/clusters/api.yaml"), fmt.Sprintf("discovery: zookeeper\nhaproxy:\n  port: %d\n  backend: [\"balance leastconn\"]\n", apiPort))
	testenv.WaitFor(t, 10*time.Second, "the good edit is reloaded", func() bool {
		file, _ := os.ReadFile(e.local.Process.ConfigFile)
		return strings.Contains(string(file), "balance leastconn") && e.proc().Master.Reloads == before+1
	})

	// ZooKeeper stops: backends and traffic unchanged.
	e.zk.Stop()
	time.Sleep(1500 * time.Millisecond)
	if got := seen(e.webPort, 6); !sameSet(got, "app2", "app3") {
		t.Fatalf("during the ZooKeeper outage: %v", got)
	}
	// ZooKeeper is back: what changed meanwhile (here through the expired
	// ephemeral nodes of the test's own session, re-created) is applied.
	e.zk.Start()
	conn2 := e.zk.Conn(t)
	testenv.WaitFor(t, 20*time.Second, "membership is read again", func() bool {
		ch, _, err := conn2.Children("/lighthouse/services/web")
		return err == nil && len(ch) == 2
	})
	e.deregister(conn2, "web", b2)
	testenv.WaitFor(t, 20*time.Second, "app2 leaves after the outage", func() bool { return sameSet(seen(e.webPort, 4), "app3") })

	// HAProxy killed: the writer starts it again. The workers are listed
	// before the master dies: asked afterwards, a master the writer has
	// already started again would answer, and its workers would be killed.
	pid, ok := e.local.Process.Running(context.Background())
	if !ok {
		t.Fatal("HAProxy is not running")
	}
	workers := e.proc().Workers
	syscall.Kill(pid, syscall.SIGKILL)
	for _, w := range workers {
		syscall.Kill(w.PID, syscall.SIGKILL)
	}
	testenv.WaitFor(t, 20*time.Second, "HAProxy is started again and serves", func() bool {
		_, running := e.local.Process.Running(context.Background())
		return running && sameSet(seen(e.webPort, 2), "app3")
	})

	// Shutdown leaves HAProxy running.
	e.stop()
	if _, ok := e.local.Process.Running(context.Background()); !ok {
		t.Error("HAProxy stopped with the writer")
	}
	if !sameSet(seen(e.webPort, 2), "app3") {
		t.Error("HAProxy does not serve after the writer stopped")
	}
}

// A node joins a backend with a cookie directive, so its server line carries
// a cookie. From 3.0 `add server` takes a cookie and the join is a runtime
// change; 2.6 and 2.8 refuse it there, so the writer reloads, once, and says
// why. Either way the new server has its cookie: HAProxy hands it out and
// routes a request that carries it to that node. The node's leave is a
// runtime change on every release.
func TestWriterCookieServer(t *testing.T) { testenv.ForEachHAProxy(t, testWriterCookieServer) }

func testWriterCookieServer(t *testing.T, r testenv.HAProxyRelease) {
	e := startWriter(t, r, "mode http", "balance roundrobin", "cookie SERVERID insert indirect nocache")
	b1 := startBackend(t, "app1", "127.0.0.41")
	b2 := startBackend(t, "app2", "127.0.0.42")
	e.register(e.conn, "web", b1)
	testenv.WaitFor(t, 20*time.Second, "app1 serves", func() bool { return sameSet(seen(e.webPort, 2), "app1") })
	start := e.proc()
	e.checkRelease(start)

	wantReloads := 0
	if !r.Version.AtLeast(3, 0) {
		wantReloads = 1
	}
	e.register(e.conn, "web", b2)
	testenv.WaitFor(t, 10*time.Second, "app2's cookie routes to app2", func() bool {
		body, _, err := getCookie(e.webPort, b2.znode())
		return err == nil && body == "app2"
	})
	time.Sleep(500 * time.Millisecond) // a late reload would count
	p := e.proc()
	if got := p.Master.Reloads - start.Master.Reloads; got != wantReloads {
		t.Fatalf("HAProxy %s: a node with a cookie joined with %d reload(s), want %d", r.Version, got, wantReloads)
	}
	if wantReloads == 0 && p.Workers[0].PID != start.Workers[0].PID {
		t.Fatalf("HAProxy %s: the worker changed (%d, was %d) without a reload", r.Version, p.Workers[0].PID, start.Workers[0].PID)
	}
	why := `cannot add a server with \"cookie\" at runtime`
	if said := strings.Contains(e.logs.String(), why); said != (wantReloads == 1) {
		t.Errorf("HAProxy %s: the log says %q: %v, want %v", r.Version, why, said, wantReloads == 1)
	}

	// Every answer without a cookie sets the answering node's; with a
	// cookie, the request sticks to that node.
	answered := map[string]bool{}
	for range 6 {
		body, cookie, err := getCookie(e.webPort, "")
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"app1": b1.znode(), "app2": b2.znode()}[body]; cookie != want {
			t.Errorf("HAProxy %s: %s answered with cookie %q, want %q", r.Version, body, cookie, want)
		}
		answered[body] = true
	}
	if len(answered) != 2 {
		t.Errorf("HAProxy %s: answered by %v, want app1 and app2", r.Version, answered)
	}
	for _, b := range []*backend{b1, b2, b1, b2} {
		if body, _, err := getCookie(e.webPort, b.znode()); err != nil || body != b.name {
			t.Errorf("HAProxy %s: with %s's cookie: %q, %v", r.Version, b.name, body, err)
		}
	}

	// The leave is a runtime change everywhere.
	before := e.proc()
	e.deregister(e.conn, "web", b2)
	testenv.WaitFor(t, 10*time.Second, "app2 leaves", func() bool {
		states, err := e.local.Socket.ShowServersState(context.Background(), "web")
		return err == nil && len(states) == 1 && states[0].Name == b1.znode()
	})
	if body, _, err := getCookie(e.webPort, b2.znode()); err != nil || body != "app1" {
		t.Errorf("HAProxy %s: with the cookie of a node that left: %q, %v; want app1", r.Version, body, err)
	}
	if p := e.proc(); p.Master.Reloads != before.Master.Reloads || p.Workers[0].PID != before.Workers[0].PID {
		t.Errorf("HAProxy %s: the leave reloaded: before %+v, after %+v", r.Version, before, p)
	}
}

// getCookie sends a request with cookie SERVERID (none when "") and returns
// the body and the SERVERID that HAProxy set in the answer ("" if none).
func getCookie(port int, serverID string) (body, setID string, err error) {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
	if err != nil {
		return "", "", err
	}
	if serverID != "" {
		req.AddCookie(&http.Cookie{Name: "SERVERID", Value: serverID})
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", "", fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "SERVERID" {
			setID = c.Value
		}
	}
	return string(b), setID, err
}

// Under a bounded loopback load, nodes join and leave and one reload happens
// in the middle: no request fails, on every supported release.
func TestWriterNoFailedRequestsUnderChurn(t *testing.T) {
	testenv.ForEachHAProxy(t, testWriterNoFailedRequestsUnderChurn)
}

func testWriterNoFailedRequestsUnderChurn(t *testing.T, r testenv.HAProxyRelease) {
	e := startWriter(t, r)
	var bs []*backend
	for i := 1; i <= 3; i++ {
		bs = append(bs, startBackend(t, fmt.Sprintf("app%d", i), fmt.Sprintf("127.0.0.%d", 20+i)))
	}
	e.register(e.conn, "web", bs[0])
	e.register(e.conn, "web", bs[1])
	testenv.WaitFor(t, 20*time.Second, "two nodes serve", func() bool { return sameSet(seen(e.webPort, 6), "app1", "app2") })
	e.checkRelease(e.proc())

	var ok, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := get(e.webPort); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	step := func() { time.Sleep(400 * time.Millisecond) }
	e.register(e.conn, "web", bs[2])
	step()
	// Graceful leave: the node deregisters first and keeps serving what is
	// in flight; its process stops only later.
	e.deregister(e.conn, "web", bs[0])
	step()
	writeFile(t, filepath.Join(e.dir, "config/clusters/api.yaml"), fmt.Sprintf("discovery: zookeeper\nhaproxy:\n  port: %d\n", testenv.FreePort(t)))
	step()
	e.register(e.conn, "web", bs[0])
	step()
	e.deregister(e.conn, "web", bs[1])
	step()
	step()
	close(stop)
	wg.Wait()
	t.Logf("requests: %d ok, %d failed", ok.Load(), failed.Load())
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed; first: %v", failed.Load(), ok.Load()+failed.Load(), firstErr.Load())
	}
	if ok.Load() < 1000 {
		t.Errorf("only %d requests in the load window", ok.Load())
	}
	if !strings.Contains(e.logs.String(), "reloaded HAProxy") {
		t.Errorf("no reload happened during the load")
	}
}

// BenchmarkZnodeToServerState measures the time from a znode created or
// deleted to HAProxy's server state changing (seen by polling `show servers
// state` every 0.5 ms), over 200 changes, with each supported release in a
// sub-benchmark (haproxy-X.Y). Reported as p50-ms and p99-ms.
// Target: p99 under 50 ms on loopback.
func BenchmarkZnodeToServerState(b *testing.B) {
	for _, r := range testenv.HAProxyReleases(b) {
		b.Run(r.String(), func(b *testing.B) { benchmarkZnodeToServerState(b, r) })
	}
}

func benchmarkZnodeToServerState(b *testing.B, r testenv.HAProxyRelease) {
	e := startWriter(b, r)
	anchor := startBackend(b, "anchor", "127.0.0.31")
	e.register(e.conn, "web", anchor)
	testenv.WaitFor(b, 20*time.Second, "anchor serves", func() bool { return sameSet(seen(e.webPort, 1), "anchor") })
	e.checkRelease(e.proc())
	node := startBackend(b, "node", "127.0.0.32")
	has := func() bool {
		states, err := e.local.Socket.ShowServersState(context.Background(), "web")
		if err != nil {
			return false
		}
		for _, s := range states {
			if s.Name == node.znode() && s.State == model.ServerReady {
				return true
			}
		}
		return false
	}
	wait := func(want bool) time.Duration {
		start := time.Now()
		for has() != want {
			if time.Since(start) > 10*time.Second {
				b.Fatalf("server state did not become %v", want)
			}
			time.Sleep(500 * time.Microsecond)
		}
		return time.Since(start)
	}
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		lat = lat[:0]
		for i := 0; i < 100; i++ {
			e.register(e.conn, "web", node)
			lat = append(lat, wait(true))
			e.deregister(e.conn, "web", node)
			lat = append(lat, wait(false))
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
