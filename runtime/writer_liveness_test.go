package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lighthouse/effects/haproxy"
	"lighthouse/internal/testenv"
	"lighthouse/plan"
)

// killBound is how soon traffic must come back after HAProxy's master or
// worker is killed: the writer notices within milliseconds (a pidfd on
// each) and starts HAProxy again; the start takes most of it.
const killBound = time.Second

// An HAProxy killed (kill -9 of the master, then of the worker) serves
// again within killBound, under a light load. The writer's resync is an
// hour here: only the liveness watch can notice.
func TestWriterHAProxyKilled(t *testing.T) { testenv.ForEachHAProxy(t, testWriterHAProxyKilled) }

func testWriterHAProxyKilled(t *testing.T, r testenv.HAProxyRelease) {
	e := startWriterResync(t, r, time.Hour)
	b := startBackend(t, "app1", "127.0.0.61")
	e.register(e.conn, "web", b)
	testenv.WaitFor(t, 20*time.Second, "app1 serves", func() bool { return sameSet(seen(e.webPort, 2), "app1") })
	e.checkRelease(e.proc())
	e.waitStarted()
	e.waitIdle()
	for _, victim := range []string{"master", "worker"} {
		master, ok := e.local.Process.Running(context.Background())
		if !ok {
			t.Fatal("HAProxy is not running")
		}
		pid := master
		if victim == "worker" {
			// The worker that serves says its pid itself.
			info, err := e.local.Socket.ShowInfo(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			pid = info.Pid
		}
		out := measureOutage(t, e.webPort, func() { syscall.Kill(pid, syscall.SIGKILL) })
		t.Logf("HAProxy %s: kill -9 of the %s: traffic back after %v (%d of %d requests failed)", r.Version, victim, out.down.Round(time.Millisecond), out.failed, out.failed+out.ok)
		if out.down > killBound {
			t.Errorf("HAProxy %s: kill -9 of the %s: traffic came back after %v, want within %v", r.Version, victim, out.down, killBound)
		}
		if now, ok := e.local.Process.Running(context.Background()); !ok || now == master {
			t.Errorf("HAProxy %s: after the %s was killed the master is %d (running %v), was %d", r.Version, victim, now, ok, master)
		}
	}
}

// stopBound is how soon traffic must come back after HAProxy's worker is
// stopped (SIGSTOP): about 0.4 s of probes without an answer, then a kill
// and a start.
const stopBound = 1500 * time.Millisecond

// A stopped worker (SIGSTOP) is noticed by the probes of the admin socket;
// HAProxy is killed and started again, and serves within stopBound.
func TestWriterHAProxyWorkerStopped(t *testing.T) {
	testenv.ForEachHAProxy(t, testWriterHAProxyWorkerStopped)
}

func testWriterHAProxyWorkerStopped(t *testing.T, r testenv.HAProxyRelease) {
	e := startWriterResync(t, r, time.Hour)
	b := startBackend(t, "app1", "127.0.0.62")
	e.register(e.conn, "web", b)
	testenv.WaitFor(t, 20*time.Second, "app1 serves", func() bool { return sameSet(seen(e.webPort, 2), "app1") })
	e.checkRelease(e.proc())
	e.waitIdle()
	master, _ := e.local.Process.Running(context.Background())
	info, err := e.local.Socket.ShowInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	worker := info.Pid
	t.Cleanup(func() { syscall.Kill(worker, syscall.SIGCONT) })
	out := measureOutage(t, e.webPort, func() { syscall.Kill(worker, syscall.SIGSTOP) })
	t.Logf("HAProxy %s: SIGSTOP of the worker: traffic back after %v (%d of %d requests failed)", r.Version, out.down.Round(time.Millisecond), out.failed, out.failed+out.ok)
	if out.down > stopBound {
		t.Errorf("HAProxy %s: SIGSTOP of the worker: traffic came back after %v, want within %v", r.Version, out.down, stopBound)
	}
	if now, ok := e.local.Process.Running(context.Background()); !ok || now == master {
		t.Errorf("HAProxy %s: the master is %d (running %v), was %d: not restarted", r.Version, now, ok, master)
	}
	if !strings.Contains(e.logs.String(), "killed HAProxy") {
		t.Errorf("HAProxy %s: the kill is not logged", r.Version)
	}
}

// An HAProxy killed while no candidate config can be written (here a
// directory stands where the candidate goes, as a full disk would refuse
// it) starts again on the last good file on disk, within killBound.
func TestWriterHAProxyKilledCannotWrite(t *testing.T) {
	testenv.ForEachHAProxy(t, testWriterHAProxyKilledCannotWrite)
}

func testWriterHAProxyKilledCannotWrite(t *testing.T, r testenv.HAProxyRelease) {
	e := startUnwritable(t, r, "127.0.0.63")
	master, _ := e.local.Process.Running(context.Background())
	out := measureOutage(t, e.webPort, func() { syscall.Kill(master, syscall.SIGKILL) })
	t.Logf("HAProxy %s: kill -9 of the master, no candidate writable: traffic back after %v (%d of %d requests failed)", r.Version, out.down.Round(time.Millisecond), out.failed, out.failed+out.ok)
	if out.down > killBound {
		t.Errorf("HAProxy %s: traffic came back after %v, want within %v", r.Version, out.down, killBound)
	}
}

// An HAProxy killed while the file on disk cannot start it (here a file
// that HAProxy rejects) is started on the rendered config instead: the start
// on the file fails, that is fed back (the Outcome recorded with the planner), and the next
// plan validates, writes and starts the rendered config.
func TestWriterHAProxyKilledBadFile(t *testing.T) {
	testenv.ForEachHAProxy(t, testWriterHAProxyKilledBadFile)
}

func testWriterHAProxyKilledBadFile(t *testing.T, r testenv.HAProxyRelease) {
	e := startWriterResync(t, r, time.Hour)
	b := startBackend(t, "app1", "127.0.0.64")
	e.register(e.conn, "web", b)
	testenv.WaitFor(t, 20*time.Second, "app1 serves", func() bool { return sameSet(seen(e.webPort, 2), "app1") })
	e.waitIdle()
	master, _ := e.local.Process.Running(context.Background())
	out := measureOutage(t, e.webPort, func() {
		writeFile(t, e.local.Process.ConfigFile, "global\n    no-such-keyword\n")
		syscall.Kill(master, syscall.SIGKILL)
	})
	t.Logf("HAProxy %s: kill -9 of the master, a file it cannot start on: traffic back after %v (%d of %d requests failed)", r.Version, out.down.Round(time.Millisecond), out.failed, out.failed+out.ok)
	if out.down > 2*killBound {
		t.Errorf("HAProxy %s: traffic came back after %v, want within %v", r.Version, out.down, 2*killBound)
	}
	if file, _ := os.ReadFile(e.local.Process.ConfigFile); !strings.Contains(string(file), b.znode()) {
		t.Errorf("HAProxy %s: the config file is not the rendered one:\n%s", r.Version, file)
	}
}

// A start on the file on disk that fails for a passing reason, while no
// candidate can be written, does not keep HAProxy down: the file is started
// on again once plan.StartRetry has passed, and the writer wakes for it
// (its resync is an hour). Here a directory holds the pid file's path (the
// start cannot clear it) when HAProxy is killed, and is gone again at once.
func TestWriterStartRetried(t *testing.T) {
	r := testenv.HAProxyReleases(t)[0] // the writer's retry, not the release's
	e := startUnwritable(t, r, "127.0.0.64")
	master, ok := e.local.Process.Running(context.Background())
	if !ok {
		t.Fatal("HAProxy is not running")
	}
	pidFile := e.local.Process.PidFile
	os.Remove(pidFile)
	if err := os.MkdirAll(filepath.Join(pidFile, "taken"), 0o755); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(master, syscall.SIGKILL)
	testenv.WaitFor(t, 10*time.Second, "the start on the file failed", func() bool {
		return strings.Contains(e.logs.String(), "remove stale pid file")
	})
	failed := time.Now()
	// The killed master's worker leaves when it sees its master gone; until
	// then it may still answer, which is not a start.
	testenv.WaitFor(t, 5*time.Second, "the killed HAProxy's worker gone", func() bool {
		_, err := get(e.webPort)
		return err != nil
	})
	if err := os.RemoveAll(pidFile); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, plan.StartRetry+5*time.Second, "app1 serves again", func() bool { return sameSet(seen(e.webPort, 2), "app1") })
	back := time.Since(failed)
	t.Logf("HAProxy %s: back %v after the failed start (StartRetry %v)", r.Version, back.Round(time.Millisecond), plan.StartRetry)
	if back < plan.StartRetry-time.Second {
		t.Errorf("HAProxy was started on the file a start failed on after %v, before StartRetry (%v)", back, plan.StartRetry)
	}
	if !strings.Contains(e.logs.String(), "try that file again") {
		t.Errorf("the retry on the file is not in the writer's plan log")
	}
}

// startUnwritable starts a writer (resync an hour) whose HAProxy serves
// app1 at ip, waits until the writer confirmed HAProxy's start and wrote
// the file that runs, then has a directory stand where the candidate
// config goes, as a full disk would refuse it: from then on no candidate
// can be written.
func startUnwritable(t *testing.T, r testenv.HAProxyRelease, ip string) *writerEnv {
	t.Helper()
	e := startWriterResync(t, r, time.Hour)
	b := startBackend(t, "app1", ip)
	e.register(e.conn, "web", b)
	testenv.WaitFor(t, 20*time.Second, "app1 serves", func() bool { return sameSet(seen(e.webPort, 2), "app1") })
	e.waitStarted()
	e.waitIdle()
	blocker := e.local.Process.ConfigFile + haproxy.CandidateSuffix
	os.Remove(blocker)
	if err := os.MkdirAll(filepath.Join(blocker, "full"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(blocker) })
	return e
}

// waitStarted waits until the writer has confirmed HAProxy's start: a
// fault injected while the start is still being confirmed would make it a
// failed start, which is another test.
func (e *writerEnv) waitStarted() {
	e.t.Helper()
	testenv.WaitFor(e.t, 10*time.Second, "the writer confirmed HAProxy's start", func() bool {
		return strings.Contains(e.logs.String(), "started HAProxy")
	})
}

// waitIdle waits until the writer is done with its last change: the file
// syncer has written the config file that runs.
func (e *writerEnv) waitIdle() {
	e.t.Helper()
	testenv.WaitFor(e.t, 10*time.Second, "the file on disk is the config that runs", func() bool {
		states, err := e.local.Socket.ShowServersState(context.Background(), "")
		if err != nil {
			return false
		}
		file, _ := os.ReadFile(e.local.Process.ConfigFile)
		for _, s := range states {
			if !strings.Contains(string(file), s.Name) {
				return false
			}
		}
		return len(states) > 0
	})
	time.Sleep(100 * time.Millisecond)
}

// outage is what a light load saw of an outage.
type outage struct {
	down       time.Duration // from the fault to the first success after the last failure; 0 when nothing failed
	failed, ok int
}

// measureOutage runs two clients against port, causes the fault, and
// returns once requests have succeeded for 300 ms in a row (failing the
// test after 10 s).
func measureOutage(t *testing.T, port int, fault func()) outage {
	t.Helper()
	type sample struct {
		at time.Time
		ok bool
	}
	var mu sync.Mutex
	var samples []sample
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := get(port)
				mu.Lock()
				samples = append(samples, sample{time.Now(), err == nil})
				mu.Unlock()
				if err != nil {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	fault()
	deadline := start.Add(10 * time.Second)
	// Back: since the last failure (or since the fault, if nothing failed),
	// 300 ms have passed and at least 20 requests succeeded after it. A
	// request that hangs adds no sample, so it never counts as back.
	for {
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		since := start
		for _, s := range samples {
			if !s.ok && s.at.After(since) {
				since = s.at
			}
		}
		oks := 0
		for _, s := range samples {
			if s.ok && s.at.After(since) {
				oks++
			}
		}
		mu.Unlock()
		if time.Since(since) > 300*time.Millisecond && oks >= 20 {
			break
		}
		if time.Now().After(deadline) {
			close(stop)
			wg.Wait()
			t.Fatalf("traffic is not back 10 s after the fault")
		}
	}
	close(stop)
	wg.Wait()
	var out outage
	var lastFail time.Time
	for _, s := range samples {
		if s.at.Before(start) {
			continue
		}
		if s.ok {
			out.ok++
		} else {
			out.failed++
			if s.at.After(lastFail) {
				lastFail = s.at
			}
		}
	}
	if lastFail.IsZero() {
		return out
	}
	back := time.Time{}
	for _, s := range samples {
		if s.ok && s.at.After(lastFail) && (back.IsZero() || s.at.Before(back)) {
			back = s.at
		}
	}
	out.down = back.Sub(start)
	return out
}
