package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"lighthouse/effects/haproxy"
)

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
