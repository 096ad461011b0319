package haproxy

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
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
