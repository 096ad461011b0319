package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"lighthouse/effects/haproxy"
	"lighthouse/effects/zk"
	"lighthouse/model"
)

// Options configure Start.
type Options struct {
	// Example is "web-cache" or "api".
	Example string
	// Root is the repository (it holds examples/); "" means FindRoot.
	Root string
	// Layout places the example (run directory, ports, check intervals).
	Layout Layout
	// BinDir holds the Programs already built (Build); "" means build them
	// into RunDir/bin.
	BinDir string
	// Progress receives one line per step and, while the cluster runs, one
	// per membership change or unexpected exit. nil discards them.
	Progress io.Writer
	// ReadyTimeout bounds each wait of the start-up; 0 means 60 s.
	ReadyTimeout time.Duration
	// HAProxy is the haproxy binary every host's writer runs (its --haproxy);
	// "" means Debian's, found on PATH or in /usr/sbin.
	HAProxy string
	// Prometheus starts a Prometheus that scrapes every daemon (Debian's
	// prometheus package must be installed).
	Prometheus bool
}

// Cluster is a running example: ZooKeeper, and per host its Redis, apps,
// reporter, writer and HAProxy.
type Cluster struct {
	Example *Example
	Layout  Layout

	root, runDir, bin string
	haproxyBin        string
	readyTimeout      time.Duration
	hosts             map[string]*hostState
	discovery         model.Discovery

	procMu                        sync.Mutex // guards the lists while hosts start
	zk                            *Proc
	services, writers, apps, reps []*Proc
	balancers                     []haproxy.Process

	watcher       *zk.Watcher
	prometheusURL string
	lock          *os.File
	start         time.Time
	progress      io.Writer
	pmu           sync.Mutex
	logFile       *os.File

	mu       sync.Mutex
	members  map[string][]model.Node
	changed  chan struct{} // closed and replaced on every membership change
	stopping atomic.Bool
	quit     chan struct{} // closed by Stop: background goroutines end
	bg       sync.WaitGroup
}

type hostState struct {
	Host
	configDir string
	config    *model.Config // nil for a host without config
}

// Start starts an example and waits until it is ready: every expected node
// registered in ZooKeeper and every front door answered by every node of its
// cluster. If anything fails (or ctx ends) it stops what it started and
// returns an error that names the log to read.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	ex := Examples[opts.Example]
	if ex == nil {
		return nil, fmt.Errorf("unknown example %q (known: %s)", opts.Example, strings.Join(ExampleNames(), ", "))
	}
	root := opts.Root
	if root == "" {
		if root, err = FindRoot(); err != nil {
			return nil, err
		}
	}
	c := &Cluster{
		Example: ex, Layout: opts.Layout, root: root, runDir: opts.Layout.runDir(),
		readyTimeout: opts.ReadyTimeout, hosts: map[string]*hostState{}, start: time.Now(),
		progress: opts.Progress, members: map[string][]model.Node{}, changed: make(chan struct{}),
		quit: make(chan struct{}),
	}
	if c.progress == nil {
		c.progress = io.Discard
	}
	if c.readyTimeout == 0 {
		c.readyTimeout = 60 * time.Second
	}
	m := Missing()
	if opts.HAProxy != "" {
		m = slices.DeleteFunc(m, func(r Requirement) bool { return r.What == "haproxy" })
	}
	if len(m) > 0 {
		var what []string
		for _, r := range m {
			what = append(what, r.What)
		}
		return nil, fmt.Errorf("missing %s; install the Debian packages %s (as root: .ci/install-deps)",
			strings.Join(what, ", "), strings.Join(Packages(m), " "))
	}
	c.haproxyBin = LookPath("haproxy")
	if opts.HAProxy != "" {
		if c.haproxyBin = LookPath(opts.HAProxy); c.haproxyBin == "" {
			return nil, fmt.Errorf("HAProxy binary %s: not found or not executable", opts.HAProxy)
		}
	}
	if err := os.MkdirAll(c.runDir, 0o755); err != nil {
		return nil, err
	}
	if err := c.lockRunDir(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.Stop(context.Background())
		}
	}()

	for _, h := range ex.Hosts {
		hs := &hostState{Host: h}
		c.hosts[h.Name] = hs
		if h.NoConfig {
			continue
		}
		if hs.configDir, hs.config, err = c.Layout.configDir(root, ex, h); err != nil {
			return nil, err
		}
		if c.discovery.Path == "" {
			if d, ok := hs.config.Discovery["zookeeper"]; ok {
				c.discovery = d
			}
		}
		if b := hs.config.Balancer; b != nil {
			c.balancers = append(c.balancers, haproxy.Process{Binary: c.haproxyBin, ConfigFile: b.ConfigFile,
				PidFile: b.PidFile, MasterSocket: haproxy.MasterSocketPath(b.SocketFile)})
		}
	}
	if c.discovery.Path == "" {
		return nil, errors.New("no host of the example has discovery/zookeeper.yaml")
	}
	c.discovery.Hosts = []string{c.zkAddr()}
	if err := c.clean(ctx); err != nil {
		return nil, err
	}
	if c.logFile, err = os.OpenFile(filepath.Join(c.runDir, "demo.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644); err != nil {
		return nil, err
	}
	if err := c.preflight(); err != nil {
		return nil, err
	}

	c.bin = opts.BinDir
	if c.bin == "" {
		c.bin = filepath.Join(c.runDir, "bin")
		c.say("", "building lighthouse and the example apps into %s", c.bin)
		if err := Build(ctx, root, c.bin); err != nil {
			return nil, err
		}
	}
	if err := c.startZooKeeper(ctx); err != nil {
		return nil, err
	}
	for _, tier := range c.tiers() {
		if err := c.startTier(ctx, tier); err != nil {
			return nil, err
		}
	}
	if err := c.waitFrontDoors(ctx); err != nil {
		return nil, err
	}
	if opts.Prometheus {
		if err := c.startPrometheus(ctx); err != nil {
			return nil, err
		}
	}
	c.say("", "ready after %.1fs", time.Since(c.start).Seconds())
	return c, nil
}

// note writes a line to RunDir/demo.log only.
func (c *Cluster) note(format string, args ...any) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.logFile != nil {
		fmt.Fprintf(c.logFile, "%6.1fs  %-11s %s\n", time.Since(c.start).Seconds(), "", fmt.Sprintf(format, args...))
	}
}

// say prints a progress line: time since start, the host, the message.
func (c *Cluster) say(host, format string, args ...any) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	line := fmt.Sprintf("%6.1fs  %-11s %s\n", time.Since(c.start).Seconds(), host, fmt.Sprintf(format, args...))
	io.WriteString(c.progress, line)
	if c.logFile != nil {
		io.WriteString(c.logFile, line)
	}
}

func (c *Cluster) zkAddr() string { return fmt.Sprintf("127.0.0.1:%d", c.Layout.Port(ZooKeeperPort)) }

// lockRunDir takes RunDir/.lock, so that two demos never share a run
// directory (the second would stop the first one's HAProxy as a leftover).
func (c *Cluster) lockRunDir() error {
	f, err := os.OpenFile(filepath.Join(c.runDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(f.Name())
		f.Close()
		pid := strings.TrimSpace(string(b))
		return fmt.Errorf("another demo is running in %s (pid %s): stop it first (kill %s), or give it another run directory", c.runDir, pid, pid)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	c.lock = f
	return nil
}

// clean stops HAProxy instances left over by an earlier run in this run
// directory (the writer starts HAProxy as a daemon, so an orchestrator that
// was killed leaves them behind; everything else dies with it) and removes
// that run's files, of either example.
func (c *Cluster) clean(ctx context.Context) error {
	procs := append([]haproxy.Process(nil), c.balancers...)
	pidFiles, _ := filepath.Glob(filepath.Join(c.runDir, "*", "haproxy.pid"))
	for _, f := range pidFiles {
		procs = append(procs, haproxy.Process{Binary: c.haproxyBin, PidFile: f})
	}
	for _, b := range procs {
		if pid, ok := b.Running(ctx); ok {
			c.say("", "stopping HAProxy left over by an earlier run (pid %d, pid file %s)", pid, b.PidFile)
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := b.Stop(sctx)
			cancel()
			if err != nil {
				return err
			}
		}
	}
	var dirs []string
	for _, ex := range Examples {
		for _, h := range ex.Hosts {
			dirs = append(dirs, h.Name)
		}
	}
	for _, d := range append(dirs, "zookeeper") {
		if err := os.RemoveAll(filepath.Join(c.runDir, d)); err != nil {
			return err
		}
	}
	return nil
}

// preflight binds every address the example will listen on, to say at once
// (and all together) what is in use, instead of failing somewhere later.
func (c *Cluster) preflight() error {
	type want struct{ addr, what string }
	wants := []want{{c.zkAddr(), "ZooKeeper"}}
	for _, h := range c.Example.Hosts {
		hs := c.hosts[h.Name]
		if h.Redis != 0 {
			wants = append(wants, want{c.Addr(h.Name, h.Redis), h.Name + " redis-server"})
		}
		for _, a := range h.Apps {
			wants = append(wants, want{c.Addr(h.Name, a.Port), h.Name + " " + a.Program})
		}
		if hs.config == nil || hs.config.Balancer == nil {
			continue
		}
		for _, l := range listeners(hs.config) {
			wants = append(wants, want{l.addr(), h.Name + " HAProxy " + l.name})
		}
	}
	var busy []string
	for _, w := range wants {
		l, err := net.Listen("tcp", w.addr)
		if err != nil {
			busy = append(busy, fmt.Sprintf("  %-22s %s: %s", w.addr, w.what, shortErr(err)))
			continue
		}
		l.Close()
	}
	if len(busy) > 0 {
		return fmt.Errorf("cannot listen where the example needs to:\n%s\nIs another demo, ZooKeeper or Redis running? `ss -ltnp` shows who listens where", strings.Join(busy, "\n"))
	}
	return nil
}

// shortErr is the errno of a network error ("address already in use"), or
// the whole error.
func shortErr(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

// listener is one HAProxy listener of a balancer config.
type listener struct {
	name, bind string
	port       int
	uri        string // stats only
	to         string // proxies only: " → upstreams"
}

func (l listener) addr() string {
	b := l.bind
	if b == "" || b == "*" {
		b = "0.0.0.0"
	}
	return net.JoinHostPort(b, strconv.Itoa(l.port))
}

// listeners lists a balancer's listeners: clusters with a port, meta
// clusters, proxies, stats.
func listeners(cfg *model.Config) []listener {
	b := cfg.Balancer
	var out []listener
	for _, n := range cfg.ClusterNames() {
		if p := cfg.Clusters[n].HAProxy.Port; p != 0 {
			out = append(out, listener{name: n, bind: b.BindAddress, port: p})
		}
	}
	for _, n := range b.MetaClusterNames() {
		var routes []string
		for _, cn := range cfg.ClusterNames() {
			if cl := cfg.Clusters[cn]; cl.MetaCluster == n {
				routes = append(routes, cn)
			}
		}
		out = append(out, listener{name: n + " (" + strings.Join(routes, ", ") + ")", bind: b.BindAddress, port: b.MetaClusters[n].Port})
	}
	for _, n := range b.ProxyNames() {
		p := b.Proxies[n]
		var ups []string
		for _, u := range p.Upstreams {
			ups = append(ups, net.JoinHostPort(u.Host, strconv.Itoa(u.Port)))
		}
		out = append(out, listener{name: n, bind: p.BindAddress, port: p.Port, to: " → " + strings.Join(ups, ", ")})
	}
	if s := b.Stats; s != nil {
		out = append(out, listener{name: "stats", bind: s.BindAddress, port: s.Port, uri: s.URI})
	}
	return out
}

// track adds a started program to one of the cluster's lists.
func (c *Cluster) track(list *[]*Proc, p *Proc) {
	c.procMu.Lock()
	defer c.procMu.Unlock()
	*list = append(*list, p)
}

// startProc starts a program of a host, logging to RunDir/<host>/<name>.log.
func (c *Cluster) startProc(host, name string, argv ...string) (*Proc, error) {
	dir := filepath.Join(c.runDir, host)
	if host == "" {
		dir = filepath.Join(c.runDir, name)
	}
	p, err := startProc(host, name, dir, filepath.Join(dir, name+".log"), argv)
	if err != nil {
		return nil, err
	}
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		<-p.Done()
		if !c.stopping.Load() && !p.stopping.Load() {
			how := "exit status 0"
			if p.Err() != nil {
				how = p.Err().Error()
			}
			c.say(p.Host, "%s exited (%s; log: %s)", p.Name, how, p.Log)
		}
	}()
	return p, nil
}

// waitFor polls cond every 50 ms until it returns nil. It fails when p (if
// given) exits, when ctx ends, or after the ready timeout, with the last
// error of cond and the end of p's log.
func (c *Cluster) waitFor(ctx context.Context, what string, p *Proc, cond func() error) error {
	deadline := time.Now().Add(c.readyTimeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		var exited <-chan struct{}
		if p != nil {
			exited = p.Done()
		}
		tail := func() string {
			if p == nil {
				return ""
			}
			return fmt.Sprintf("\nlast lines of %s:\n%s", p.Log, LogTail(p.Log, 2000))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s: %v%s", c.readyTimeout, what, err, tail())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return fmt.Errorf("%s: %s exited (%v) while waiting for %s%s", p.Label(), p.Name, p.Err(), what, tail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) startZooKeeper(ctx context.Context) error {
	dir := filepath.Join(c.runDir, "zookeeper")
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return err
	}
	cfg := filepath.Join(dir, "zoo.cfg")
	err := os.WriteFile(cfg, []byte(fmt.Sprintf(`tickTime=2000
dataDir=%s
clientPort=%d
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat,mntr,conf
maxClientCnxns=0
`, filepath.Join(dir, "data"), c.Layout.Port(ZooKeeperPort))), 0o644)
	if err != nil {
		return err
	}
	c.zk, err = c.startProc("", "zookeeper", LookPath("java"), "-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-cp", ZooKeeperJar+":"+SLF4JSimple, "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg)
	if err != nil {
		return err
	}
	err = c.waitFor(ctx, "ZooKeeper to serve", c.zk, func() error {
		ans, err := exchange(c.zkAddr(), "srvr", "")
		if err != nil {
			return err
		}
		if !strings.Contains(ans, "Mode: ") {
			return fmt.Errorf("srvr answered %q", ans)
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.say("zookeeper", "ZooKeeper serving on %s (log: %s)", c.zkAddr(), c.zk.Log)
	quiet := slog.New(slog.NewTextHandler(c.logFile, nil)).With("component", "demo-membership")
	if c.watcher, err = zk.ConnectWatcher(c.discovery, quiet); err != nil {
		return err
	}
	var names []string
	for n := range c.expected() {
		names = append(names, n)
	}
	sort.Strings(names)
	c.watcher.Watch(names)
	c.bg.Add(1)
	go c.followMembers()
	return nil
}

// exchange sends a short request on a new TCP connection and reads the
// answer: until EOF, or until the answer holds until.
func exchange(addr, req, until string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		return "", err
	}
	var buf []byte
	tmp := make([]byte, 4096)
	for {
		n, err := conn.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if until != "" && strings.Contains(string(buf), until) {
			return string(buf), nil
		}
		if err != nil {
			if err == io.EOF && until == "" {
				return string(buf), nil
			}
			return string(buf), err
		}
	}
}

// dialable reports whether something accepts connections on addr.
func dialable(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	return conn.Close()
}

// tiers groups the hosts for start-up: a host that consumes no cluster is
// in tier 0, any other one tier above the highest host providing a cluster
// it consumes. The hosts of a tier start together, and a tier starts once
// the one before is registered, so that a consumer's writer sees the
// clusters it consumes complete from its first read: every host then adds
// the cache servers in the same order, and HAProxy's `balance source` (on
// loopback every host connects from 127.0.0.1) sends every host to the same
// Redis, so the counter counts as the original's documentation shows.
func (c *Cluster) tiers() [][]Host {
	providers := map[string][]string{} // cluster -> hosts
	for _, h := range c.Example.Hosts {
		if cfg := c.hosts[h.Name].config; cfg != nil {
			for _, s := range cfg.Services {
				providers[s.Name] = append(providers[s.Name], h.Name)
			}
		}
	}
	tier := map[string]int{}
	var level func(host string, seen map[string]bool) int
	level = func(host string, seen map[string]bool) int {
		if t, ok := tier[host]; ok {
			return t
		}
		if seen[host] {
			return 0 // a cycle: start together
		}
		seen[host] = true
		t := 0
		if cfg := c.hosts[host].config; cfg != nil {
			for cl := range cfg.Clusters {
				for _, p := range providers[cl] {
					if p != host {
						t = max(t, level(p, seen)+1)
					}
				}
			}
		}
		tier[host] = t
		return t
	}
	var out [][]Host
	for _, h := range c.Example.Hosts {
		t := level(h.Name, map[string]bool{})
		for len(out) <= t {
			out = append(out, nil)
		}
		out[t] = append(out[t], h)
	}
	return out
}

// startTier starts the hosts of a tier together; the first failure stops
// the others' waiting.
func (c *Cluster) startTier(ctx context.Context, tier []Host) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, h := range tier {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.startHost(ctx, h); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// startHost starts one host: its Redis, its writer (which starts HAProxy),
// its apps, its reporter, and waits until the host's services are
// registered.
func (c *Cluster) startHost(ctx context.Context, h Host) error {
	hs := c.hosts[h.Name]
	if h.Redis != 0 {
		if err := c.startRedis(ctx, h); err != nil {
			return err
		}
	}
	if hs.config != nil && hs.config.Balancer != nil {
		if err := c.startWriter(ctx, hs); err != nil {
			return err
		}
	}
	for _, a := range h.Apps {
		list := &c.apps
		if h.NoConfig {
			list = &c.services // the partner is no app of the example's
		}
		if err := c.startApp(ctx, h, a, list); err != nil {
			return err
		}
	}
	if hs.config != nil && len(hs.config.Services) > 0 {
		if err := c.startReporter(ctx, hs); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) startRedis(ctx context.Context, h Host) error {
	addr := c.Addr(h.Name, h.Redis)
	p, err := c.startProc(h.Name, "redis", LookPath("redis-server"), "--bind", h.IP, "--port", strconv.Itoa(c.Layout.Port(h.Redis)),
		"--dir", filepath.Join(c.runDir, h.Name), "--save", "", "--appendonly", "no")
	if err != nil {
		return err
	}
	c.track(&c.services, p)
	if err := c.waitFor(ctx, "Redis on "+addr+" to answer PING", p, func() error {
		ans, err := exchange(addr, "PING\r\n", "\r\n")
		if err == nil && ans != "+PONG\r\n" {
			err = fmt.Errorf("PING answered %q", ans)
		}
		return err
	}); err != nil {
		return err
	}
	c.say(h.Name, "redis-server on %s (log: %s)", addr, p.Log)
	return nil
}

// startWriter starts a host's writer and waits until its HAProxy serves
// every listener.
func (c *Cluster) startWriter(ctx context.Context, hs *hostState) error {
	p, err := c.startProc(hs.Name, "writer", filepath.Join(c.bin, "lighthouse"), "writer", "--config-dir", hs.configDir, "--haproxy", c.haproxyBin,
		"--state-dir", filepath.Join(c.runDir, hs.Name, "state"), "--metrics-address", c.Addr(hs.Name, WriterMetricsPort))
	if err != nil {
		return err
	}
	c.track(&c.writers, p)
	b := hs.config.Balancer
	proc := haproxy.Process{Binary: c.haproxyBin, ConfigFile: b.ConfigFile, PidFile: b.PidFile, MasterSocket: haproxy.MasterSocketPath(b.SocketFile)}
	ls := listeners(hs.config)
	if err := c.waitFor(ctx, hs.Name+"'s HAProxy to serve", p, func() error {
		if _, ok := proc.Running(ctx); !ok {
			return errors.New("HAProxy not running yet")
		}
		for _, l := range ls {
			if err := dialable(l.addr()); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	var desc []string
	for _, l := range ls {
		desc = append(desc, fmt.Sprintf("%s %s%s%s", l.name, l.addr(), l.uri, l.to))
	}
	pid, _ := proc.Running(ctx)
	c.say(hs.Name, "lighthouse writer started HAProxy (pid %d): %s (log: %s)", pid, strings.Join(desc, "; "), p.Log)
	return nil
}

func (c *Cluster) appName(a App) string { return fmt.Sprintf("%s-%d", a.Program, a.Port) }

// startApp starts one app, adds it to list and waits until it listens.
func (c *Cluster) startApp(ctx context.Context, h Host, a App, list *[]*Proc) error {
	addr := c.Addr(h.Name, a.Port)
	argv := []string{filepath.Join(c.bin, a.Program), "-listen", addr}
	if a.Program == "partner" {
		argv = append(argv, "-record", c.PartnerRecord())
	} else {
		argv = append(argv, "-name", fmt.Sprintf("%s:%d", h.Name, c.Layout.Port(a.Port)))
	}
	flags := make([]string, 0, len(a.Clusters))
	for f := range a.Clusters {
		flags = append(flags, f)
	}
	sort.Strings(flags)
	hs := c.hosts[h.Name]
	for _, f := range flags {
		cl, ok := hs.config.Clusters[a.Clusters[f]]
		if !ok || cl.HAProxy.Port == 0 || hs.config.Balancer == nil {
			return fmt.Errorf("%s: %s needs the local port of cluster %s, which %s does not configure", h.Name, a.Program, a.Clusters[f], hs.configDir)
		}
		bind := hs.config.Balancer.BindAddress
		if bind == "" {
			bind = "127.0.0.1"
		}
		argv = append(argv, "-"+f, net.JoinHostPort(bind, strconv.Itoa(cl.HAProxy.Port)))
	}
	p, err := c.startProc(h.Name, c.appName(a), argv...)
	if err != nil {
		return err
	}
	c.track(list, p)
	if err := c.waitFor(ctx, a.Program+" to listen on "+addr, p, func() error { return dialable(addr) }); err != nil {
		return err
	}
	c.say(h.Name, "%s on %s (log: %s)", a.Program, addr, p.Log)
	return nil
}

// startReporter starts a host's reporter and waits until every port of its
// services is registered.
func (c *Cluster) startReporter(ctx context.Context, hs *hostState) error {
	p, err := c.startProc(hs.Name, "reporter", filepath.Join(c.bin, "lighthouse"), "reporter", "--config-dir", hs.configDir,
		"--host-name", hs.Name, "--host-ip", hs.IP, "--metrics-address", c.Addr(hs.Name, ReporterMetricsPort))
	if err != nil {
		return err
	}
	c.track(&c.reps, p)
	var what, want []string
	for _, id := range hs.config.ServiceIDs() {
		s := hs.config.Services[id]
		var checks []string
		for _, ch := range s.Checks {
			checks = append(checks, fmt.Sprintf("%s rise %d", ch.Type, ch.Rise))
		}
		what = append(what, fmt.Sprintf("%s %v (%s, every %v)", s.Name, s.Ports, strings.Join(checks, ", "), s.Interval))
		for _, port := range s.Ports {
			want = append(want, fmt.Sprintf("%s/%s:%d", s.Name, hs.Name, port))
		}
	}
	c.say(hs.Name, "lighthouse reporter checks %s (log: %s)", strings.Join(what, "; "), p.Log)
	return c.waitFor(ctx, hs.Name+"'s services to register", p, func() error {
		var missing []string
		for _, w := range want {
			cluster, node, _ := strings.Cut(w, "/")
			if !slices.Contains(c.MemberNames(cluster), node) {
				missing = append(missing, w)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("not registered yet: %s", strings.Join(missing, ", "))
		}
		return nil
	})
}

// expected counts the nodes each cluster should have: every port of every
// service of every host.
func (c *Cluster) expected() map[string]int {
	out := map[string]int{}
	for _, hs := range c.hosts {
		if hs.config == nil {
			continue
		}
		for _, s := range hs.config.Services {
			out[s.Name] += len(s.Ports)
		}
		for n := range hs.config.Clusters {
			out[n] += 0
		}
	}
	return out
}

// followMembers keeps c.members up to date and reports every change.
func (c *Cluster) followMembers() {
	defer c.bg.Done()
	for {
		var u model.MembershipUpdate
		select {
		case <-c.quit:
			return
		case u = <-c.watcher.Updates():
		}
		if !u.Known {
			continue
		}
		names := nodeNames(u.Nodes)
		c.mu.Lock()
		old := nodeNames(c.members[u.Cluster])
		_, seen := c.members[u.Cluster]
		c.members[u.Cluster] = append([]model.Node(nil), u.Nodes...)
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
		if slices.Equal(old, names) && seen {
			continue
		}
		var diff []string
		for _, n := range names {
			if !slices.Contains(old, n) {
				diff = append(diff, "+"+n)
			}
		}
		for _, n := range old {
			if !slices.Contains(names, n) {
				diff = append(diff, "-"+n)
			}
		}
		if len(diff) == 0 || c.stopping.Load() {
			continue
		}
		c.say("zookeeper", "cluster %s: %s → %d node(s)", u.Cluster, strings.Join(diff, " "), len(names))
	}
}

func nodeNames(nodes []model.Node) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, fmt.Sprintf("%s:%d", n.Host, n.Port))
	}
	sort.Strings(out)
	return out
}

// Members returns a cluster's nodes as ZooKeeper last said.
func (c *Cluster) Members(cluster string) []model.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]model.Node(nil), c.members[cluster]...)
}

// MemberNames returns a cluster's nodes as "host:port", sorted.
func (c *Cluster) MemberNames(cluster string) []string { return nodeNames(c.Members(cluster)) }

// WaitMembers waits until cond holds for the membership (checked after
// every change), or ctx ends.
func (c *Cluster) WaitMembers(ctx context.Context, cond func(members func(cluster string) []string) bool) error {
	for {
		c.mu.Lock()
		ch := c.changed
		c.mu.Unlock()
		if cond(c.MemberNames) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// waitFrontDoors waits until every front door has been answered by every
// node of its cluster (the X-Served-By header names the node).
func (c *Cluster) waitFrontDoors(ctx context.Context) error {
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for _, fd := range c.Example.FrontDoors {
		url := c.URL(fd.Host, fd.Port, fd.Path)
		seen := map[string]bool{}
		err := c.waitFor(ctx, url+" to be answered by every "+fd.Cluster+" node", nil, func() error {
			res, err := client.Get(url)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				seen[res.Header.Get("X-Served-By")] = true
			}
			var missing []string
			for _, n := range c.MemberNames(fd.Cluster) {
				if !seen[n] {
					missing = append(missing, n)
				}
			}
			if len(missing) > 0 {
				return fmt.Errorf("last answer %s; not answered yet by %s", res.Status, strings.Join(missing, ", "))
			}
			return nil
		})
		if err != nil {
			return err
		}
		c.say(fd.Host, "%s answered by %s", url, strings.Join(c.MemberNames(fd.Cluster), ", "))
	}
	return nil
}

// StopApp stops one instance of an example program, as a failing node
// would: host and port as the example names them.
func (c *Cluster) StopApp(host string, port int) error {
	for _, p := range c.apps {
		if p.Host == host && strings.HasSuffix(p.Name, "-"+strconv.Itoa(port)) {
			return p.stop(5*time.Second, nil)
		}
	}
	return fmt.Errorf("no app on %s port %d", host, port)
}

// Stop stops everything, front doors first: the writers and their HAProxy
// daemons, the reporters (which deregister), the apps, Redis and the
// partner, and ZooKeeper last. Each program gets SIGTERM and 5 s, then
// SIGKILL; when ctx ends, whatever still runs is killed at once. Stop
// reports what did not stop cleanly. Calling it again does nothing.
func (c *Cluster) Stop(ctx context.Context) error {
	if !c.stopping.CompareAndSwap(false, true) {
		return nil
	}
	var (
		mu   sync.Mutex
		errs []error
	)
	stopAll := func(ps []*Proc) {
		t := time.Now()
		defer func() {
			if len(ps) > 0 {
				c.note("stopped %d %s program(s) in %v", len(ps), ps[0].Name, time.Since(t).Round(time.Millisecond))
			}
		}()
		var wg sync.WaitGroup
		for _, p := range ps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := p.stop(5*time.Second, ctx.Done()); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	stopAll(c.writers)
	t := time.Now()
	var wg sync.WaitGroup
	for _, b := range c.balancers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if err := b.Stop(sctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	c.note("stopped %d HAProxy in %v", len(c.balancers), time.Since(t).Round(time.Millisecond))
	stopAll(c.reps)
	stopAll(c.apps)
	stopAll(c.services)
	close(c.quit)
	if c.watcher != nil {
		c.watcher.Close()
	}
	if c.zk != nil {
		stopAll([]*Proc{c.zk})
	}
	c.bg.Wait()
	for _, b := range c.balancers {
		if pid, ok := b.Running(context.Background()); ok {
			errs = append(errs, fmt.Errorf("HAProxy (pid %d, %s) still runs", pid, b.ConfigFile))
		}
	}
	if c.logFile != nil {
		c.logFile.Close()
	}
	if c.lock != nil {
		c.lock.Close()
	}
	return errors.Join(errs...)
}

// RunDir is where logs, pid files and HAProxy's files are.
func (c *Cluster) RunDir() string { return c.runDir }

// HostIP returns a host's address.
func (c *Cluster) HostIP(host string) string {
	if hs, ok := c.hosts[host]; ok {
		return hs.IP
	}
	return ""
}

// Config returns the config a host runs with (nil for a host without one).
func (c *Cluster) Config(host string) *model.Config {
	if hs, ok := c.hosts[host]; ok {
		return hs.config
	}
	return nil
}

// ConfigDir returns the config directory a host runs with.
func (c *Cluster) ConfigDir(host string) string {
	if hs, ok := c.hosts[host]; ok {
		return hs.configDir
	}
	return ""
}

// Addr is a host's address with an example port mapped by the layout.
func (c *Cluster) Addr(host string, port int) string {
	return net.JoinHostPort(c.HostIP(host), strconv.Itoa(c.Layout.Port(port)))
}

// URL is http://Addr(host, port) + path.
func (c *Cluster) URL(host string, port int, path string) string {
	return "http://" + c.Addr(host, port) + path
}

// StatsURL is the URL of a host's HAProxy stats page ("" without one).
func (c *Cluster) StatsURL(host string) string {
	hs, ok := c.hosts[host]
	if !ok || hs.config == nil || hs.config.Balancer == nil || hs.config.Balancer.Stats == nil {
		return ""
	}
	s := hs.config.Balancer.Stats
	bind := s.BindAddress
	if bind == "" || bind == "*" || bind == "0.0.0.0" {
		bind = hs.IP
	}
	return "http://" + net.JoinHostPort(bind, strconv.Itoa(s.Port)) + s.URI
}

// PartnerRecord is the file where the partner records who called it.
func (c *Cluster) PartnerRecord() string { return filepath.Join(c.runDir, "partner", "requests.log") }

// Log is the log file of a host's program ("writer", "reporter", "redis",
// "webapp-8000"; ZooKeeper's is Log("", "zookeeper")).
func (c *Cluster) Log(host, name string) string {
	if host == "" {
		return filepath.Join(c.runDir, name, name+".log")
	}
	return filepath.Join(c.runDir, host, name+".log")
}

func (c *Cluster) pidFileCmd(host, name string) string {
	return "$(cat " + filepath.Join(c.runDir, host, name+".pid") + ")"
}

// Summary describes what runs where, and what to try.
func (c *Cluster) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Example %q: %s\n\n", c.Example.Name, c.Example.Title)
	fmt.Fprintf(&b, "  %-11s %-11s %s\n", "host", "address", "runs")
	fmt.Fprintf(&b, "  %-11s %-11s %s\n", "zookeeper", "127.0.0.1", "ZooKeeper :"+strconv.Itoa(c.Layout.Port(ZooKeeperPort)))
	for _, h := range c.Example.Hosts {
		hs := c.hosts[h.Name]
		var runs []string
		if h.Redis != 0 {
			runs = append(runs, fmt.Sprintf("redis-server :%d", c.Layout.Port(h.Redis)))
		}
		for _, a := range h.Apps {
			runs = append(runs, fmt.Sprintf("%s :%d", a.Program, c.Layout.Port(a.Port)))
		}
		if hs.config != nil && len(hs.config.Services) > 0 {
			var svc []string
			for _, id := range hs.config.ServiceIDs() {
				svc = append(svc, hs.config.Services[id].Name)
			}
			runs = append(runs, "reporter ("+strings.Join(svc, ", ")+")")
		}
		if hs.config != nil && hs.config.Balancer != nil {
			var ls []string
			for _, l := range listeners(hs.config) {
				ls = append(ls, fmt.Sprintf("%s :%d%s%s", l.name, l.port, l.uri, l.to))
			}
			runs = append(runs, "writer + HAProxy ("+strings.Join(ls, ", ")+")")
		}
		fmt.Fprintf(&b, "  %-11s %-11s %s\n", h.Name, h.IP, strings.Join(runs, "; "))
		if h.Role != "" {
			fmt.Fprintf(&b, "  %-11s %-11s   %s\n", "", "", h.Role)
		}
	}
	fmt.Fprintf(&b, "\nLogs: %s/<host>/<program>.log (ZooKeeper: %s; this output: %s)\n",
		c.runDir, c.Log("", "zookeeper"), filepath.Join(c.runDir, "demo.log"))
	if c.Layout.inPlace() {
		fmt.Fprintf(&b, "Config dirs: examples/%s/<host> (edit one: its writer or reporter follows)\n", c.Example.Name)
	} else {
		fmt.Fprintf(&b, "Config dirs: %s/config/<host> (rewritten from examples/%s)\n", c.runDir, c.Example.Name)
	}
	fmt.Fprintf(&b, "\nMetrics:\n")
	for _, l := range c.metricsSummary() {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	if c.Example.Try != nil {
		fmt.Fprintf(&b, "\nTry:\n")
		for _, t := range c.Example.Try(c) {
			fmt.Fprintf(&b, "  %s\n", t)
		}
	}
	return b.String()
}
