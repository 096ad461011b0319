package haproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"lighthouse/model"
	"lighthouse/model/haproxyapi"
)

// DefaultWait bounds Start, Reload and Stop when the context has no
// deadline.
const DefaultWait = 10 * time.Second

// pollEvery is how often Start, Reload and Stop look again.
const pollEvery = 10 * time.Millisecond

// MasterSocketPath is the master CLI socket that goes with an admin socket:
// socketFile + ".master". The writer's config names one socket file; the
// master socket is derived from it by this convention.
func MasterSocketPath(socketFile string) string { return socketFile + ".master" }

// Process is one HAProxy master-worker instance, identified by its files.
// HAProxy is started daemonized, so it keeps serving when the writer exits
// or restarts; a later writer finds it again through PidFile and controls it
// through MasterSocket. A Process holds no state; Start, Reload and Stop of
// one instance must not overlap (Reload reads the master's reload counter
// before and after).
type Process struct {
	// Binary is the haproxy executable: a path, or a name looked up in PATH
	// and then in /usr/local/sbin, /usr/sbin and /sbin (Debian leaves sbin
	// off a normal user's PATH). "" means "haproxy".
	Binary string
	// ConfigFile is the live config file (-f).
	ConfigFile string
	// PidFile receives the master's pid (-p).
	PidFile string
	// MasterSocket is the master CLI socket (-S), see MasterSocketPath.
	MasterSocket string
	// Version is Binary's version: the master's answers are read as that
	// release's (haproxyapi.AnswersFor). The zero Version (unknown)
	// understands the answers of every supported release.
	Version model.Version
}

// answers returns what the master of this HAProxy answers.
func (p Process) answers() haproxyapi.Answers { return haproxyapi.AnswersFor(p.Version) }

// binary resolves Binary.
func (p Process) binary() (string, error) {
	name := p.Binary
	if name == "" {
		name = "haproxy"
	}
	if strings.Contains(name, "/") {
		return name, nil
	}
	path, err := exec.LookPath(name)
	if err == nil {
		return path, nil
	}
	for _, dir := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin"} {
		cand := filepath.Join(dir, name)
		if st, serr := os.Stat(cand); serr == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return cand, nil
		}
	}
	return "", fmt.Errorf("find %s: %w", name, err)
}

// Validate runs `haproxy -c -f path` (in path's directory, as Start runs
// HAProxy in the config's directory). Warnings are fine; a rejection (exit
// status 1) is a *ValidationError holding HAProxy's output. Other failures
// (no binary, cancelled) are plain wrapped errors.
func (p Process) Validate(ctx context.Context, path string) error {
	bin, err := p.binary()
	if err != nil {
		return fmt.Errorf("validate %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("validate %s: %w", path, err)
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-c", "-f", abs)
	cmd.Dir = filepath.Dir(abs)
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() && ctx.Err() == nil {
		return &ValidationError{Path: path, Output: out.String()}
	}
	return fmt.Errorf("validate %s: %s -c: %w", path, bin, err)
}

// Running reports whether the master named by PidFile runs: the pid file
// holds a pid, that process is alive (not a zombie) and it is an haproxy
// executable (/proc/PID/exe, or argv[0] when exe cannot be read). A stale
// pid file naming a dead process or some other program is not trusted.
// (Whether that haproxy serves this ConfigFile is not checked: the pid file
// is taken to be this instance's own.) pid is the master's pid when ok,
// else 0.
func (p Process) Running(ctx context.Context) (pid int, ok bool) {
	pid, err := readPidFile(p.PidFile)
	if err != nil {
		return 0, false
	}
	bin, _ := p.binary()
	if !alive(pid) || !isHAProxy(pid, bin) {
		return 0, false
	}
	return pid, true
}

// readPidFile reads the first line of a pid file.
func readPidFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: no pid in %q", path, line)
	}
	return pid, nil
}

// alive reports whether pid is a live process (a zombie is not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// "PID (comm) S ...": comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	switch b[i+2] {
	case 'Z', 'X', 'x':
		return false
	}
	return true
}

// isHAProxy reports whether pid runs haproxy (or the configured binary).
func isHAProxy(pid int, bin string) bool {
	names := []string{"haproxy"}
	if bin != "" {
		names = append(names, filepath.Base(bin))
	}
	match := func(path string) bool {
		base := filepath.Base(strings.TrimSuffix(path, " (deleted)"))
		for _, n := range names {
			if base == n {
				return true
			}
		}
		return false
	}
	dir := "/proc/" + strconv.Itoa(pid)
	if exe, err := os.Readlink(dir + "/exe"); err == nil {
		return match(exe)
	}
	cmdline, err := os.ReadFile(dir + "/cmdline")
	if err != nil || len(cmdline) == 0 {
		return false
	}
	argv0, _, _ := bytes.Cut(cmdline, []byte{0})
	return match(string(argv0))
}

// Stop stops HAProxy softly (SIGUSR1 to the master: listeners close, the
// workers finish their connections, then the master exits) and waits until
// the master is gone. If the context ends first, it stops HAProxy hard
// (SIGTERM) and returns an error saying so. Not running is not an error.
// The pid file is removed. (For tests and demos; the writer leaves HAProxy
// running when it exits.)
func (p Process) Stop(ctx context.Context) error {
	pid, ok := p.Running(ctx)
	if !ok {
		return nil
	}
	ctx, cancel := withDefault(ctx, DefaultWait)
	defer cancel()
	if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
		return fmt.Errorf("stop haproxy (master pid %d): %w", pid, err)
	}
	for alive(pid) {
		if err := sleep(ctx, pollEvery); err != nil {
			_ = syscall.Kill(pid, syscall.SIGTERM)
			hard, cancelHard := context.WithTimeout(context.Background(), 2*time.Second)
			for alive(pid) && sleep(hard, pollEvery) == nil {
			}
			cancelHard()
			return fmt.Errorf("stop haproxy (master pid %d): soft stop unfinished, sent SIGTERM: %w", pid, err)
		}
	}
	if cur, err := readPidFile(p.PidFile); err == nil && cur == pid {
		_ = os.Remove(p.PidFile)
	}
	return nil
}

// withDefault gives ctx the timeout d unless it has a deadline already.
func withDefault(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// sleep waits d, or returns ctx's error when it ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// Kill stops HAProxy at once: SIGKILL to every worker the master lists and
// to the master, and waits until they are gone (a stopped process dies of
// SIGKILL too). It is for an HAProxy that no longer serves, such as one
// whose worker is stopped; Stop is the graceful way. Not running is not an
// error. The pid file is removed.
func (p Process) Kill(ctx context.Context) error {
	pid, ok := p.Running(ctx)
	if !ok {
		return nil
	}
	ctx, cancel := withDefault(ctx, DefaultWait)
	defer cancel()
	pids := []int{}
	// The master answers even when its worker does not.
	lctx, lcancel := context.WithTimeout(ctx, time.Second)
	if pl, err := p.ShowProc(lctx); err == nil {
		for _, w := range append(pl.Workers, pl.OldWorkers...) {
			pids = append(pids, w.PID)
		}
	}
	lcancel()
	pids = append(pids, pid)
	for _, q := range pids {
		if err := syscall.Kill(q, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("kill haproxy (pid %d): %w", q, err)
		}
	}
	for _, q := range pids {
		for alive(q) {
			if err := sleep(ctx, time.Millisecond); err != nil {
				return fmt.Errorf("kill haproxy: pid %d still alive: %w", q, err)
			}
		}
	}
	if cur, err := readPidFile(p.PidFile); err == nil && cur == pid {
		_ = os.Remove(p.PidFile)
	}
	return nil
}
