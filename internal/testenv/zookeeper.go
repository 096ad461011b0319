package testenv

import (
	"fmt"
	"io"
	"lighthouse/internal/proc"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ZooKeeper is a standalone ZooKeeper server started by StartZooKeeper.
type ZooKeeper struct {
	// Addr is the client address, "127.0.0.1:<port>": the secure port
	// with WithTLS.
	Addr string
	// Port is the client port (the secure one with WithTLS).
	Port int
	// PlainAddr is the plain client port's address (Addr without
	// WithTLS): four-letter words and ExpireSession use it.
	PlainAddr string
	// TLS is the TLS setup with WithTLS, else nil.
	TLS *ZKTLS
	// Dir is the server's directory: zoo.cfg, data/, zookeeper.log.
	Dir string
	// ConfigPath is the zoo.cfg the server runs with.
	ConfigPath string
	// LogPath is the file receiving the server's stdout and stderr (all
	// starts appended).
	LogPath string

	t      testing.TB
	cfg    zkConfig
	proc   *proc.Proc
	paused bool
	// quorum is the zoo.cfg lines of an ensemble member (myid is in its
	// data directory), nil for a standalone server.
	quorum []string
}

type zkConfig struct {
	tickTime int
	extra    []string
	tls      string // ssl.clientAuth with WithTLS, else ""
}

// ZKOption changes how StartZooKeeper configures the server.
type ZKOption func(*zkConfig)

// WithTickTime sets tickTime in milliseconds (default 500). Session timeouts
// are clamped by the server to [2*tickTime, 20*tickTime], so the default
// allows sessions of 1 s to 10 s.
func WithTickTime(ms int) ZKOption {
	return func(c *zkConfig) { c.tickTime = ms }
}

// WithZooCfg appends lines ("key=value") to zoo.cfg.
func WithZooCfg(lines ...string) ZKOption {
	return func(c *zkConfig) { c.extra = append(c.extra, lines...) }
}

// StartZooKeeper starts a standalone ZooKeeper server on a free port of
// 127.0.0.1 in a fresh directory and waits until it serves (a `srvr` reply
// containing "Mode: standalone"; about 0.5–1 s). It runs
//
//	java -Xms32m -Xmx256m -cp zookeeper.jar:slf4j-simple.jar \
//	    org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg
//
// with tickTime=500, all four-letter words enabled and the admin server off;
// with LIGHTHOUSE_ZK_TLS set (see TLSFromEnv), as if WithTLS were given.
// The server is killed when the test ends; its log is printed if the test
// failed.
func StartZooKeeper(t testing.TB, opts ...ZKOption) *ZooKeeper {
	t.Helper()
	skipIfShort(t, "ZooKeeper")
	Require(t, "zookeeper")
	z := newZooKeeper(t, "zookeeper", zkConfig{tickTime: 500, tls: TLSFromEnv()}, opts)
	// The free port may be taken by someone else before java binds it:
	// retry with another one.
	for attempt := 1; ; attempt++ {
		z.Port = FreePort(t)
		z.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(z.Port))
		z.PlainAddr = z.Addr
		z.writeConfig()
		err := z.start()
		if err == nil {
			return z
		}
		if attempt < 3 && logContains(z.LogPath, "Address already in use") {
			t.Logf("testenv: zookeeper port %d taken, retrying: %v", z.Port, err)
			continue
		}
		t.Fatalf("testenv: start zookeeper: %v", err)
	}
}

// newZooKeeper prepares a server: cfg with opts applied, a fresh directory
// with data/ in it; when the test ends its process is killed, and its log
// is printed under name if the test failed.
func newZooKeeper(t testing.TB, name string, cfg zkConfig, opts []ZKOption) *ZooKeeper {
	z := &ZooKeeper{t: t, cfg: cfg}
	for _, o := range opts {
		o(&z.cfg)
	}
	z.Dir = ShortTempDir(t)
	z.ConfigPath = filepath.Join(z.Dir, "zoo.cfg")
	z.LogPath = filepath.Join(z.Dir, "zookeeper.log")
	if err := os.Mkdir(filepath.Join(z.Dir, "data"), 0o755); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	registerLogDump(t, name, z.LogPath)
	t.Cleanup(func() {
		if z.proc != nil {
			z.proc.Kill()
		}
	})
	return z
}

func (z *ZooKeeper) writeConfig() {
	plain := z.Port
	var secure []string
	if z.cfg.tls != "" {
		// Port and Addr are the secure port's; the plain one is another.
		plain = FreePort(z.t)
		z.PlainAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(plain))
		secure = z.setupTLS(z.Port)
	}
	cfg := fmt.Sprintf(`tickTime=%d
initLimit=10
syncLimit=5
dataDir=%s
clientPort=%d
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=*
maxClientCnxns=0
`, z.cfg.tickTime, filepath.Join(z.Dir, "data"), plain)
	for _, l := range secure {
		cfg += l + "\n"
	}
	for _, l := range z.quorum {
		cfg += l + "\n"
	}
	for _, l := range z.cfg.extra {
		cfg += l + "\n"
	}
	if err := os.WriteFile(z.ConfigPath, []byte(cfg), 0o644); err != nil {
		z.t.Fatalf("testenv: %v", err)
	}
}

// start starts the JVM and waits until it serves; on failure the process is
// killed and the error returned.
func (z *ZooKeeper) start() error {
	if err := z.launch(); err != nil {
		return err
	}
	return z.waitServing(30 * time.Second)
}

// launch starts the JVM.
func (z *ZooKeeper) launch() error {
	argv := []string{"java", "-Xms32m", "-Xmx256m"}
	if z.quorum != nil {
		argv = append(argv, "-Dzookeeper.cnxTimeout=1000")
	}
	cp := ZooKeeperJar + ":" + SLF4JSimple
	if z.cfg.tls != "" {
		cp += ":" + NettyCodecJar
	}
	argv = append(argv, "-cp", cp,
		"org.apache.zookeeper.server.quorum.QuorumPeerMain", z.ConfigPath)
	p, err := startProcess("zookeeper", z.LogPath, z.Dir, argv...)
	if err != nil {
		return err
	}
	z.proc, z.paused = p, false
	return nil
}

// waitServing waits until the server serves: `srvr` says "Mode: standalone"
// (or, in an ensemble, leader or follower). On failure the process is
// killed and the error returned.
func (z *ZooKeeper) waitServing(timeout time.Duration) error {
	p := z.proc
	deadline := time.Now().Add(timeout)
	for {
		if p.Exited() {
			return fmt.Errorf("zookeeper exited before serving (%v); log %s:\n%s", p.Err(), z.LogPath, logTail(z.LogPath, 8<<10))
		}
		// A short deadline: a JVM still starting may accept and not answer.
		if out, err := z.fourLetterWord("srvr", 300*time.Millisecond); err == nil {
			if m := srvrMode(out); m == "standalone" && z.quorum == nil || (m == "leader" || m == "follower") && z.quorum != nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			p.Kill()
			return fmt.Errorf("zookeeper on %s not serving after %v; log %s:\n%s", z.Addr, timeout, z.LogPath, logTail(z.LogPath, 8<<10))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// srvrMode returns the Mode of a `srvr` or `stat` reply ("standalone",
// "leader", "follower"), "" if there is none (not serving).
func srvrMode(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if m, ok := strings.CutPrefix(line, "Mode: "); ok {
			return strings.TrimSpace(m)
		}
	}
	return ""
}

// Mode asks the server (`srvr`) how it serves: "standalone", "leader" or
// "follower"; "" when it does not serve now (an ensemble member without a
// quorum), does not answer within a second (paused), or is not running.
func (z *ZooKeeper) Mode() string {
	if !z.Running() {
		return ""
	}
	out, err := z.fourLetterWord("srvr", time.Second)
	if err != nil {
		return ""
	}
	return srvrMode(out)
}

// Pause stops the server's processes with SIGSTOP: a hung server. The
// kernel still accepts TCP connections on its ports, but nothing answers.
func (z *ZooKeeper) Pause() {
	z.t.Helper()
	if !z.Running() || z.paused {
		z.t.Fatalf("testenv: zookeeper %s: Pause while not running or paused", z.Addr)
	}
	z.proc.Signal(syscall.SIGSTOP)
	z.paused = true
	// The signal is delivered to the JVM's threads asynchronously: wait
	// until all of them are stopped, so that nothing answers after Pause.
	task := fmt.Sprintf("/proc/%d/task", z.proc.Pid())
	WaitFor(z.t, 5*time.Second, "zookeeper "+z.Addr+" to stop", func() bool {
		ids, err := os.ReadDir(task)
		if err != nil {
			return true // not Linux, or gone
		}
		for _, id := range ids {
			b, err := os.ReadFile(filepath.Join(task, id.Name(), "stat"))
			if err != nil {
				continue
			}
			// pid (comm) state ...: comm may hold spaces and parentheses.
			s := string(b)
			if i := strings.LastIndexByte(s, ')'); i < 0 || i+2 >= len(s) || s[i+2] != 'T' && s[i+2] != 't' {
				return false
			}
		}
		return true
	})
}

// Resume continues a paused server with SIGCONT.
func (z *ZooKeeper) Resume() {
	z.t.Helper()
	if !z.paused {
		z.t.Fatalf("testenv: zookeeper %s: Resume while not paused", z.Addr)
	}
	z.proc.Signal(syscall.SIGCONT)
	z.paused = false
}

// Paused reports whether the server is paused.
func (z *ZooKeeper) Paused() bool { return z.paused }

// Hosts returns the server list for zk.Connect: []string{z.Addr}.
func (z *ZooKeeper) Hosts() []string { return []string{z.Addr} }

// Running reports whether the server process is running.
func (z *ZooKeeper) Running() bool { return z.proc != nil && !z.proc.Exited() }

// Stop stops the server with SIGTERM and waits for it to exit (about 0.4 s;
// SIGKILL after 10 s). The data directory is kept: Start brings the same
// server back on the same port with the same znodes and sessions (a session
// survives if its client reconnects within its timeout after Start).
func (z *ZooKeeper) Stop() {
	z.t.Helper()
	if !z.Running() {
		z.t.Fatalf("testenv: zookeeper %s: Stop while not running", z.Addr)
	}
	if z.paused {
		z.Resume()
	}
	if err := stopProcess(z.proc, 10*time.Second); !cleanExit(err) {
		z.t.Logf("testenv: zookeeper %s stopped: %v", z.Addr, err)
	}
}

// Start starts a stopped server again on the same port and data directory
// and waits until it serves.
func (z *ZooKeeper) Start() {
	z.t.Helper()
	if z.Running() {
		z.t.Fatalf("testenv: zookeeper %s: Start while running", z.Addr)
	}
	if err := z.start(); err != nil {
		z.t.Fatalf("testenv: restart zookeeper: %v", err)
	}
}

// FourLetterWord sends a four-letter-word command ("srvr", "ruok", "cons",
// "dump", "mntr", ...) over a fresh TCP connection and returns the reply
// (read to EOF). All commands are whitelisted.
func (z *ZooKeeper) FourLetterWord(cmd string) (string, error) {
	return z.fourLetterWord(cmd, 5*time.Second)
}

// fourLetterWord is FourLetterWord with a deadline for the whole exchange.
func (z *ZooKeeper) fourLetterWord(cmd string, deadline time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", z.PlainAddr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(deadline))
	if _, err := io.WriteString(c, cmd); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}
