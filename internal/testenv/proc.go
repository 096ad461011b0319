package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Paths of the ZooKeeper server jars installed by Debian's zookeeper package
// (libzookeeper-java and libslf4j-java). zookeeper.jar's manifest Class-Path
// lists all its other dependencies.
const (
	ZooKeeperJar = "/usr/share/java/zookeeper.jar"
	SLF4JSimple  = "/usr/share/java/slf4j-simple.jar"
)

// aptPackage maps what Require checks to the Debian package providing it.
var aptPackage = map[string]string{
	"haproxy":      "haproxy",
	"redis-server": "redis-server",
	"redis-cli":    "redis-tools",
	"java":         "default-jre-headless",
	"zookeeper":    "zookeeper",
	"socat":        "socat",
}

var (
	portsMu sync.Mutex
	ports   = map[int]bool{}
)

// LookPath finds a program on PATH or, failing that, in the sbin
// directories, which Debian leaves off a normal user's PATH although
// haproxy lives in /usr/sbin. It returns "" if the program is not found.
func LookPath(bin string) string {
	if p, err := exec.LookPath(bin); err == nil {
		return p
	}
	if strings.Contains(bin, "/") {
		return ""
	}
	for _, dir := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin"} {
		p := filepath.Join(dir, bin)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago: it
// binds 127.0.0.1:0, reads the port and closes the listener. Another process
// may take the port before the caller binds it; StartZooKeeper and StartRedis
// retry with a new port when that happens. A port is never returned twice by
// the same test binary.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("testenv: FreePort: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		portsMu.Lock()
		seen := ports[port]
		ports[port] = true
		portsMu.Unlock()
		if !seen {
			return port
		}
	}
	t.Fatalf("testenv: FreePort: no unused port after 100 tries")
	return 0
}

// ShortTempDir creates a directory with a short path (os.MkdirTemp("", "lh"),
// e.g. /tmp/lh123456789) and removes it when the test ends. Use it instead of
// t.TempDir for unix sockets: HAProxy refuses socket paths longer than 97
// characters, and t.TempDir's paths contain the test name.
func ShortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lh")
	if err != nil {
		t.Fatalf("testenv: ShortTempDir: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("testenv: removing %s: %v", dir, err)
		}
	})
	return dir
}

// Require makes sure every named program is installed. A name is looked up
// with LookPath, except "zookeeper", which means java plus the server jars
// (ZooKeeperJar, SLF4JSimple). If something is missing the test is skipped
// with the apt-get command that installs it — or, when the environment
// variable CI is set, fails, so CI never silently skips.
func Require(t testing.TB, bins ...string) {
	t.Helper()
	var missing, pkgs []string
	add := func(what, pkg string) {
		missing = append(missing, what)
		for _, p := range pkgs {
			if p == pkg {
				return
			}
		}
		pkgs = append(pkgs, pkg)
	}
	for _, b := range bins {
		if b == "zookeeper" {
			if LookPath("java") == "" {
				add("java", "zookeeper")
			}
			for _, f := range []string{ZooKeeperJar, SLF4JSimple} {
				if _, err := os.Stat(f); err != nil {
					add(f, "zookeeper")
				}
			}
			continue
		}
		if LookPath(b) == "" {
			pkg := aptPackage[b]
			if pkg == "" {
				pkg = b
			}
			add(b, pkg)
		}
	}
	if len(missing) == 0 {
		return
	}
	sort.Strings(pkgs)
	cmd := "apt-get install -y " + strings.Join(pkgs, " ")
	if os.Getenv("CI") != "" {
		t.Fatalf("testenv: missing %s (CI is set, so this is an error, not a skip); install with: %s (as root), or run .ci/install-deps",
			strings.Join(missing, ", "), cmd)
	}
	t.Skipf("testenv: missing %s; install with: %s (as root), or run .ci/install-deps",
		strings.Join(missing, ", "), cmd)
}

// skipIfShort skips the test under go test -short (make unit): no servers
// are started then.
func skipIfShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("testenv: -short: not starting %s", what)
	}
}

// WaitFor calls cond every 10 ms until it returns true, and fails the test
// ("timed out after 5s waiting for <what>") if that does not happen within
// timeout. cond runs on the calling goroutine.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// process is one started server: the leader of its own process group, with
// stdout and stderr appended to a log file.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when Wait returned
	werr    error         // Wait's result, valid after done
	started time.Time
}

// startProcess starts argv in its own process group with output appended to
// logPath.
func startProcess(name, logPath, dir string, argv ...string) (*process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fmt.Fprintf(f, "=== testenv %s: %s\n", time.Now().Format("15:04:05.000"), strings.Join(argv, " "))
	bin := LookPath(argv[0])
	if bin == "" {
		return nil, fmt.Errorf("start %s: %s not found", name, argv[0])
	}
	cmd := exec.Command(bin, argv[1:]...)
	cmd.Dir = dir
	cmd.Stdin = nil
	cmd.Stdout = f
	cmd.Stderr = f
	// Setpgid: Stop and the cleanup signal the whole group (HAProxy workers,
	// anything a server forks). Pdeathsig: if the test binary dies without
	// running cleanups (e.g. killed by go test -timeout), the server dies too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{}), started: time.Now()}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.werr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signalGroup sends sig to the process group; errors (ESRCH) are ignored.
func (p *process) signalGroup(sig syscall.Signal) {
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// stop sends SIGTERM to the group and waits up to grace for the leader to
// exit, then SIGKILLs the group. It returns the leader's Wait error.
func (p *process) stop(grace time.Duration) error {
	p.signalGroup(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.signalGroup(syscall.SIGKILL)
		<-p.done
	}
	// Anything the leader left behind in its group.
	p.signalGroup(syscall.SIGKILL)
	return p.werr
}

// kill SIGKILLs the whole group and waits for the leader.
func (p *process) kill() {
	p.signalGroup(syscall.SIGKILL)
	<-p.done
	p.signalGroup(syscall.SIGKILL)
}

// cleanExit reports whether err (from Wait after SIGTERM) is a normal stop:
// exit 0, exit 143 (JVM on SIGTERM) or death by SIGTERM.
func cleanExit(err error) bool {
	if err == nil {
		return true
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
		if ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return true
		}
		if ws.Exited() && ws.ExitStatus() == 143 {
			return true
		}
	}
	return false
}

// logTail returns at most the last max bytes of a log file.
func logTail(path string, max int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(cannot stat %s: %v)", path, err)
	}
	prefix := ""
	if st.Size() > max {
		if _, err := f.Seek(st.Size()-max, io.SeekStart); err != nil {
			return err.Error()
		}
		prefix = fmt.Sprintf("(... first %d bytes cut ...)\n", st.Size()-max)
	}
	b, _ := io.ReadAll(f)
	return prefix + string(b)
}

// logContains reports whether the log file contains s.
func logContains(path, s string) bool {
	b, err := os.ReadFile(path)
	return err == nil && bytes.Contains(b, []byte(s))
}

// registerLogDump prints the log file when the test has failed.
func registerLogDump(t testing.TB, name, path string) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testenv: %s log %s:\n%s", name, path, logTail(path, 64<<10))
		}
	})
}
