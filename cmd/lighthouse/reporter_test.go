package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"lighthouse/effects/zk"
	"lighthouse/internal/testenv"
)

func TestReporterUsage(t *testing.T) {
	dir := writeDir(t, map[string]string{"discovery/zookeeper.yaml": goodZK})
	runCases(t, []cliCase{
		{[]string{"reporter", "--help"}, exitOK, "--host-name", ""},
		{[]string{"reporter"}, exitUsage, "", "--config-dir is required"},
		{[]string{"reporter", "--bogus"}, exitUsage, "", "flag provided but not defined"},
		{[]string{"reporter", "--config-dir", dir, "extra"}, exitUsage, "", "unexpected argument"},
		{[]string{"reporter", "--config-dir", dir, "--host-ip", "nope"}, exitUsage, "", "not an IP address"},
		{[]string{"reporter", "--config-dir", dir, "--host-name", "a b"}, exitUsage, "", "not a valid host name"},
		{[]string{"reporter", "--config-dir", filepath.Join(dir, "missing")}, exitError, "", "no such file"},
	})
}

// binDir holds the binary built for the tests; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildReporterBinary builds the lighthouse binary once per test binary.
var buildReporterBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "lhbin")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "lighthouse")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	if err := os.Symlink("lighthouse", filepath.Join(dir, "lighthouse-reporter")); err != nil {
		return "", err
	}
	return bin, nil
})

func reporterBinary(t *testing.T) string {
	t.Helper()
	bin, err := buildReporterBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// reporterProcess is a running lighthouse binary.
type reporterProcess struct {
	cmd    *exec.Cmd
	out    *testenv.Buffer // stdout and stderr
	exited chan struct{}   // closed when it has exited; err is then set
	err    error
}

// startReporterProcess runs the binary with argv; it is killed when the
// test ends.
func startReporterProcess(t *testing.T, argv ...string) *reporterProcess {
	t.Helper()
	p := &reporterProcess{out: &testenv.Buffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	// The writer keeps its last good config files here, not in /var/lib.
	p.cmd.Env = append(os.Environ(), "STATE_DIRECTORY="+t.TempDir())
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("reporter output:\n%s", p.out)
		}
	})
	return p
}

// waitExit waits up to timeout for the process to exit and returns its
// Wait error.
func (p *reporterProcess) waitExit(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(timeout):
		t.Fatalf("still running %v after the signal", timeout)
		return nil
	}
}

func znodeExists(t *testing.T, conn *gozk.Conn, p string) bool {
	t.Helper()
	ok, _, err := conn.Exists(p)
	if err != nil {
		t.Fatalf("exists %s: %v", p, err)
	}
	return ok
}

// The binary registers a healthy service with the given identity, registers
// it again on SIGHUP after the znode was deleted behind its back, and on
// SIGTERM deletes it within a second and exits 0.
func TestReporterBinarySignals(t *testing.T) {
	bin := reporterBinary(t)
	z := testenv.StartZooKeeper(t)
	conn := z.Conn(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	dir := writeDir(t, map[string]string{
		"discovery/zookeeper.yaml": fmt.Sprintf("hosts: [%q]\npath: /lighthouse/services\n", z.Addr),
		"services/web.yaml":        fmt.Sprintf("port: %d\ndiscovery: zookeeper\nchecks:\n  interval: 100ms\n  http: {uri: /, rise: 2, fall: 2}\n", port),
		"logging.yaml":             "level: debug\n",
	})
	told := asSystemd(t, testenv.ShortTempDir(t))
	metrics := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	proc := startReporterProcess(t, bin, "reporter", "--config-dir", dir, "--host-name", "web01.example.com", "--host-ip", "127.0.0.5",
		"--metrics-address", metrics)
	p := "/lighthouse/services/web/web01.example.com:" + strconv.Itoa(port)
	told("READY=1") // after the first round of checks
	testenv.WaitFor(t, 10*time.Second, p+" registered", func() bool { return znodeExists(t, conn, p) })
	testenv.WaitFor(t, 10*time.Second, "/readyz says ready", func() bool {
		resp, err := http.Get("http://" + metrics + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	exposed, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		fmt.Sprintf(`lighthouse_reporter_registered{port="%d",service="web"} 1`, port),
		fmt.Sprintf(`lighthouse_reporter_check_up{check="http",port="%d",service="web"} 1`, port),
		`lighthouse_zookeeper_connected{program="reporter"} 1`,
	} {
		if !strings.Contains(string(exposed), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	data, _, err := conn.Get(p)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"host": "web01.example.com", "ip": "127.0.0.5", "metadata": "{\"state\": \"ready\"}", "peer": "{\"ip\": \"127.0.0.5\", \"name\": \"web01.example.com\", \"port\": 1024}", "port": %d}`, port)
	if string(data) != want {
		t.Errorf("znode data:\n got %s\nwant %s", data, want)
	}
	if !strings.Contains(proc.out.String(), "program=reporter") {
		t.Errorf("log lines lack program=reporter:\n%s", proc.out)
	}

	// Deleted behind the reporter's back: restored at once.
	if err := conn.Delete(p, -1); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 5*time.Second, p+" restored", func() bool { return znodeExists(t, conn, p) })
	// SIGHUP re-reads the config and registers everything again.
	proc.cmd.Process.Signal(syscall.SIGHUP)
	testenv.WaitFor(t, 5*time.Second, "SIGHUP re-reads everything", func() bool {
		return strings.Contains(proc.out.String(), "registering again (SIGHUP)")
	})

	// SIGTERM: gone within a second, exit status 0.
	start := time.Now()
	proc.cmd.Process.Signal(syscall.SIGTERM)
	testenv.WaitFor(t, time.Second, p+" deleted after SIGTERM", func() bool { return !znodeExists(t, conn, p) })
	gone := time.Since(start)
	if err := proc.waitExit(t, time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	t.Logf("znode gone %v after SIGTERM, exited after %v", gone, time.Since(start))
	told("STOPPING=1")
}

// The original's entry point, `lighthouse-reporter CONFIG_DIR`, with the
// host identity detected as the original did; SIGINT stops it cleanly.
func TestReporterLegacyEntryPointSIGINT(t *testing.T) {
	bin := reporterBinary(t)
	id, err := zk.DetectIdentity(context.Background(), "", "")
	if err != nil {
		t.Skipf("this host has no detectable identity: %v", err)
	}
	z := testenv.StartZooKeeper(t)
	conn := z.Conn(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
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
			c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	dir := writeDir(t, map[string]string{
		"discovery/zookeeper.yaml": fmt.Sprintf("hosts: [%q]\npath: /lh\n", z.Addr),
		"services/db.yaml":         fmt.Sprintf("port: %d\ndiscovery: zookeeper\nchecks:\n  interval: 100ms\n  tcp: {rise: 1, fall: 1}\n", port),
	})
	proc := startReporterProcess(t, filepath.Join(filepath.Dir(bin), "lighthouse-reporter"), dir)
	p := "/lh/db/" + id.Name + ":" + strconv.Itoa(port)
	testenv.WaitFor(t, 10*time.Second, p+" registered", func() bool { return znodeExists(t, conn, p) })
	data, _, err := conn.Get(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"ip": "`+id.IP+`"`) {
		t.Errorf("znode data %s lacks the detected IP %s", data, id.IP)
	}
	proc.cmd.Process.Signal(syscall.SIGINT)
	testenv.WaitFor(t, time.Second, p+" deleted after SIGINT", func() bool { return !znodeExists(t, conn, p) })
	if err := proc.waitExit(t, time.Second); err != nil {
		t.Errorf("exit after SIGINT: %v", err)
	}
}
