package runtime_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"lighthouse/effects"
	"lighthouse/effects/probe"
	"lighthouse/effects/zk"
	"lighthouse/internal/testenv"
	"lighthouse/model"
	"lighthouse/runtime"
)

// testLog is a slog destination that writes to t.Log until the test ends
// (the ZooKeeper client may log after that).
type testLog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

// newTestLogger logs at debug level to t.Log and to also, if any.
func newTestLogger(t testing.TB, also ...io.Writer) *slog.Logger {
	w := &testLog{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(io.MultiWriter(append([]io.Writer{w}, also...)...), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// reporterRig is a config dir, a real ZooKeeper and a reporter running
// against them.
type reporterRig struct {
	t    *testing.T
	zk   *testenv.ZooKeeper
	conn *gozk.Conn
	dir  string
	host runtime.Identity
	logs testenv.Buffer // the reporter's log

	cancel context.CancelFunc
	done   chan error
}

const base = "/lighthouse/services"

func newRig(t *testing.T) *reporterRig {
	z := testenv.StartZooKeeper(t)
	rig := &reporterRig{t: t, zk: z, conn: z.Conn(t), dir: t.TempDir(),
		host: runtime.Identity{Name: "app01.example.com", IP: "10.0.0.11"}}
	rig.write("discovery/zookeeper.yaml", z.DiscoveryYAML(base))
	return rig
}

func (r *reporterRig) write(rel, data string) {
	r.t.Helper()
	p := filepath.Join(r.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	// Write beside and rename, as an editor does: never a half file.
	tmp := filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".tmp")
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		r.t.Fatal(err)
	}
}

func (r *reporterRig) start() {
	r.t.Helper()
	log := newTestLogger(r.t, &r.logs)
	src, err := effects.WatchConfigDir(r.dir, log)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { src.Close() })
	rep := &runtime.Reporter{
		Log:    log,
		Config: src,
		Prober: probe.Prober{},
		NewRegistry: func(d model.Discovery) (runtime.Registry, error) {
			reg, err := zk.ConnectDiscovery(d, log)
			if err != nil {
				return nil, err
			}
			return reg, nil
		},
		Host: r.host,
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- rep.Run(ctx) }()
	r.t.Cleanup(func() {
		cancel()
		<-r.done
	})
}

// stop stops the reporter and returns how long Run took to return.
func (r *reporterRig) stop() time.Duration {
	r.t.Helper()
	start := time.Now()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Fatalf("Run: %v", err)
		}
		r.done <- nil // for the cleanup
	case <-time.After(5 * time.Second):
		r.t.Fatal("Run did not return 5 s after its context was cancelled")
	}
	return time.Since(start)
}

func (r *reporterRig) znode(service string, port int) string {
	return base + "/" + service + "/" + r.host.Name + ":" + strconv.Itoa(port)
}

// get returns a znode's data and stat, or ok false when it does not exist.
func (r *reporterRig) get(p string) ([]byte, *gozk.Stat, bool) {
	r.t.Helper()
	data, st, ok, err := r.lookup(p)
	if err != nil {
		r.t.Fatalf("get %s: %v", p, err)
	}
	return data, st, ok
}

// lookup is get for polling: an error (ZooKeeper restarting) is returned.
func (r *reporterRig) lookup(p string) ([]byte, *gozk.Stat, bool, error) {
	data, st, err := r.conn.Get(p)
	if err == gozk.ErrNoNode {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	return data, st, true, nil
}

func (r *reporterRig) waitPresent(p string) ([]byte, *gozk.Stat) {
	r.t.Helper()
	var data []byte
	var st *gozk.Stat
	testenv.WaitFor(r.t, 10*time.Second, p+" registered", func() bool {
		var ok bool
		var err error
		data, st, ok, err = r.lookup(p)
		return ok && err == nil
	})
	return data, st
}

func (r *reporterRig) waitAbsent(p string) {
	r.t.Helper()
	testenv.WaitFor(r.t, 10*time.Second, p+" deregistered", func() bool {
		_, _, ok, err := r.lookup(p)
		return !ok && err == nil
	})
}

// wantData is the original's wire format, written out by hand.
func wantData(host runtime.Identity, port int, metadata string) string {
	return fmt.Sprintf(`{"host": "%s", "ip": "%s", "metadata": "%s", "peer": "{\"ip\": \"%s\", \"name\": \"%s\", \"port\": 1024}", "port": %d}`,
		host.Name, host.IP, metadata, host.IP, host.Name, port)
}

// healthServer is an HTTP service whose /health answers 200 or 503 and
// counts the answers.
type healthServer struct {
	srv          *httptest.Server
	port         int
	healthy      atomic.Bool
	passes, fail atomic.Int64
}

func newHealthServer(t *testing.T) *healthServer {
	h := &healthServer{}
	h.healthy.Store(true)
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" && h.healthy.Load() {
			h.passes.Add(1)
			w.WriteHeader(200)
			return
		}
		h.fail.Add(1)
		w.WriteHeader(503)
	}))
	t.Cleanup(h.srv.Close)
	h.port = h.srv.Listener.Addr().(*net.TCPAddr).Port
	return h
}

// Registration after rise passes with the original's exact bytes;
// deregistration after fall failures; back again; re-registration after a
// forced session expiry; every znode gone when the reporter stops.
func TestReporterRiseFallExpiryStop(t *testing.T) {
	rig := newRig(t)
	web1, web2 := newHealthServer(t), newHealthServer(t)
	rig.write("services/web.yaml", fmt.Sprintf(`ports: [%d, %d]
discovery: zookeeper
metadata: {role: master}
checks:
  interval: 100ms
  http: {uri: /health, rise: 3, fall: 2}
`, web1.port, web2.port))
	rig.start()
	p1, p2 := rig.znode("web", web1.port), rig.znode("web", web2.port)

	data, st := rig.waitPresent(p1)
	if n := web1.passes.Load(); n < 3 {
		t.Errorf("registered after %d passes, rise is 3", n)
	}
	if got, want := string(data), wantData(rig.host, web1.port, `{\"role\": \"master\", \"state\": \"ready\"}`); got != want {
		t.Errorf("znode data:\n got %s\nwant %s", got, want)
	}
	if st.EphemeralOwner == 0 {
		t.Error("the znode is not ephemeral")
	}
	rig.waitPresent(p2)

	// Down after fall failures, and only port 1.
	web1.healthy.Store(false)
	before := web1.fail.Load()
	rig.waitAbsent(p1)
	if n := web1.fail.Load() - before; n < 2 {
		t.Errorf("deregistered after %d failures, fall is 2", n)
	}
	if _, _, ok := rig.get(p2); !ok {
		t.Error("port 2 went down with port 1")
	}
	web1.healthy.Store(true)
	before = web1.passes.Load()
	rig.waitPresent(p1)
	if n := web1.passes.Load() - before; n < 3 {
		t.Errorf("registered again after %d passes, rise is 3", n)
	}

	// A forced session expiry: ZooKeeper deletes the znodes; the reporter
	// registers them again in its new session.
	_, st = rig.waitPresent(p1)
	old := st.EphemeralOwner
	rig.zk.ExpireSession(t, old)
	for _, p := range []string{p1, p2} {
		testenv.WaitFor(t, 10*time.Second, p+" registered in a new session", func() bool {
			_, st, ok, err := rig.lookup(p)
			return err == nil && ok && st.EphemeralOwner != old
		})
	}

	// Stop: every znode deleted before Run returns, well within a second.
	took := rig.stop()
	for _, p := range []string{p1, p2} {
		if _, _, ok := rig.get(p); ok {
			t.Errorf("%s still registered after Run returned", p)
		}
	}
	if took > time.Second {
		t.Errorf("stopping took %v", took)
	}
	t.Logf("stopped in %v", took)
}

// lineService answers "ping" with "pong\n" on a port that can be closed and
// opened again.
type lineService struct {
	t    *testing.T
	port int
	l    net.Listener
}

func (s *lineService) open() {
	s.t.Helper()
	var err error
	for range 50 {
		if s.l, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(s.port)); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	s.port = s.l.Addr().(*net.TCPAddr).Port
	l := s.l
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4)
				c.SetDeadline(time.Now().Add(2 * time.Second))
				if n, _ := c.Read(buf); string(buf[:n]) == "ping" {
					c.Write([]byte("pong\r\n"))
				}
			}()
		}
	}()
}

// The tcp and redis checks against real servers: up, down while the
// server is stopped, up again.
func TestReporterTCPAndRedis(t *testing.T) {
	rig := newRig(t)
	redis := testenv.StartRedis(t)
	line := &lineService{t: t}
	line.open()
	t.Cleanup(func() { line.l.Close() })
	rig.write("services/cache.yaml", fmt.Sprintf(`port: %d
discovery: zookeeper
checks:
  interval: 100ms
  redis: {rise: 1, fall: 1}
`, redis.Port))
	rig.write("services/line.yaml", fmt.Sprintf(`port: %d
discovery: zookeeper
checks:
  interval: 100ms
  tcp: {query: ping, response: pong, rise: 2, fall: 1}
`, line.port))
	rig.start()
	pc, pl := rig.znode("cache", redis.Port), rig.znode("line", line.port)
	data, _ := rig.waitPresent(pc)
	if got, want := string(data), wantData(rig.host, redis.Port, `{\"state\": \"ready\"}`); got != want {
		t.Errorf("znode data:\n got %s\nwant %s", got, want)
	}
	rig.waitPresent(pl)

	redis.Stop()
	rig.waitAbsent(pc)
	redis.Start()
	rig.waitPresent(pc)

	line.l.Close()
	rig.waitAbsent(pl)
	line.open()
	rig.waitPresent(pl)
}

// Live config: a service file added, a port added and removed, a broken
// file keeping its last good version, metadata re-published without
// flapping, a file removed; a znode left by another session replaced.
func TestReporterFollowsConfig(t *testing.T) {
	rig := newRig(t)
	a, b := newHealthServer(t), newHealthServer(t)
	// A znode at our path owned by someone else's session (a previous run
	// that has not expired yet) is replaced.
	other := rig.zk.Conn(t)
	pa := rig.znode("api", a.port)
	if err := makeParents(other, pa); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Create(pa, []byte("stale"), gozk.FlagEphemeral, gozk.WorldACL(gozk.PermAll)); err != nil {
		t.Fatal(err)
	}
	rig.start()

	service := func(ports string, metadata string) string {
		return fmt.Sprintf("ports: [%s]\ndiscovery: zookeeper\nmetadata: %s\nchecks:\n  interval: 100ms\n  http: {uri: /health, rise: 1, fall: 1}\n", ports, metadata)
	}
	rig.write("services/api.yaml", service(strconv.Itoa(a.port), "{v: 1}"))
	testenv.WaitFor(t, 10*time.Second, pa+" taken over", func() bool {
		data, st, ok := rig.get(pa)
		return ok && string(data) != "stale" && st.EphemeralOwner != other.SessionID()
	})
	data, st := rig.waitPresent(pa)
	if got, want := string(data), wantData(rig.host, a.port, `{\"state\": \"ready\", \"v\": 1}`); got != want {
		t.Errorf("znode data:\n got %s\nwant %s", got, want)
	}
	created := st.Czxid

	// A port added, then removed.
	pb := rig.znode("api", b.port)
	rig.write("services/api.yaml", service(fmt.Sprintf("%d, %d", a.port, b.port), "{v: 1}"))
	rig.waitPresent(pb)
	rig.write("services/api.yaml", service(strconv.Itoa(a.port), "{v: 1}"))
	rig.waitAbsent(pb)

	// A broken file: the last good version stays in force.
	rig.write("services/api.yaml", "ports: [oops\n")
	time.Sleep(3 * effects.Debounce) // nothing to wait for: nothing must happen
	if _, _, ok := rig.get(pa); !ok {
		t.Fatal("a broken service file deregistered the service")
	}

	// Metadata: new data in place, never deregistered in between.
	rig.write("services/api.yaml", service(strconv.Itoa(a.port), "{v: 2}"))
	testenv.WaitFor(t, 10*time.Second, "new metadata", func() bool {
		data, _, ok := rig.get(pa)
		return ok && strings.Contains(string(data), `{\"state\": \"ready\", \"v\": 2}`)
	})
	if _, st, _ := rig.get(pa); st.Czxid != created {
		t.Error("the znode was re-created for a metadata change (the service flapped)")
	}
	// A weight: the same, published in the metadata.
	rig.write("services/api.yaml", "weight: 5\n"+service(strconv.Itoa(a.port), "{v: 2}"))
	testenv.WaitFor(t, 10*time.Second, "the weight", func() bool {
		data, _, ok := rig.get(pa)
		return ok && strings.Contains(string(data), `{\"state\": \"ready\", \"v\": 2, \"weight\": 5}`)
	})
	if _, st, _ := rig.get(pa); st.Czxid != created {
		t.Error("the znode was re-created for a weight change (the service flapped)")
	}

	// The discovery path changed: deregistered under the old path,
	// registered under the new one.
	rig.write("discovery/zookeeper.yaml", rig.zk.DiscoveryYAML("/elsewhere"))
	rig.waitPresent("/elsewhere/api/" + rig.host.Name + ":" + strconv.Itoa(a.port))
	rig.waitAbsent(pa)

	// The file removed: deregistered.
	if err := os.Remove(filepath.Join(rig.dir, "services/api.yaml")); err != nil {
		t.Fatal(err)
	}
	rig.waitAbsent("/elsewhere/api/" + rig.host.Name + ":" + strconv.Itoa(a.port))
}

func makeParents(c *gozk.Conn, p string) error {
	cur := ""
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for _, part := range parts[:len(parts)-1] {
		cur += "/" + part
		if _, err := c.Create(cur, nil, 0, gozk.WorldACL(gozk.PermAll)); err != nil && err != gozk.ErrNodeExists {
			return err
		}
	}
	return nil
}

// A ZooKeeper restart shorter than the session timeout: the session and its
// znodes survive, and the reporter goes on.
func TestReporterSurvivesZooKeeperRestart(t *testing.T) {
	rig := newRig(t)
	web := newHealthServer(t)
	rig.write("services/web.yaml", fmt.Sprintf("port: %d\ndiscovery: zookeeper\nchecks:\n  interval: 100ms\n  http: {uri: /health, rise: 1, fall: 1}\n", web.port))
	rig.start()
	p := rig.znode("web", web.port)
	rig.waitPresent(p)
	rig.zk.Stop()
	web.healthy.Store(false) // goes down while ZooKeeper is away
	rig.zk.Start()
	rig.waitAbsent(p)
	web.healthy.Store(true)
	rig.waitPresent(p)
	if took := rig.stop(); took > time.Second {
		t.Errorf("stopping took %v", took)
	}
	if _, _, ok := rig.get(p); ok {
		t.Error("still registered after stop")
	}
}

// countingProber is the real prober, counting the checks in flight per
// port and check type.
type countingProber struct {
	inner    probe.Prober
	mu       sync.Mutex
	inFlight map[string]int
	maxIn    map[string]int
	calls    atomic.Int64
}

func (c *countingProber) Probe(ctx context.Context, host string, port int, ch model.Check) error {
	key := fmt.Sprintf("%d/%s", port, ch.Type)
	c.mu.Lock()
	c.inFlight[key]++
	c.maxIn[key] = max(c.maxIn[key], c.inFlight[key])
	c.mu.Unlock()
	c.calls.Add(1)
	defer func() {
		c.mu.Lock()
		c.inFlight[key]--
		c.mu.Unlock()
	}()
	return c.inner.Probe(ctx, host, port, ch)
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 64)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// Checks that hang until their timeout (the interval) never overlap with
// the next round, also across a config change; and a service is up only
// when all its checks pass.
func TestReporterRoundsNeverOverlap(t *testing.T) {
	rig := newRig(t)
	p1, p2 := silentServer(t), silentServer(t)
	web := newHealthServer(t)
	service := func(fall int) string {
		return fmt.Sprintf(`ports: [%d, %d]
discovery: zookeeper
checks:
  interval: 100ms
  tcp: {query: ping, response: pong, rise: 1, fall: %d}
  http: {uri: /health, rise: 1, fall: %d}
`, p1, p2, fall, fall)
	}
	rig.write("services/slow.yaml", service(1))
	rig.write("services/web.yaml", fmt.Sprintf(`port: %d
discovery: zookeeper
checks:
  interval: 100ms
  http: {uri: /health, rise: 1, fall: 1}
  tcp: {rise: 1, fall: 1}
`, web.port))
	prober := &countingProber{inFlight: map[string]int{}, maxIn: map[string]int{}}
	log := newTestLogger(t)
	src, err := effects.WatchConfigDir(rig.dir, log)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rep := &runtime.Reporter{Log: log, Config: src, Prober: prober, Host: rig.host,
		NewRegistry: func(d model.Discovery) (runtime.Registry, error) {
			return zk.ConnectDiscovery(d, log)
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rep.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	pw := rig.znode("web", web.port)
	rig.waitPresent(pw)
	// http fails, tcp (connect) still passes: down.
	web.healthy.Store(false)
	rig.waitAbsent(pw)
	web.healthy.Store(true)
	rig.waitPresent(pw)

	start := prober.calls.Load()
	testenv.WaitFor(t, 5*time.Second, "a few rounds", func() bool { return prober.calls.Load()-start >= 3*8 })
	rig.write("services/slow.yaml", service(2)) // restarts the rounds mid-round
	start = prober.calls.Load()
	testenv.WaitFor(t, 5*time.Second, "a few more rounds", func() bool { return prober.calls.Load()-start >= 3*8 })
	prober.mu.Lock()
	defer prober.mu.Unlock()
	for key, n := range prober.maxIn {
		if n != 1 {
			t.Errorf("%s: %d checks in flight at once", key, n)
		}
	}
	if len(prober.maxIn) != 6 {
		t.Errorf("checks seen: %v", prober.maxIn)
	}
}
