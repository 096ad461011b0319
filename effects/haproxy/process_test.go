package haproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"lighthouse/internal/testenv"
)

func proxyTo(fe, port int) string {
	return fmt.Sprintf(`frontend fe
    bind 127.0.0.1:%d
    default_backend web

backend web
    balance roundrobin
    server s1 127.0.0.1:%d
`, fe, port)
}

func TestValidate(t *testing.T) {
	t.Parallel()
	forEachRelease(t, testValidate)
}

func testValidate(t *testing.T, r testenv.HAProxyRelease) {
	dir := testenv.ShortTempDir(t)
	p := Process{Binary: r.Binary, Version: r.Version}
	good := filepath.Join(dir, "good.cfg")
	bad := filepath.Join(dir, "bad.cfg")
	os.WriteFile(good, []byte(header(dir)+proxyTo(testenv.FreePort(t), 9)), 0o644)
	os.WriteFile(bad, []byte(header(dir)+proxyTo(testenv.FreePort(t), 9)+"    bogus_directive\n"), 0o644)

	start := time.Now()
	if err := p.Validate(ctxT(t), good); err != nil {
		t.Errorf("Validate(good) = %v", err)
	}
	t.Logf("Validate (ok) took %v", time.Since(start).Round(time.Millisecond))

	start = time.Now()
	err := p.Validate(ctxT(t), bad)
	t.Logf("Validate (rejected) took %v", time.Since(start).Round(time.Millisecond))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate(bad) = %v, want a *ValidationError", err)
	}
	if ve.Path != bad || !strings.Contains(ve.Output, "unknown keyword 'bogus_directive'") || !strings.Contains(err.Error(), fmt.Sprintf("bad.cfg:%d] : unknown keyword 'bogus_directive'", lines(t, bad))) {
		t.Errorf("ValidationError: %v\noutput:\n%s", err, ve.Output)
	}
	t.Logf("rejection: %v", err)

	// A missing file is a rejection too (haproxy exits 1 with an alert).
	if err := p.Validate(ctxT(t), filepath.Join(dir, "nosuch.cfg")); !errors.As(err, &ve) {
		t.Errorf("Validate(missing) = %v, want a *ValidationError", err)
	}
	// A missing binary is not.
	q := Process{Binary: filepath.Join(dir, "no-haproxy")}
	if err := q.Validate(ctxT(t), good); err == nil || errors.As(err, &ve) {
		t.Errorf("Validate with a missing binary = %v, want a plain error", err)
	}
}

// TestProcessLifecycle: Start, Running, Reload (good, then broken while the
// old worker keeps serving, then good again), Stop, and Start again on the
// files a stopped HAProxy left behind.
func TestProcessLifecycle(t *testing.T) {
	t.Parallel()
	forEachRelease(t, testProcessLifecycle)
}

func testProcessLifecycle(t *testing.T, r testenv.HAProxyRelease) {
	fe := testenv.FreePort(t)
	portA, portB, portC := backend(t, "A"), backend(t, "B"), backend(t, "C")
	in := newInstance(t, r, proxyTo(fe, portA))

	if err := in.Reload(ctxT(t)); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Reload before Start = %v, want ErrNotRunning", err)
	}
	if _, ok := in.Running(ctxT(t)); ok {
		t.Error("Running before Start")
	}
	start := time.Now()
	if err := in.Start(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	t.Logf("Start took %v", time.Since(start).Round(time.Millisecond))
	pid, ok := in.Running(ctxT(t))
	b, _ := os.ReadFile(in.PidFile)
	if !ok || strconv.Itoa(pid)+"\n" != string(b) {
		t.Fatalf("Running = %d, %v; pid file %q", pid, ok, b)
	}
	w1, err := in.WorkerPID(ctxT(t))
	if err != nil || w1 == pid {
		t.Fatalf("WorkerPID = %d, %v (master %d)", w1, err, pid)
	}
	wantBody(t, fe, "A")
	if err := in.Start(ctxT(t)); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second Start = %v, want ErrAlreadyRunning", err)
	}

	// A structural change, the way the writer makes it: candidate beside
	// the live file, validated, installed, reloaded.
	cand, err := WriteCandidate(in.ConfigFile, []byte(header(in.Dir)+proxyTo(fe, portB)))
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Validate(ctxT(t), cand); err != nil {
		t.Fatal(err)
	}
	if ok, err := Install(cand, in.ConfigFile); !ok || err != nil {
		t.Fatalf("Install = %v, %v", ok, err)
	}
	start = time.Now()
	if err := in.Reload(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	t.Logf("Reload took %v", time.Since(start).Round(time.Millisecond))
	w2, err := in.WorkerPID(ctxT(t))
	if err != nil || w2 == w1 {
		t.Fatalf("worker after reload = %d, %v; before %d", w2, err, w1)
	}
	if p2, _ := in.Running(ctxT(t)); p2 != pid {
		t.Errorf("master pid changed across reload: %d → %d", pid, p2)
	}
	wantBodySoon(t, fe, "B")

	// A broken file reaches the live path (it should not: Validate first):
	// the reload fails, the old worker keeps serving the old config.
	broken := header(in.Dir) + proxyTo(fe, portC) + "    bogus_directive\n"
	if err := WriteFileAtomic(in.ConfigFile, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	err = in.Reload(ctxT(t))
	t.Logf("failed Reload took %v: %v", time.Since(start).Round(time.Millisecond), err)
	var ve *ValidationError
	if !errors.Is(err, ErrReloadFailed) || !errors.As(err, &ve) || !strings.Contains(ve.Output, "bogus_directive") {
		t.Fatalf("Reload of a broken file = %v, want ErrReloadFailed with the ValidationError", err)
	}
	if w, err := in.WorkerPID(ctxT(t)); err != nil || w != w2 {
		t.Errorf("worker after the failed reload = %d, %v; want still %d", w, err, w2)
	}
	wantBody(t, fe, "B")
	info, err := in.Admin.ShowInfo(ctxT(t))
	if err != nil || info.Pid != w2 || info.Stopping {
		t.Errorf("show info after the failed reload: pid %d stopping %v (%v), want %d serving", info.Pid, info.Stopping, err, w2)
	}

	// Fixed: the next reload succeeds (and resets "[failed: N]").
	if err := WriteFileAtomic(in.ConfigFile, []byte(header(in.Dir)+proxyTo(fe, portC)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := in.Reload(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	w3, _ := in.WorkerPID(ctxT(t))
	if w3 == w2 {
		t.Error("no new worker after the repaired reload")
	}
	if pl, err := in.ShowProc(ctxT(t)); err != nil || pl.Failed != 0 || pl.Master.Reloads != 3 || pl.Master.PID != pid {
		t.Errorf("show proc after 3 reloads = %+v, %v", pl, err)
	}
	wantBodySoon(t, fe, "C")

	start = time.Now()
	if err := in.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	t.Logf("Stop (soft) took %v", time.Since(start).Round(time.Millisecond))
	if _, ok := in.Running(ctxT(t)); ok || alive(pid) {
		t.Error("still running after Stop")
	}
	if _, err := os.Stat(in.PidFile); !os.IsNotExist(err) {
		t.Errorf("pid file after Stop: %v", err)
	}
	// The socket files stay; nothing listens on them.
	if _, err := in.Admin.ShowInfo(ctxT(t)); !errors.Is(err, ErrSocketUnavailable) {
		t.Errorf("ShowInfo after Stop = %v, want ErrSocketUnavailable", err)
	}
	if _, err := in.WorkerPID(ctxT(t)); !errors.Is(err, ErrSocketUnavailable) {
		t.Errorf("WorkerPID after Stop = %v, want ErrSocketUnavailable", err)
	}
	if err := in.Stop(ctxT(t)); err != nil {
		t.Errorf("Stop when stopped = %v", err)
	}

	if err := in.Start(ctxT(t)); err != nil {
		t.Fatalf("Start on the leftover sockets: %v", err)
	}
	wantBody(t, fe, "C")
}

// TestStartWithDaemonInGlobal: a user's global lines may hold `daemon` and
// `master-worker`; Start and Reload work the same.
func TestStartWithDaemonInGlobal(t *testing.T) {
	t.Parallel()
	forEachRelease(t, testStartWithDaemonInGlobal)
}

func testStartWithDaemonInGlobal(t *testing.T, r testenv.HAProxyRelease) {
	fe := testenv.FreePort(t)
	in := startInstance(t, r, proxyTo(fe, backend(t, "A")), "daemon", "master-worker")
	wantBody(t, fe, "A")
	w1, err := in.WorkerPID(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Reload(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if w2, err := in.WorkerPID(ctxT(t)); err != nil || w2 == w1 {
		t.Errorf("worker after reload = %d, %v; before %d", w2, err, w1)
	}
	wantBody(t, fe, "A")
}

func TestStartFailures(t *testing.T) {
	t.Parallel()
	forEachRelease(t, testStartFailures)
}

func testStartFailures(t *testing.T, r testenv.HAProxyRelease) {
	t.Run("invalid config", func(t *testing.T) {
		in := newInstance(t, r, proxyTo(testenv.FreePort(t), 9)+"    bogus_directive\n")
		err := in.Start(ctxT(t))
		if err == nil || !strings.Contains(err.Error(), "unknown keyword 'bogus_directive'") {
			t.Fatalf("Start = %v, want HAProxy's alert", err)
		}
		t.Logf("as expected: %v", err)
		if _, ok := in.Running(ctxT(t)); ok {
			t.Error("Running after a failed Start")
		}
	})
	t.Run("port in use", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0") // no SO_REUSEPORT
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		in := newInstance(t, r, proxyTo(l.Addr().(*net.TCPAddr).Port, 9))
		err = in.Start(ctxT(t))
		if err == nil || !strings.Contains(err.Error(), "Address already in use") {
			t.Fatalf("Start = %v, want HAProxy's bind alert", err)
		}
		t.Logf("as expected: %v", err)
	})
	t.Run("missing fields", func(t *testing.T) {
		if err := (Process{ConfigFile: "/x.cfg"}).Start(ctxT(t)); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Start without pid file and master socket = %v", err)
		}
	})
}

// TestStalePidFile: a pid file naming a process that is not haproxy (this
// test binary, a sleep) or no process at all is not trusted (W13): Running
// says no, Reload refuses, Stop signals nothing, Start starts.
func TestStalePidFile(t *testing.T) {
	t.Parallel()
	forEachRelease(t, testStalePidFile)
}

func testStalePidFile(t *testing.T, r testenv.HAProxyRelease) {
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleep.Process.Kill(); sleep.Wait() })
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	fe := testenv.FreePort(t)
	in := newInstance(t, r, proxyTo(fe, backend(t, "A")))
	for name, content := range map[string]string{
		"test process": strconv.Itoa(os.Getpid()) + "\n",
		"sleep":        strconv.Itoa(sleep.Process.Pid) + "\n",
		"exited":       strconv.Itoa(gone.Process.Pid) + "\n",
		"garbage":      "not a pid\n",
		"empty":        "",
		"zero":         "0\n",
	} {
		if err := os.WriteFile(in.PidFile, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if pid, ok := in.Running(context.Background()); ok {
			t.Errorf("%s: Running = %d, true", name, pid)
		}
		if err := in.Reload(ctxT(t)); !errors.Is(err, ErrNotRunning) {
			t.Errorf("%s: Reload = %v, want ErrNotRunning", name, err)
		}
	}
	os.Remove(in.PidFile)
	if _, ok := in.Running(context.Background()); ok {
		t.Error("Running without a pid file")
	}

	os.WriteFile(in.PidFile, []byte(strconv.Itoa(sleep.Process.Pid)+"\n"), 0o644)
	if err := in.Stop(ctxT(t)); err != nil {
		t.Errorf("Stop on a stale pid file = %v", err)
	}
	if !alive(sleep.Process.Pid) {
		t.Fatal("Stop signalled the process of a stale pid file")
	}
	if err := in.Start(ctxT(t)); err != nil {
		t.Fatalf("Start over a stale pid file: %v", err)
	}
	if pid, ok := in.Running(context.Background()); !ok || pid == sleep.Process.Pid {
		t.Errorf("Running after Start = %d, %v", pid, ok)
	}
	wantBody(t, fe, "A")
}

// lines counts the lines of a file.
func lines(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

func TestMasterSocketPath(t *testing.T) {
	if got := MasterSocketPath("/run/lighthouse/haproxy.sock"); got != "/run/lighthouse/haproxy.sock.master" {
		t.Errorf("MasterSocketPath = %q", got)
	}
}
