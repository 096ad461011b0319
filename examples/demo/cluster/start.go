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
	"time"

	"lighthouse/effects/haproxy"
	"lighthouse/effects/zk"
)

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
