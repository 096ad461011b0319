package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"lighthouse/effects"
	"lighthouse/effects/haproxy"
	"lighthouse/effects/probe"
	"lighthouse/effects/zk"
	"lighthouse/internal/testenv"
	"lighthouse/model"
	"lighthouse/runtime"
)

// svc is a service instance that can be stopped and started again on its
// address: `/` answers its name, `/slow` answers it after slowFor, and
// `/health` answers 200, or 503 while sick. hits counts the requests
// other than /health.
type svc struct {
	name, ip string
	port     int
	hits     atomic.Int64
	sick     atomic.Bool
	slow     chan struct{} // receives when a /slow request arrives

	mu  sync.Mutex
	srv *http.Server
}

const slowFor = 2 * time.Second

func startSvc(t *testing.T, name, ip string) *svc {
	t.Helper()
	s := &svc{name: name, ip: ip, slow: make(chan struct{}, 16)}
	s.start(t)
	t.Cleanup(func() { s.stop(context.Background()) })
	return s
}

func (s *svc) znode() string { return fmt.Sprintf("%s.test:%d", s.name, s.port) }

// start serves on the instance's address (a free port the first time).
func (s *svc) start(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port of a stopped instance may take a moment to free
		if ln, err = net.Listen("tcp", net.JoinHostPort(s.ip, strconv.Itoa(s.port))); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			if s.sick.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			return
		case "/slow":
			s.hits.Add(1)
			s.slow <- struct{}{}
			time.Sleep(slowFor)
		default:
			s.hits.Add(1)
		}
		io.WriteString(w, s.name)
	})}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go srv.Serve(ln)
}

// stop closes the listener and waits for the requests in flight to finish.
func (s *svc) stop(ctx context.Context) error {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Shutdown(ctx)
}

// load sends requests through HAProxy from a few clients until stopped,
// and counts them.
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	errs       []string // the first few failures
	stop       chan struct{}
	wg         sync.WaitGroup
}

func startLoad(port, clients int) *load {
	l := &load{stop: make(chan struct{})}
	for i := 0; i < clients; i++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				if _, err := get(port); err != nil {
					l.failed.Add(1)
					l.mu.Lock()
					if len(l.errs) < 5 {
						l.errs = append(l.errs, err.Error())
					}
					l.mu.Unlock()
					continue
				}
				l.ok.Add(1)
			}
		}()
	}
	return l
}

// end stops the load and fails the test on any failed request.
func (l *load) end(t *testing.T) {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	t.Logf("load: %d requests ok, %d failed", l.ok.Load(), l.failed.Load())
	if l.failed.Load() > 0 {
		t.Errorf("%d of %d requests failed under load: %v", l.failed.Load(), l.ok.Load()+l.failed.Load(), l.errs)
	}
	if l.ok.Load() < 100 {
		t.Errorf("only %d requests went through: no load to speak of", l.ok.Load())
	}
}

// registerData creates a znode of cluster with the given data.
func (e *writerEnv) registerData(cluster, name string, data []byte) {
	e.t.Helper()
	for _, p := range []string{"/lighthouse", "/lighthouse/services", "/lighthouse/services/" + cluster} {
		if _, err := e.conn.Create(p, nil, 0, gozk.WorldACL(gozk.PermAll)); err != nil && err != gozk.ErrNodeExists {
			e.t.Fatal(err)
		}
	}
	if _, err := e.conn.Create("/lighthouse/services/"+cluster+"/"+name, data, gozk.FlagEphemeral, gozk.WorldACL(gozk.PermAll)); err != nil {
		e.t.Fatal(err)
	}
}

// withMetadata is b's znode data with metadata md.
func (b *backend) withMetadata(md map[string]any) []byte {
	host := b.name + ".test"
	return model.Node{Host: host, IP: b.ip, Port: b.port, Peer: &model.Peer{Name: host, IP: b.ip, Port: model.DefaultPeerPort}, Metadata: md}.Encode()
}

// server returns a server of web as `show servers state` reports it.
func (e *writerEnv) server(name string) (haproxy.ServersStateRow, bool) {
	states, err := e.local.Socket.ShowServersState(context.Background(), "web")
	if err != nil {
		return haproxy.ServersStateRow{}, false
	}
	for _, s := range states {
		if s.Name == name {
			return s, true
		}
	}
	return haproxy.ServersStateRow{}, false
}

// Weights 1 and 3 on two nodes split 1,000 requests 25/75 (within ±5
// points), set at runtime without a reload; a new weight in the znode is
// applied in place.
func TestWriterWeightsSplitTraffic(t *testing.T) {
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		e := startWriter(t, r)
		b1 := startBackend(t, "app1", "127.0.0.11")
		b2 := startBackend(t, "app2", "127.0.0.12")
		e.registerData("web", b1.znode(), b1.withMetadata(map[string]any{"weight": int64(1), "state": "ready"}))
		e.registerData("web", b2.znode(), b2.withMetadata(map[string]any{"weight": int64(3), "state": "ready"}))
		testenv.WaitFor(t, 10*time.Second, "both serve with their weights", func() bool {
			s1, ok1 := e.server(b1.znode())
			s2, ok2 := e.server(b2.znode())
			return ok1 && ok2 && s1.UWeight == 1 && s2.UWeight == 3 && s1.State == model.ServerReady && s2.State == model.ServerReady
		})
		reloads := e.proc().Master.Reloads
		split := func(want1 float64) {
			t.Helper()
			got := seen(e.webPort, 1000)
			share := float64(got["app1"]) / 10
			t.Logf("1,000 requests: %v (app1 %.1f%%, want %.0f%% ± 5)", got, share, want1)
			if got["app1"]+got["app2"] != 1000 || share < want1-5 || share > want1+5 {
				t.Errorf("1,000 requests split %v, want app1 at %.0f%% ± 5 points", got, want1)
			}
		}
		split(25)

		// The weight edited in place: set weight at runtime, no reload.
		if _, err := e.conn.Set("/lighthouse/services/web/"+b2.znode(), b2.withMetadata(map[string]any{"weight": int64(1), "state": "ready"}), -1); err != nil {
			t.Fatal(err)
		}
		testenv.WaitFor(t, 10*time.Second, "app2 runs with weight 1", func() bool {
			s, ok := e.server(b2.znode())
			return ok && s.UWeight == 1
		})
		split(50)
		if p := e.proc(); p.Master.Reloads != reloads {
			t.Errorf("weights caused %d reloads, want none", p.Master.Reloads-reloads)
		}
	})
}

// A node in the original's format, without weight or state, serves with
// HAProxy's default weight, ready, beside a node that has them.
func TestWriterOriginalFormatNode(t *testing.T) {
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		e := startWriter(t, r)
		b1 := startBackend(t, "app1", "127.0.0.11")
		b2 := startBackend(t, "app2", "127.0.0.12")
		// Byte for byte what the original reporter writes.
		orig := fmt.Sprintf(`{"host": "app1.test", "ip": "127.0.0.11", "metadata": "{\"role\": \"main\"}", "peer": "{\"ip\": \"127.0.0.11\", \"name\": \"app1.test\", \"port\": 1024}", "port": %d}`, b1.port)
		e.registerData("web", b1.znode(), []byte(orig))
		e.registerData("web", b2.znode(), b2.withMetadata(map[string]any{"weight": int64(3), "state": "ready"}))
		testenv.WaitFor(t, 10*time.Second, "both serve", func() bool { return sameSet(seen(e.webPort, 8), "app1", "app2") })
		s1, ok := e.server(b1.znode())
		if !ok || s1.UWeight != 1 || s1.State != model.ServerReady {
			t.Errorf("the original-format node runs as %+v, want weight 1, ready", s1)
		}
		got := seen(e.webPort, 400)
		if got["app1"] < 60 || got["app1"] > 140 {
			t.Errorf("400 requests split %v, want about 100 to app1 (weight 1 against 3)", got)
		}
	})
}

// reporterRun is a reporter of service web on a config dir of its own,
// registering into a writer's ZooKeeper as host NAME.test at a svc's
// address (startReporterFor).
type reporterRun struct {
	dir    string
	cancel context.CancelFunc
	done   chan error
}

func startReporterFor(t *testing.T, e *writerEnv, s *svc, extra string) *reporterRun {
	t.Helper()
	dir := t.TempDir()
	rr := &reporterRun{dir: dir}
	rr.write(t, "discovery/zookeeper.yaml", fmt.Sprintf("hosts: [%q]\npath: /lighthouse/services\n", e.zk.Addr))
	rr.write(t, "services/web.yaml", fmt.Sprintf("port: %d\nhost: %s\ndiscovery: zookeeper\n%schecks:\n  interval: 100ms\n  http: {uri: /health, rise: 1, fall: 1, timeout: 100ms}\n", s.port, s.ip, extra))
	log := newTestLogger(t).With("program", "reporter")
	src, err := effects.WatchConfigDir(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	rep := &runtime.Reporter{
		Log:    log,
		Config: src,
		Prober: probe.Prober{},
		NewRegistry: func(d model.Discovery) (runtime.Registry, error) {
			reg, err := zk.Connect(d.Hosts, zk.SessionTimeout, log)
			if err != nil {
				return nil, err // not a nil *zk.Registry in an interface
			}
			return reg, nil
		},
		Host: runtime.Identity{Name: s.name + ".test", IP: s.ip},
	}
	ctx, cancel := context.WithCancel(context.Background())
	rr.cancel, rr.done = cancel, make(chan error, 1)
	go func() { rr.done <- rep.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-rr.done
		rr.done <- nil
	})
	return rr
}

func (rr *reporterRun) write(t *testing.T, rel, data string) {
	t.Helper()
	writeFile(t, filepath.Join(rr.dir, rel), data)
}

// drain writes the drain file as `lighthouse drain` and `undrain` do.
func (rr *reporterRun) drain(t *testing.T, list ...model.Drain) {
	t.Helper()
	if err := haproxy.WriteFileAtomic(filepath.Join(rr.dir, model.DrainFile), model.EncodeDrains(list), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitState waits until web's server name runs in state (or is gone, for
// state "").
func (e *writerEnv) waitState(t *testing.T, name string, state model.ServerState, what string) {
	t.Helper()
	testenv.WaitFor(t, 10*time.Second, what, func() bool {
		s, ok := e.server(name)
		if state == "" {
			return !ok
		}
		return ok && s.State == state
	})
}

// quiet fails the test when s receives a request within d.
func quiet(t *testing.T, s *svc, d time.Duration, what string) {
	t.Helper()
	before := s.hits.Load()
	time.Sleep(d)
	if n := s.hits.Load() - before; n != 0 {
		t.Errorf("%s: %d requests reached %s", what, n, s.name)
	}
}

// A drain / stop / start / undrain cycle of one node under constant load
// fails no request, and the long request in flight when the drain starts
// completes.
func TestWriterDrainCycleUnderLoad(t *testing.T) {
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		e := startWriter(t, r)
		b2 := startBackend(t, "app2", "127.0.0.12")
		e.register(e.conn, "web", b2)
		s1 := startSvc(t, "svc1", "127.0.0.21")
		rep := startReporterFor(t, e, s1, "")
		testenv.WaitFor(t, 10*time.Second, "svc1 and app2 serve", func() bool { return sameSet(seen(e.webPort, 8), "app2", "svc1") })
		l := startLoad(e.webPort, 4)
		defer l.end(t)

		// A long request in flight on svc1.
		slow := make(chan error, 16)
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		testenv.WaitFor(t, 10*time.Second, "a slow request reaches svc1", func() bool {
			go func() {
				resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/slow", e.webPort))
				if err == nil {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("status %d: %s", resp.StatusCode, body)
					} else if string(body) != "svc1" {
						err = errNotSvc1 // served by app2: not the one we wait for
					}
				}
				slow <- err
			}()
			select {
			case <-s1.slow:
				return true
			case <-time.After(100 * time.Millisecond):
				return false
			}
		})

		rep.drain(t, model.Drain{Service: "web"})
		e.waitState(t, s1.znode(), model.ServerDrain, "svc1 drains")
		quiet(t, s1, 500*time.Millisecond, "drained")

		// Stopping waits for the request in flight, which completes.
		if err := s1.stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		for done := false; !done; {
			select {
			case err := <-slow:
				if errors.Is(err, errNotSvc1) {
					continue
				}
				if err != nil {
					t.Errorf("the request in flight when svc1 drained failed: %v", err)
				}
				done = true
			case <-time.After(10 * time.Second):
				t.Fatal("the request in flight on svc1 never completed")
			}
		}
		e.waitState(t, s1.znode(), "", "svc1 leaves once its checks fail")

		// Started again: it registers draining, and takes no request.
		s1.start(t)
		e.waitState(t, s1.znode(), model.ServerDrain, "svc1 is back, draining")
		quiet(t, s1, 500*time.Millisecond, "back but drained")

		rep.drain(t) // undrain
		e.waitState(t, s1.znode(), model.ServerReady, "svc1 is ready again")
		before := s1.hits.Load()
		testenv.WaitFor(t, 5*time.Second, "svc1 takes requests again", func() bool { return s1.hits.Load() > before })
	})
}

var errNotSvc1 = errors.New("served by another node")

// chkResFailed is srv_check_result of a failed check (CHK_RES_FAILED).
const chkResFailed = "2"

// drain_on_stop: a reporter stopped under load publishes drain, waits,
// then deregisters; its service stopped after it fails no request.
func TestReporterDrainOnStopUnderLoad(t *testing.T) {
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		e := startWriter(t, r)
		b2 := startBackend(t, "app2", "127.0.0.12")
		e.register(e.conn, "web", b2)
		s1 := startSvc(t, "svc1", "127.0.0.21")
		rep := startReporterFor(t, e, s1, "drain_on_stop: 1s\n")
		testenv.WaitFor(t, 10*time.Second, "svc1 and app2 serve", func() bool { return sameSet(seen(e.webPort, 8), "app2", "svc1") })
		l := startLoad(e.webPort, 4)
		defer l.end(t)
		time.Sleep(300 * time.Millisecond)

		// SIGTERM to the reporter, then stop the service: what a deploy does.
		stopped := time.Now()
		rep.cancel()
		drained := false
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !drained; time.Sleep(20 * time.Millisecond) {
			s, ok := e.server(s1.znode())
			drained = ok && s.State == model.ServerDrain
		}
		if !drained {
			t.Error("svc1 never ran drained while its reporter stopped")
		}
		select {
		case err := <-rep.done:
			rep.done <- err // for the cleanup
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the reporter did not stop")
		}
		took := time.Since(stopped)
		t.Logf("the reporter stopped %v after it was told to", took.Round(10*time.Millisecond))
		if took < time.Second {
			t.Errorf("the reporter stopped after %v, before drain_on_stop (1s)", took)
		}
		s1.mu.Lock()
		srv := s1.srv
		s1.srv = nil
		s1.mu.Unlock()
		srv.Close() // at once, as a killed service
		e.waitState(t, s1.znode(), "", "svc1 leaves")
		time.Sleep(500 * time.Millisecond)
	})
}

// A node whose health checks have it DOWN stays out of traffic across a
// structural reload: HAProxy loads its state from the server state file
// rather than starting it UP.
func TestWriterDownServerStaysDownAcrossReload(t *testing.T) {
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		e := startWriter(t, r)
		writeFile(t, filepath.Join(e.dir, "config/clusters/web.yaml"), fmt.Sprintf(`discovery: zookeeper
haproxy:
  port: %d
  backend: ["mode http", "balance roundrobin", "option httpchk GET /health"]
  server_options: "check inter 3s fall 1 rise 2"
`, e.webPort))
		b1 := startBackend(t, "app1", "127.0.0.11")
		sick := startSvc(t, "sick", "127.0.0.22")
		sick.sick.Store(true)
		e.register(e.conn, "web", b1)
		e.registerData("web", sick.znode(), model.Node{Host: "sick.test", IP: sick.ip, Port: sick.port, Metadata: map[string]any{}}.Encode())
		// DOWN by its checks: ready, stopped, its last check failed (a
		// server just added is stopped too, in maintenance, unchecked).
		down := func() bool {
			s, ok := e.server(sick.znode())
			return ok && s.State == model.ServerReady && s.OpState == haproxy.OpStopped && s.Field("srv_check_result") == chkResFailed
		}
		testenv.WaitFor(t, 20*time.Second, "the sick node is DOWN", down)
		l := startLoad(e.webPort, 4)
		defer l.end(t)
		before, reloads := sick.hits.Load(), e.proc().Master.Reloads

		// A structural change: a new cluster, one reload.
		writeFile(t, filepath.Join(e.dir, "config/clusters/api.yaml"), fmt.Sprintf("discovery: zookeeper\nhaproxy:\n  port: %d\n", testenv.FreePort(t)))
		testenv.WaitFor(t, 10*time.Second, "HAProxy reloads", func() bool { return e.proc().Master.Reloads > reloads })
		state, err := os.ReadFile(filepath.Join(e.dir, "run/haproxy.cfg.state"))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("server state file saved before the reload:\n%s", state)
		time.Sleep(4 * time.Second) // longer than inter: the checks had their turn
		if n := sick.hits.Load() - before; n != 0 {
			t.Errorf("%d requests reached the DOWN node across the reload", n)
		}
		if !down() {
			s, _ := e.server(sick.znode())
			t.Errorf("after the reload the sick node runs as %+v, want DOWN", s)
		}
	})
}
