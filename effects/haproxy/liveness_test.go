package haproxy

import (
	"os/exec"
	"syscall"
	"testing"
	"time"

	"lighthouse/internal/testenv"
)

// watchExit notices a killed process within milliseconds, and a closed
// watch says nothing.
func TestWatchExit(t *testing.T) {
	start := func() *exec.Cmd {
		cmd := exec.Command("sleep", "30")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd
	}
	cmd := start()
	exited := make(chan time.Time, 1)
	w, err := watchExit(cmd.Process.Pid, func() { exited <- time.Now() })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	select {
	case <-exited:
		t.Fatal("notified while the process runs")
	case <-time.After(50 * time.Millisecond):
	}
	killed := time.Now()
	syscall.Kill(cmd.Process.Pid, syscall.SIGKILL) // a zombie until waited for: exited all the same
	select {
	case at := <-exited:
		if d := at.Sub(killed); d > 250*time.Millisecond {
			t.Errorf("noticed after %v", d)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the exit was not noticed")
	}

	cmd = start()
	closed := make(chan struct{}, 1)
	w2, err := watchExit(cmd.Process.Pid, func() { closed <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	w2.Close()
	syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-closed:
		t.Error("a closed watch notified")
	case <-time.After(100 * time.Millisecond):
	}

	if _, err := watchExit(1<<22+7, func() {}); err == nil {
		t.Error("watching a pid that does not exist: no error")
	}
}

// Local watches the HAProxy it observes: a stopped worker becomes
// Unresponsive within a second, Kill stops master and workers (the stopped
// one too), and a killed master is noticed at once. On every release.
func TestLocalLiveness(t *testing.T) { forEachRelease(t, testLocalLiveness) }

func testLocalLiveness(t *testing.T, r testenv.HAProxyRelease) {
	fe := testenv.FreePort(t)
	in := startInstance(t, r, proxyTo(fe, backend(t, "A")))
	l := &Local{Process: in.Process, Socket: in.Admin}
	obs, err := l.Observe(ctxT(t))
	if err != nil || !obs.Running || obs.Unresponsive {
		t.Fatalf("Observe: %+v, %v", obs, err)
	}
	worker, err := in.WorkerPID(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * probeEvery) // probes that answer
	if obs, _ := l.Observe(ctxT(t)); obs.Unresponsive {
		t.Fatal("a worker that answers is unresponsive")
	}

	syscall.Kill(worker, syscall.SIGSTOP)
	t.Cleanup(func() { syscall.Kill(worker, syscall.SIGCONT) })
	stopped := time.Now()
	select {
	case <-l.Liveness():
	case <-time.After(2 * time.Second):
		t.Fatal("no notice 2 s after the worker stopped")
	}
	noticed := time.Since(stopped)
	obs, err = l.Observe(ctxT(t))
	if err != nil || !obs.Running || !obs.Unresponsive {
		t.Fatalf("Observe of a stopped worker: %+v, %v", obs, err)
	}
	t.Logf("HAProxy %s: a stopped worker is unresponsive after %v", r.Version, noticed.Round(time.Millisecond))
	if noticed > time.Second {
		t.Errorf("noticed after %v, want within 1 s", noticed)
	}

	master, _ := in.Running(ctxT(t))
	if err := l.Kill(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if alive(worker) || alive(master) {
		t.Fatalf("after Kill: worker alive %v, master alive %v", alive(worker), alive(master))
	}
	select {
	case <-l.Liveness():
	case <-time.After(time.Second):
		t.Fatal("the killed master was not noticed")
	}
	if obs, _ := l.Observe(ctxT(t)); obs.Running || obs.Unresponsive {
		t.Fatalf("Observe after Kill: %+v", obs)
	}

	// A watch that was stopped says nothing.
	if err := in.Start(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if obs, _ := l.Observe(ctxT(t)); !obs.Running {
		t.Fatal("not running after Start")
	}
	l.StopWatching()
	select {
	case <-l.Liveness(): // the exit of the killed worker, noticed before
	default:
	}
	master, _ = in.Running(ctxT(t))
	syscall.Kill(master, syscall.SIGKILL)
	select {
	case <-l.Liveness():
		t.Error("notified after StopWatching")
	case <-time.After(200 * time.Millisecond):
	}
}
