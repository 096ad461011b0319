package proc

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A program is stopped with its group, a clean SIGTERM stop is clean, one
// that ignores SIGTERM is killed after the grace, and the log holds what
// it printed after the start line.
func TestStartStop(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "p.log")
	p, err := Start("test", dir, log, []string{"/bin/sh", "-c", "echo hello; sleep 30 & wait"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if p.Exited() {
		t.Fatalf("exited at once: %v", p.Err())
	}
	if killed := p.Stop(5*time.Second, nil); killed {
		t.Error("killed although it stops on SIGTERM")
	}
	if !CleanExit(p.Err()) {
		t.Errorf("a SIGTERM stop is not clean: %v", p.Err())
	}
	// What the shell forked was killed too (a killed child may take a
	// moment to be reaped by init).
	deadline := time.Now().Add(2 * time.Second)
	for syscall.Kill(-p.Pid(), 0) == nil {
		if time.Now().After(deadline) {
			t.Fatal("the process group outlived Stop")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := LogTail(log, 1<<10); !strings.HasPrefix(got, "=== test ") || !strings.HasSuffix(got, "hello") {
		t.Errorf("log: %q", got)
	}

	stubborn, err := Start("test", dir, log, []string{"/bin/sh", "-c", "trap '' TERM; sleep 30"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if killed := stubborn.Stop(200*time.Millisecond, nil); !killed {
		t.Error("a program that ignores SIGTERM was not killed")
	}
}

func TestLogTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.log")
	if err := os.WriteFile(path, []byte("one\ntwo\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := LogTail(path, 100); got != "one\ntwo\nthree" {
		t.Errorf("whole: %q", got)
	}
	if got := LogTail(path, 8); got != "(... 8 bytes before ...)\nthree" {
		t.Errorf("cut: %q", got)
	}
	if got := LogTail(filepath.Join(t.TempDir(), "none"), 8); !strings.HasPrefix(got, "(cannot read ") {
		t.Errorf("missing: %q", got)
	}
}
