package haproxy

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"lighthouse/model"
)

// fakeMaster is a master CLI that answers from a script, with a live
// process called "haproxy" (a copy of sleep) for the pid file, so that
// Reload's reading of each release's answers is tested without timing.
type fakeMaster struct {
	Process
	mu       sync.Mutex
	answer   func(cmd string) string // under mu
	commands []string
}

func newFakeMaster(t *testing.T, v model.Version, answer func(cmd string) string) *fakeMaster {
	t.Helper()
	dir := t.TempDir()
	sleepBin, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	b, err := os.ReadFile(sleepBin)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "haproxy")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	f := &fakeMaster{answer: answer, Process: Process{
		Binary: bin, Version: v, ConfigFile: filepath.Join(dir, "haproxy.cfg"),
		PidFile: filepath.Join(dir, "haproxy.pid"), MasterSocket: filepath.Join(dir, "master.sock"),
	}}
	if err := os.WriteFile(f.PidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", f.MasterSocket)
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
			line, _ := bufio.NewReader(c).ReadString('\n')
			line = strings.TrimSpace(line)
			f.mu.Lock()
			f.commands = append(f.commands, line)
			a := f.answer(line)
			f.mu.Unlock()
			fmt.Fprint(c, a)
			c.Close()
		}
	}()
	return f
}

func (f *fakeMaster) sent(cmd string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.commands {
		if c == cmd {
			n++
		}
	}
	return n
}

// showProc is a `show proc` answer: the master's counters, then worker
// lines "PID RELOADS" under # workers and, after "old", # old workers.
func showProc(reloads, failed int, workers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#<PID>          <type>          <reloads>       <uptime>        <version>\n")
	fmt.Fprintf(&b, "100             master          %d [failed: %d]   0d00h00m01s     3.2.0\n# workers\n", reloads, failed)
	for _, w := range workers {
		if w == "old" {
			b.WriteString("# old workers\n")
			continue
		}
		pid, n, _ := strings.Cut(w, " ")
		fmt.Fprintf(&b, "%-15s worker          %-15s 0d00h00m00s     3.2.0\n", pid, n)
	}
	return b.String()
}

func TestReloadAnswers(t *testing.T) {
	v26 := model.Version{Major: 2, Minor: 6, Patch: 12}
	v32 := model.Version{Major: 3, Minor: 2}
	t.Run("3.2 busy, then reloads", func(t *testing.T) {
		reloads, ready := 0, false
		f := newFakeMaster(t, v32, func(cmd string) string {
			switch {
			case cmd == "show proc" && reloads == 0:
				return showProc(0, 0, "101 0")
			case cmd == "show proc":
				return showProc(1, 0, "102 0", "old", "101 1")
			case cmd == "reload" && reloads == 0 && !ready:
				ready = true
				return "Success=0\n--\nAnother reload is still in progress.\n"
			case cmd == "reload":
				reloads++
				return "Success=1\n--\n[NOTICE]   (100) : Loading success.\n"
			}
			return "Unknown command: '" + cmd + "'\n"
		})
		if err := f.Reload(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		// The report says the new worker has loaded: no need to ask.
		if f.sent("reload") != 2 || f.sent("_loadstatus") != 0 {
			t.Errorf("reload sent %d times, _loadstatus %d times; want 2 and 0", f.sent("reload"), f.sent("_loadstatus"))
		}
	})
	t.Run("3.2 without a report, new worker still loading", func(t *testing.T) {
		reloads, asked := 0, 0
		f := newFakeMaster(t, v32, func(cmd string) string {
			switch {
			case cmd == "show proc" && reloads == 0:
				return showProc(0, 0, "101 0")
			case cmd == "show proc":
				return showProc(1, 0, "102 0", "old", "101 1")
			case cmd == "reload":
				reloads++
				return "" // e.g. the connection was cut
			case cmd == "_loadstatus":
				if asked++; asked < 3 {
					return "" // HAProxy holds it; a cut connection answers nothing
				}
				return "Success=1\n--\n"
			}
			return "Unknown command\n"
		})
		if err := f.Reload(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if asked != 3 {
			t.Errorf("_loadstatus asked %d times, want 3", asked)
		}
	})
	t.Run("3.2 fails", func(t *testing.T) {
		reloads := 0
		f := newFakeMaster(t, v32, func(cmd string) string {
			switch {
			case cmd == "show proc" && reloads == 0:
				return showProc(0, 0, "101 0")
			case cmd == "show proc":
				return showProc(1, 1, "old", "101 1")
			case cmd == "reload":
				reloads++
				return "Success=0\n--\n[NOTICE]   (103) : haproxy version is 3.2.0\n" +
					"[ALERT]    (103) : config : parsing [/x/haproxy.cfg:22] : unknown keyword 'bogus_directive' in 'backend' section\n" +
					"[WARNING]  (100) : Failed to load worker!\n"
			}
			return "Unknown command\n"
		})
		err := f.Reload(ctxT(t))
		if !errors.Is(err, ErrReloadFailed) || !strings.Contains(err.Error(), "Success=0: config : parsing [/x/haproxy.cfg:22] : unknown keyword 'bogus_directive'") {
			t.Fatalf("Reload = %v, want ErrReloadFailed with the alert", err)
		}
		// The serving worker is the current one, though listed as old.
		if w, err := f.WorkerPID(ctxT(t)); err != nil || w != 101 {
			t.Errorf("WorkerPID after the failure = %d, %v; want 101", w, err)
		}
	})
	t.Run("2.6 answers nothing", func(t *testing.T) {
		reloads, polled := 0, 0
		f := newFakeMaster(t, v26, func(cmd string) string {
			switch cmd {
			case "show proc":
				if reloads == 0 {
					return showProc(0, 0, "101 0")
				}
				if polled++; polled < 3 {
					return showProc(0, 0, "101 0") // the master re-executes
				}
				return showProc(1, 0, "102 0", "old", "101 1")
			case "reload":
				reloads++
				return ""
			}
			return "Unknown command\n"
		})
		if err := f.Reload(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if n := f.sent("@!102 show info"); n != 0 {
			t.Errorf("asked the worker %d times; 2.6 lists no loading worker", n)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if polled != 3 {
			t.Errorf("polled %d times; commands %q", polled, f.commands)
		}
	})
	t.Run("2.6 fails", func(t *testing.T) {
		reloads := 0
		f := newFakeMaster(t, v26, func(cmd string) string {
			switch {
			case cmd == "show proc" && reloads == 0:
				return showProc(0, 0, "101 0")
			case cmd == "show proc":
				return showProc(1, 1, "101 1")
			case cmd == "reload":
				reloads++
				return ""
			}
			return "Unknown command\n"
		})
		if err := f.Reload(ctxT(t)); !errors.Is(err, ErrReloadFailed) || !strings.Contains(err.Error(), "1 reloads, 1 failed") {
			t.Fatalf("Reload = %v, want ErrReloadFailed from show proc", err)
		}
	})
}
