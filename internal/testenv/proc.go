package testenv

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lighthouse/internal/proc"
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
	claimed []*os.File // the lock files of claimPort, held until the process exits
)

// claimPort takes a lock on port shared by every test binary on the machine
// (go test runs several packages at once), held until this process exits.
// HAProxy binds its listeners with SO_REUSEPORT, so two tests handed one
// port between FreePort and their bind would share it without an error,
// each reaching the other's servers. It reports false when another running
// test binary holds the port; when no lock can be taken at all it reports
// true, and only the in-process check applies.
func claimPort(port int) bool {
	dir := filepath.Join(os.TempDir(), "lighthouse-test-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return true
	}
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return true
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return false
	}
	portsMu.Lock()
	claimed = append(claimed, f)
	portsMu.Unlock()
	return true
}

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

// The range FreePort picks from: below the kernel's ephemeral range (32768
// and up), so that a port it hands out is never taken a moment later as the
// source port of one of the many outgoing connections the tests make, and
// below the range of the demo's ports (examples/demo/cluster, 20000 and up),
// which e2e tests start beside these.
const pickLow, pickHigh = 10000, 20000

// FreePort returns a TCP port, picked at random between pickLow and
// pickHigh, that was free on every address a moment ago: it binds the port,
// and closes the listener. A port is never returned twice by the same test
// binary, nor by two test binaries running at once (claimPort). Another
// program may still take the port before the caller binds it;
// StartZooKeeper and StartRedis retry with a new port when that happens.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 200 {
		port := pickLow + rand.N(pickHigh-pickLow)
		portsMu.Lock()
		seen := ports[port]
		ports[port] = true
		portsMu.Unlock()
		if seen {
			continue
		}
		l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		l.Close()
		if claimPort(port) {
			return port
		}
	}
	t.Fatalf("testenv: FreePort: no free port between %d and %d after 200 tries", pickLow, pickHigh)
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

// startProcess starts argv (argv[0] looked up with LookPath) in its own
// process group with output appended to logPath (internal/proc).
func startProcess(name, logPath, dir string, argv ...string) (*proc.Proc, error) {
	bin := LookPath(argv[0])
	if bin == "" {
		return nil, fmt.Errorf("start %s: %s not found", name, argv[0])
	}
	p, err := proc.Start("testenv", dir, logPath, append([]string{bin}, argv[1:]...))
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return p, nil
}

// stopProcess stops p within grace and returns how it ended.
func stopProcess(p *proc.Proc, grace time.Duration) error {
	p.Stop(grace, nil)
	return p.Err()
}

var (
	cleanExit = proc.CleanExit
	logTail   = proc.LogTail
)

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
