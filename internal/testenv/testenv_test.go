package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"lighthouse/model"
	"lighthouse/model/haproxyapi"
)

func TestFreePortAndShortTempDir(t *testing.T) {
	seen := map[int]bool{}
	for range 20 {
		p := FreePort(t)
		if p <= 0 || p > 65535 || seen[p] {
			t.Fatalf("FreePort = %d (seen before: %v)", p, seen[p])
		}
		seen[p] = true
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d from FreePort not bindable: %v", p, err)
		}
		l.Close()
	}
	// Another test binary sees every port FreePort gave as taken: its lock
	// is held by another open file, as another process would hold it.
	for p := range seen {
		f, err := os.Open(filepath.Join(os.TempDir(), "lighthouse-test-ports", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("port %d: no lock file: %v", p, err)
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			t.Fatalf("port %d from FreePort: another process could lock it (%v)", p, err)
		}
	}
	// And a port another binary holds is not handed out.
	held := pickHigh + 1 // outside FreePort's range: no claim of this binary
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "lighthouse-test-ports", strconv.Itoa(held)), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// (EWOULDBLOCK: another run of this test holds it, which serves too.)
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil && !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("port %d: %v", held, err)
	}
	if claimPort(held) {
		t.Fatalf("claimPort(%d) = true while another open file holds its lock", held)
	}
	var dir string
	t.Run("sub", func(t *testing.T) {
		dir = ShortTempDir(t)
		if len(dir) > 40 {
			t.Errorf("ShortTempDir = %q: too long for socket paths", dir)
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			t.Fatalf("ShortTempDir %q: %v", dir, err)
		}
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("ShortTempDir %q not removed at cleanup: %v", dir, err)
	}
}

// fakeTB records Skipf/Fatalf instead of ending the test.
type fakeTB struct {
	testing.TB
	skipped, fatal string
}

type stop struct{}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	panic(stop{})
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	panic(stop{})
}

func runFake(t *testing.T, fn func(tb testing.TB)) *fakeTB {
	f := &fakeTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(stop); !ok {
					panic(r)
				}
			}
		}()
		fn(f)
	}()
	return f
}

func TestRequire(t *testing.T) {
	t.Setenv("CI", "")
	f := runFake(t, func(tb testing.TB) { Require(tb, "sh") })
	if f.skipped != "" || f.fatal != "" {
		t.Errorf("Require(sh): skipped %q fatal %q", f.skipped, f.fatal)
	}
	f = runFake(t, func(tb testing.TB) { Require(tb, "no-such-binary-lh", "sh") })
	if !strings.Contains(f.skipped, "apt-get install -y no-such-binary-lh") || f.fatal != "" {
		t.Errorf("Require without CI: skipped %q fatal %q", f.skipped, f.fatal)
	}
	t.Setenv("CI", "true")
	f = runFake(t, func(tb testing.TB) { Require(tb, "no-such-binary-lh") })
	if !strings.Contains(f.fatal, "apt-get install -y no-such-binary-lh") || f.skipped != "" {
		t.Errorf("Require with CI: skipped %q fatal %q", f.skipped, f.fatal)
	}
}

func TestLookPathSbin(t *testing.T) {
	Require(t, "haproxy")
	t.Setenv("PATH", "/usr/bin:/bin") // a normal user's PATH on Debian
	if p := LookPath("haproxy"); p == "" {
		t.Errorf("LookPath(haproxy) with PATH=/usr/bin:/bin found nothing")
	}
	if p := LookPath("no-such-binary-lh"); p != "" {
		t.Errorf("LookPath(no-such-binary-lh) = %q", p)
	}
}

func TestWaitFor(t *testing.T) {
	n := 0
	WaitFor(t, time.Second, "n to reach 3", func() bool { n++; return n >= 3 })
	f := runFake(t, func(tb testing.TB) {
		WaitFor(tb, 50*time.Millisecond, "never", func() bool { return false })
	})
	if !strings.Contains(f.fatal, "timed out after 50ms waiting for never") {
		t.Errorf("WaitFor timeout message = %q", f.fatal)
	}
}

func TestZKSessionPassword(t *testing.T) {
	// Session id 0xB3415C00 gives java.util.Random seed 0, and
	// new Random(0).nextInt() == -1155484576; nextBytes stores each int
	// low byte first. (TestZooKeeper checks the whole password against a
	// live server: ExpireSession only works if it is right.)
	q := zkSessionPassword(0xB3415C00)
	if len(q) != 16 {
		t.Fatalf("len = %d", len(q))
	}
	first := int32(uint32(q[0]) | uint32(q[1])<<8 | uint32(q[2])<<16 | uint32(q[3])<<24)
	if first != -1155484576 {
		t.Errorf("first int of Random(0) = %d, want -1155484576", first)
	}
}

func TestZooKeeper(t *testing.T) {
	t0 := time.Now()
	z := StartZooKeeper(t)
	t.Logf("zookeeper serving on %s after %v", z.Addr, time.Since(t0))

	c := z.Conn(t)
	if _, err := c.Create("/services", []byte("persistent"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create("/services/eph", []byte("mine"), zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	data, st, err := c.Get("/services/eph")
	if err != nil || string(data) != "mine" || st.EphemeralOwner != c.SessionID() {
		t.Fatalf("Get eph = %q %+v %v (session 0x%x)", data, st, err, c.SessionID())
	}

	// Outage: stop, start on the same port; data kept; the client's session
	// survives (it reconnects within its timeout).
	t0 = time.Now()
	z.Stop()
	t.Logf("zookeeper stopped in %v", time.Since(t0))
	if _, err := net.DialTimeout("tcp", z.Addr, time.Second); err == nil {
		t.Fatal("zookeeper still accepting after Stop")
	}
	t0 = time.Now()
	z.Start()
	t.Logf("zookeeper serving again after %v", time.Since(t0))
	WaitFor(t, 10*time.Second, "the client to reconnect", func() bool {
		data, _, err := c.Get("/services")
		return err == nil && string(data) == "persistent"
	})
	if ok, _, err := c.Exists("/services/eph"); err != nil || !ok {
		t.Fatalf("ephemeral of the surviving session lost over the restart: %v %v", ok, err)
	}

	// Session expiry forced by id.
	c2, events := z.Connect(t, 4*time.Second)
	sid := c2.SessionID()
	if _, err := c2.Create("/services/eph2", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if !containsID(z.Sessions(), sid) || !containsID(z.Sessions(), c.SessionID()) {
		t.Fatalf("Sessions() = %x, want 0x%x and 0x%x in it", z.Sessions(), sid, c.SessionID())
	}
	t0 = time.Now()
	z.ExpireSession(t, sid)
	t.Logf("ExpireSession took %v", time.Since(t0))
	if ok, _, err := c.Exists("/services/eph2"); err != nil || ok {
		t.Fatalf("ephemeral of the expired session still there: %v %v", ok, err)
	}
	if containsID(z.Sessions(), sid) {
		t.Errorf("Sessions() still lists expired 0x%x", sid)
	}
	if ok, _, err := c.Exists("/services/eph"); err != nil || !ok {
		t.Fatalf("other session's ephemeral gone: %v %v", ok, err)
	}
	// The owner learns about it and gets a new session.
	sawExpired := false
	WaitFor(t, 10*time.Second, "the expired client to get a new session", func() bool {
		for {
			select {
			case ev := <-events:
				if ev.Type == zk.EventSession && ev.State == zk.StateExpired {
					sawExpired = true
				}
				continue
			default:
			}
			break
		}
		return sawExpired && c2.State() == zk.StateHasSession && c2.SessionID() != sid
	})

	// Expiring a session that does not exist fails.
	f := runFake(t, func(tb testing.TB) { z.ExpireSession(tb, sid) })
	if !strings.Contains(f.fatal, "no such live session") {
		t.Errorf("ExpireSession of dead session: %q", f.fatal)
	}
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func haproxyConfig(dir string, fePort, bePort int) string {
	return fmt.Sprintf(`global
    stats socket %s/admin.sock mode 600 level admin
    stats timeout 30s
    log stderr format short local0 notice

defaults
    mode http
    log global
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend fe
    bind 127.0.0.1:%d
    default_backend b

backend b
    server s1 127.0.0.1:%d
`, dir, fePort, bePort)
}

func TestHAProxy(t *testing.T) {
	ForEachHAProxy(t, testHAProxy)
}

func testHAProxy(t *testing.T, r HAProxyRelease) {
	dir := ShortTempDir(t)
	cfg := filepath.Join(dir, "haproxy.cfg")
	fe := FreePort(t)
	if err := os.WriteFile(cfg, []byte(haproxyConfig(dir, fe, FreePort(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	h := StartHAProxyRelease(t, r, cfg)
	t.Logf("haproxy %s serves after %v", r.Version, time.Since(t0))
	if v := r.Version.String(); !strings.Contains(h.ShowProc(), v) {
		t.Errorf("show proc does not name version %s:\n%s", v, h.ShowProc())
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(fe), time.Second); err != nil {
		t.Fatalf("frontend not accepting: %v", err)
	} else {
		c.Close()
	}

	workers := h.Workers()
	if len(workers) != 1 {
		t.Fatalf("workers = %v\n%s", workers, h.ShowProc())
	}
	info, err := HAProxyAdmin(filepath.Join(dir, "admin.sock"), "show info")
	if err != nil || !strings.Contains(info, "Name: HAProxy") || !strings.Contains(info, fmt.Sprintf("Pid: %d\n", workers[0])) {
		t.Fatalf("show info = %q, %v (worker %d)", info, err, workers[0])
	}

	t0 = time.Now()
	h.Reload()
	t.Logf("reload done after %v", time.Since(t0))
	after := h.Workers()
	if len(after) != 1 || after[0] == workers[0] {
		t.Fatalf("workers after reload = %v, before %v\n%s", after, workers, h.ShowProc())
	}

	// A reload with a broken config fails, and the worker stays.
	if err := os.WriteFile(cfg, []byte("global\n    bogus_directive\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.TryReload(); err == nil {
		t.Fatalf("reload of invalid config succeeded\n%s", h.ShowProc())
	} else {
		t.Logf("expected reload failure: %.200s", err)
	}
	if w := h.Workers(); len(w) != 1 || w[0] != after[0] {
		t.Fatalf("workers after failed reload = %v, want %v", w, after)
	}

	master := h.Cmd.Process.Pid
	t0 = time.Now()
	h.Stop()
	t.Logf("haproxy stopped in %v", time.Since(t0))
	for _, pid := range append([]int{master}, after...) {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("pid %d still exists after Stop: %v", pid, err)
		}
	}
}

func TestHAProxyCheck(t *testing.T) {
	ForEachHAProxy(t, func(t *testing.T, r HAProxyRelease) {
		ok, out := HAProxyCheckRelease(t, r, haproxyConfig("/tmp", 1234, 5678))
		if !ok || !strings.Contains(out, "Configuration file is valid") {
			t.Errorf("valid config: ok=%v output:\n%s", ok, out)
		}
		ok, out = HAProxyCheckRelease(t, r, "backend b\n    bogus_directive\n")
		if ok || !strings.Contains(out, "bogus_directive") {
			t.Errorf("invalid config: ok=%v output:\n%s", ok, out)
		}
	})
	// The Debian default the other helpers use.
	ok, out := HAProxyCheck(t, haproxyConfig("/tmp", 1234, 5678))
	if !ok || !strings.Contains(out, "Configuration file is valid") {
		t.Errorf("valid config: ok=%v output:\n%s", ok, out)
	}
	ok, out = HAProxyCheck(t, "backend b\n    bogus_directive\n")
	if ok || !strings.Contains(out, "bogus_directive") {
		t.Errorf("invalid config: ok=%v output:\n%s", ok, out)
	}
}

func TestRedis(t *testing.T) {
	t0 := time.Now()
	r := StartRedis(t)
	t.Logf("redis answering PING after %v", time.Since(t0))
	if err := r.Ping(); err != nil {
		t.Fatal(err)
	}
	r.Stop()
	if err := r.Ping(); err == nil {
		t.Fatal("PING answered after Stop")
	}
	addr := r.Addr
	t0 = time.Now()
	r.Start()
	t.Logf("redis answering PING again after %v", time.Since(t0))
	if r.Addr != addr {
		t.Fatalf("Addr changed from %s to %s", addr, r.Addr)
	}
	if err := r.Ping(); err != nil {
		t.Fatal(err)
	}
}

// What `show proc` lists after a failed reload: 2.6 keeps the serving
// worker under "# workers", 3.2 moves it to "# old workers".
func TestParseProc(t *testing.T) {
	v := func(s string) model.Version { v, _ := model.ParseVersion(s); return v }
	failed26 := `#<PID>          <type>          <reloads>       <uptime>        <version>      
14863           master          1 [failed: 1]   0d00h00m01s     2.6.12-1+deb12u4
# workers
14865           worker          1               0d00h00m01s     2.6.12-1+deb12u4
# programs
`
	failed32 := `#<PID>          <type>          <reloads>       <uptime>        <version>      
15473           master          2 [failed: 1]   0d00h00m00s     3.2.0-e134140d2
# workers
# old workers
15470           worker          2               0d00h00m00s     3.2.0-e134140d2
15475           worker          1               0d00h00m00s     3.2.0-e134140d2
`
	reloading32 := strings.Replace(failed32, "[failed: 1]", "[failed: 0]", 1)
	for _, c := range []struct {
		name, out string
		v         model.Version
		want      procInfo
	}{
		{"2.6 failed", failed26, v("2.6.12"), procInfo{ok: true, reloads: 1, failed: 1, workers: []int{14865}}},
		{"3.2 failed", failed32, v("3.2.0"), procInfo{ok: true, reloads: 2, failed: 1, workers: []int{15475}}},
		{"3.2 failed, version unknown", failed32, model.Version{}, procInfo{ok: true, reloads: 2, failed: 1, workers: []int{15475}}},
		{"3.2 failed, read as 3.0", failed32, v("3.0.0"), procInfo{ok: true, reloads: 2, failed: 1}},
		{"3.2 between reloads", reloading32, v("3.2.0"), procInfo{ok: true, reloads: 2}},
	} {
		got := parseProc(c.out, haproxyapi.AnswersFor(c.v))
		if got.ok != c.want.ok || got.reloads != c.want.reloads || got.failed != c.want.failed || !sameInts(got.workers, c.want.workers) {
			t.Errorf("%s: parseProc = %+v, want %+v", c.name, got, c.want)
		}
	}
}
