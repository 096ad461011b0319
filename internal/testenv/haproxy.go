package testenv

import (
	"errors"
	"fmt"
	"io"
	"lighthouse/internal/proc"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"lighthouse/model"
	"lighthouse/model/haproxyapi"
)

// HAProxy is an HAProxy master-worker process started by StartHAProxy.
type HAProxy struct {
	// Cmd is the running master process (the latest one after Stop/Start).
	Cmd *exec.Cmd
	// MasterSocket is the master CLI socket (`show proc`, `reload`).
	MasterSocket string
	// ConfigPath is the configuration file given to -f.
	ConfigPath string
	// Dir is a short temporary directory holding MasterSocket and the log;
	// it is also a good place for the config's own `stats socket`.
	Dir string
	// LogPath receives the master's and workers' stdout and stderr.
	LogPath string
	// Binary is the haproxy executable that runs.
	Binary string
	// Version is Binary's version; the master's answers are read as that
	// release's (haproxyapi.AnswersFor).
	Version model.Version

	t         testing.TB
	extraArgs []string
	proc      *proc.Proc
}

// StartHAProxy runs
//
//	haproxy -W -S <dir>/master.sock,mode,600 -f cfgPath extraArgs...
//
// in the foreground (master-worker mode, not daemonized) and waits until a
// worker serves: the master CLI lists it and, on the releases that list a
// worker while it still loads its config (3.1 on), the master says the
// loading is over (about 0.05 s in all). The config must not use
// `daemon`, `chroot`, `user` or `log /dev/log`; log to stderr instead
// (`log stderr format short local0`). It fails the test if HAProxy exits
// (bad config, port in use). Everything is killed when the test ends; the log
// is printed if the test failed.
//
// It runs Debian's haproxy (2.6); StartHAProxyRelease runs a given release.
func StartHAProxy(t testing.TB, cfgPath string, extraArgs ...string) *HAProxy {
	t.Helper()
	skipIfShort(t, "HAProxy")
	Require(t, "haproxy")
	bin := LookPath("haproxy")
	return startHAProxy(t, bin, binaryVersion(t, bin), cfgPath, extraArgs)
}

// StartHAProxyRelease is StartHAProxy with release r's binary.
func StartHAProxyRelease(t testing.TB, r HAProxyRelease, cfgPath string, extraArgs ...string) *HAProxy {
	t.Helper()
	skipIfShort(t, "HAProxy")
	return startHAProxy(t, r.Binary, r.Version, cfgPath, extraArgs)
}

var versions sync.Map // binary path → model.Version

// binaryVersion returns what `bin -v` says, asked once per binary.
func binaryVersion(t testing.TB, bin string) model.Version {
	t.Helper()
	if v, ok := versions.Load(bin); ok {
		return v.(model.Version)
	}
	out, err := exec.Command(bin, "-v").Output()
	if err != nil {
		t.Fatalf("testenv: %s -v: %v", bin, err)
	}
	v, err := model.ParseVersion(string(out))
	if err != nil {
		t.Fatalf("testenv: %s -v: %v", bin, err)
	}
	versions.Store(bin, v)
	return v
}

func startHAProxy(t testing.TB, binary string, version model.Version, cfgPath string, extraArgs []string) *HAProxy {
	t.Helper()
	h := &HAProxy{t: t, ConfigPath: cfgPath, extraArgs: extraArgs, Binary: binary, Version: version}
	h.Dir = ShortTempDir(t)
	h.MasterSocket = filepath.Join(h.Dir, "master.sock")
	h.LogPath = filepath.Join(h.Dir, "haproxy.log")
	registerLogDump(t, "haproxy", h.LogPath)
	t.Cleanup(func() {
		// SIGTERM first (a hard stop, ~2 ms): the master reaps its workers.
		// A plain SIGKILL of the group would leave the workers as orphans
		// for init to reap.
		if h.proc != nil && !h.proc.Exited() {
			stopProcess(h.proc, 5*time.Second)
		}
	})
	if err := h.start(); err != nil {
		t.Fatalf("testenv: start haproxy: %v", err)
	}
	return h
}

func (h *HAProxy) start() error {
	_ = os.Remove(h.MasterSocket) // left over by a previous run
	argv := append([]string{h.Binary, "-W", "-S", h.MasterSocket + ",mode,600", "-f", h.ConfigPath}, h.extraArgs...)
	p, err := startProcess("haproxy", h.LogPath, h.Dir, argv...)
	if err != nil {
		return err
	}
	h.proc = p
	h.Cmd = p.Cmd()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if p.Exited() {
			return fmt.Errorf("haproxy exited (%v); log %s:\n%s", p.Err(), h.LogPath, logTail(h.LogPath, 8<<10))
		}
		if out, err := h.MasterCLI("show proc"); err == nil {
			if w := h.parseProc(out).workers; len(w) > 0 && h.serves() {
				return nil
			}
		}
		if time.Now().After(deadline) {
			p.Kill()
			return fmt.Errorf("haproxy master CLI %s lists no serving worker after 10s; log %s:\n%s", h.MasterSocket, h.LogPath, logTail(h.LogPath, 8<<10))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// answers returns what this HAProxy's master answers.
func (h *HAProxy) answers() haproxyapi.Answers { return haproxyapi.AnswersFor(h.Version) }

// parseProc parses `show proc` as this HAProxy's release lists it.
func (h *HAProxy) parseProc(out string) procInfo { return parseProc(out, h.answers()) }

// serves reports whether the listed workers serve: always where the
// release lists only workers that have loaded; else once the release's
// LoadStatus command (`_loadstatus`, which waits until no worker is loading)
// reports success. (Asking the worker through the master, "@!PID show
// info", is no probe: 3.4 refuses it while the worker loads and then, in
// about a third of the starts, leaves later commands to it unanswered.)
func (h *HAProxy) serves() bool {
	a := h.answers()
	if !a.Proc.ListsLoadingWorker {
		return true
	}
	out, err := h.MasterCLI(a.Proc.LoadStatus)
	rep, ok := a.ParseReport(out)
	return err == nil && ok && rep.Success
}

// Running reports whether the master process is running.
func (h *HAProxy) Running() bool { return h.proc != nil && !h.proc.Exited() }

// Stop stops HAProxy (SIGTERM to the process group: hard stop) and waits for
// the master to exit.
func (h *HAProxy) Stop() {
	h.t.Helper()
	if !h.Running() {
		h.t.Fatalf("testenv: haproxy: Stop while not running")
	}
	if err := stopProcess(h.proc, 10*time.Second); !cleanExit(err) {
		h.t.Logf("testenv: haproxy stopped: %v", err)
	}
}

// Start starts a stopped HAProxy again with the same arguments and waits
// until it has a worker.
func (h *HAProxy) Start() {
	h.t.Helper()
	if h.Running() {
		h.t.Fatalf("testenv: haproxy: Start while running")
	}
	if err := h.start(); err != nil {
		h.t.Fatalf("testenv: restart haproxy: %v", err)
	}
}

// MasterCLI sends one command to the master CLI and returns the reply. It
// half-closes the connection after writing (the master CLI answers only
// then) and reads to EOF.
func (h *HAProxy) MasterCLI(cmd string) (string, error) {
	return unixCommand(h.MasterSocket, cmd, true)
}

// ShowProc returns the master CLI's `show proc` output, e.g.
//
//	#<PID>          <type>          <reloads>       <uptime>        <version>
//	3004            master          1 [failed: 0]   0d00h01m25s     2.6.12-1+deb12u4
//	# workers
//	3953            worker          0               0d00h00m00s     2.6.12-1+deb12u4
//	# old workers
//	...
func (h *HAProxy) ShowProc() string {
	h.t.Helper()
	out, err := h.MasterCLI("show proc")
	if err != nil {
		h.t.Fatalf("testenv: haproxy show proc: %v", err)
	}
	return out
}

// Workers returns the pids of the current workers (not the old ones still
// finishing their connections). After a failed reload that is the worker
// that keeps serving, also on the releases that list it among the old
// workers then (3.1 on).
func (h *HAProxy) Workers() []int {
	h.t.Helper()
	return h.parseProc(h.ShowProc()).workers
}

// Reload reloads HAProxy through the master CLI and waits until the reload
// has succeeded (a new worker); it fails the test if the reload failed, e.g.
// because the config file is invalid.
func (h *HAProxy) Reload() {
	h.t.Helper()
	if err := h.TryReload(); err != nil {
		h.t.Fatalf("testenv: %v", err)
	}
}

// TryReload is Reload returning the failure instead. After a failed reload
// the old worker keeps running with the old config.
//
// 2.6's `reload` answers nothing: the outcome is read from `show proc`.
// From 2.7 on the master answers once the new worker has loaded
// ("Success=1") or failed ("Success=0" and HAProxy's alerts), and from 3.1 on
// it refuses while a worker still loads ("Another reload is still in
// progress."): then TryReload asks again.
func (h *HAProxy) TryReload() error {
	h.t.Helper()
	ans := h.answers()
	deadline := time.Now().Add(10 * time.Second)
	var before procInfo
	for {
		out, err := h.MasterCLI("show proc")
		if err != nil {
			return fmt.Errorf("haproxy reload: show proc: %w", err)
		}
		before = h.parseProc(out)
		answer, err := h.MasterCLI("reload")
		if err != nil {
			return fmt.Errorf("haproxy reload: %w", err)
		}
		rep, reported := ans.ParseReport(answer)
		if !ans.Reload.Reports || !reported {
			break
		}
		if rep.Busy && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if !rep.Success {
			return fmt.Errorf("haproxy reload failed (the master answered Success=0):\n%s", strings.Join(rep.Logs, "\n"))
		}
		break
	}
	for {
		if h.proc.Exited() {
			return fmt.Errorf("haproxy reload: the master exited (%v)", h.proc.Err())
		}
		if out, err := h.MasterCLI("show proc"); err == nil {
			now := h.parseProc(out)
			if now.ok && now.reloads != before.reloads {
				if now.failed > 0 {
					return fmt.Errorf("haproxy reload failed (show proc: %d reloads, %d failed); log:\n%s",
						now.reloads, now.failed, logTail(h.LogPath, 4<<10))
				}
				if len(now.workers) > 0 && !sameInts(now.workers, before.workers) && h.serves() {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("haproxy reload: no new serving worker after 10s; log:\n%s", logTail(h.LogPath, 4<<10))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type procInfo struct {
	ok              bool // the master line was found
	reloads, failed int
	workers         []int
}

// parseProc reads `show proc` as release a lists it (haproxyapi.ParseProc):
// ok is false when the answer lists no master.
func parseProc(out string, a haproxyapi.Answers) procInfo {
	pl, err := haproxyapi.ParseProc(out, a)
	if err != nil || pl.Master.PID == 0 {
		return procInfo{}
	}
	pi := procInfo{ok: true, reloads: pl.Master.Reloads, failed: pl.Failed}
	for _, w := range pl.Workers {
		pi.workers = append(pi.workers, w.PID)
	}
	return pi
}

func sameInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// HAProxyAdmin sends one command to an HAProxy stats (admin) socket and
// returns the reply: it writes cmd and a newline and reads until HAProxy
// closes the connection (it does after one command line; several commands
// can be joined with ";").
func HAProxyAdmin(sockPath, cmd string) (string, error) {
	return unixCommand(sockPath, cmd, false)
}

// unixCommand writes cmd and a newline on a new connection to the unix
// socket sockPath, half-closes it after writing if halfClose, and reads
// the reply to EOF.
func unixCommand(sockPath, cmd string, halfClose bool) (string, error) {
	c, err := net.DialTimeout("unix", sockPath, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return "", err
	}
	if halfClose {
		if err := c.(*net.UnixConn).CloseWrite(); err != nil {
			return "", err
		}
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// HAProxyCheck writes cfgText to a temporary file and runs `haproxy -c -V
// -f` on it. ok is whether haproxy accepted it (exit 0; warnings allowed
// unless the config sets zero-warning); output is its stdout and stderr.
// (-V because from 3.0 on `haproxy -c` says "Configuration file is valid"
// only in verbose mode; 2.6 and 2.8 say it either way.)
//
// It runs Debian's haproxy (2.6); HAProxyCheckRelease runs a given release.
func HAProxyCheck(t testing.TB, cfgText string) (ok bool, output string) {
	t.Helper()
	Require(t, "haproxy")
	return haproxyCheck(t, LookPath("haproxy"), cfgText)
}

// HAProxyCheckRelease is HAProxyCheck with release r's binary.
func HAProxyCheckRelease(t testing.TB, r HAProxyRelease, cfgText string) (ok bool, output string) {
	t.Helper()
	return haproxyCheck(t, r.Binary, cfgText)
}

// WithStateFile points a rendered config's server-state-file line at a
// server state file without servers in a temporary directory, as the
// writer creates one before HAProxy first reads the config: HAProxy warns
// about a missing one, and `haproxy -c` reads it too.
func WithStateFile(t testing.TB, cfgText string) string {
	t.Helper()
	path := filepath.Join(ShortTempDir(t), "haproxy.cfg.state")
	if err := os.WriteFile(path, []byte("1\n"), 0o644); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return stateFileLine.ReplaceAllString(cfgText, "${1}"+path)
}

var stateFileLine = regexp.MustCompile(`(?m)^(\tserver-state-file ).*$`)

func haproxyCheck(t testing.TB, binary, cfgText string) (ok bool, output string) {
	t.Helper()
	path := filepath.Join(ShortTempDir(t), "check.cfg")
	if err := os.WriteFile(path, []byte(cfgText), 0o644); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	out, err := exec.Command(binary, "-c", "-V", "-f", path).CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("testenv: haproxy -c: %v", err)
		}
		return false, string(out)
	}
	return true, string(out)
}
