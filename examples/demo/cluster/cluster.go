package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
