package runtime_test

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"lighthouse/effects/testenv"
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
	for _, victim := range []string{"master", "worker"} {
		master, ok := e.local.Process.Running(context.Background())
		if !ok {
			t.Fatal("HAProxy is not running")
		}
		pid := master
		if victim == "worker" {
			pid = e.proc().Workers[0].PID
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
	for {
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		var lastFail time.Time
		for _, s := range samples {
			if !s.ok && s.at.After(lastFail) {
				lastFail = s.at
			}
		}
		n := len(samples)
		mu.Unlock()
		if n > 0 && time.Since(start) > 300*time.Millisecond && time.Since(lastFail) > 300*time.Millisecond {
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
