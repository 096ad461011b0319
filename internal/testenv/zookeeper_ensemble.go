package testenv

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// Ensemble is a three-server ZooKeeper ensemble started by StartEnsemble.
type Ensemble struct {
	// Servers are the members; Servers[i] has myid i+1. Each one is a
	// ZooKeeper: Stop, Start, Pause, Resume, Mode and FourLetterWord work
	// on it alone.
	Servers []*ZooKeeper

	t testing.TB
}

// StartEnsemble starts a three-server ensemble on 127.0.0.1: nine free
// ports (client, quorum and election port of each server), one short
// temporary directory per server, the configuration of StartZooKeeper
// (tickTime=500, so sessions of 1 s to 10 s; initLimit=10, syncLimit=5:
// followers give up on a silent leader after 2.5 s) plus the server list,
// and -Dzookeeper.cnxTimeout=1000: an election waits a second, not five,
// for a hung peer's election port.
// All three start together; it returns when every one serves as leader or
// follower (about 2–3 s). The servers are killed when the test ends.
func StartEnsemble(t testing.TB, opts ...ZKOption) *Ensemble {
	t.Helper()
	skipIfShort(t, "a ZooKeeper ensemble")
	Require(t, "zookeeper")
	e := &Ensemble{t: t}
	for i := range 3 {
		z := newZooKeeper(t, fmt.Sprintf("zookeeper %d", i+1), zkConfig{tickTime: 500}, opts)
		if err := os.WriteFile(filepath.Join(z.Dir, "data", "myid"), []byte(strconv.Itoa(i+1)+"\n"), 0o644); err != nil {
			t.Fatalf("testenv: %v", err)
		}
		e.Servers = append(e.Servers, z)
	}
	// A free port may be taken before java binds it: retry with others.
	for attempt := 1; ; attempt++ {
		err := e.start()
		if err == nil {
			return e
		}
		for _, z := range e.Servers {
			if z.proc != nil {
				z.proc.Kill()
			}
		}
		taken := false
		for _, z := range e.Servers {
			taken = taken || logContains(z.LogPath, "Address already in use")
		}
		if attempt < 3 && taken {
			t.Logf("testenv: a zookeeper ensemble port was taken, retrying: %v", err)
			continue
		}
		t.Fatalf("testenv: start zookeeper ensemble: %v", err)
	}
}

// start picks ports, writes every zoo.cfg, starts the three servers and
// waits until each serves.
func (e *Ensemble) start() error {
	var quorum []string
	for i, z := range e.Servers {
		z.Port = FreePort(e.t)
		z.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(z.Port))
		z.PlainAddr = z.Addr
		quorum = append(quorum, fmt.Sprintf("server.%d=127.0.0.1:%d:%d", i+1, FreePort(e.t), FreePort(e.t)))
	}
	for _, z := range e.Servers {
		z.quorum = quorum
		z.writeConfig()
		if err := z.launch(); err != nil {
			return err
		}
	}
	for _, z := range e.Servers {
		if err := z.waitServing(30 * time.Second); err != nil {
			return err
		}
	}
	return nil
}

// Hosts returns the client addresses of all servers, in myid order.
func (e *Ensemble) Hosts() []string {
	var hosts []string
	for _, z := range e.Servers {
		hosts = append(hosts, z.Addr)
	}
	return hosts
}

// Index returns the index in Servers of the server with client address
// addr (as (*zk.Conn).Server() names it), -1 if none.
func (e *Ensemble) Index(addr string) int {
	for i, z := range e.Servers {
		if z.Addr == addr {
			return i
		}
	}
	return -1
}

// Leader waits (up to 15 s) until exactly one running, unpaused server says
// it leads (`srvr`) and returns its index in Servers.
func (e *Ensemble) Leader() int {
	e.t.Helper()
	leader := -1
	WaitFor(e.t, 15*time.Second, "a zookeeper leader", func() bool {
		leader = -1
		for i, z := range e.Servers {
			if z.paused || !z.Running() {
				continue
			}
			if z.Mode() == "leader" {
				if leader >= 0 {
					return false
				}
				leader = i
			}
		}
		return leader >= 0
	})
	return leader
}

// Serving waits (up to 15 s) until every running, unpaused server serves
// as leader or follower.
func (e *Ensemble) Serving() {
	e.t.Helper()
	WaitFor(e.t, 15*time.Second, "every running zookeeper to serve", e.Serves)
}

// Serves reports whether every running, unpaused server serves now as
// leader or follower (after a leader is lost, the others serve again once
// they have elected another).
func (e *Ensemble) Serves() bool {
	for _, z := range e.Servers {
		if z.paused || !z.Running() {
			continue
		}
		if m := z.Mode(); m != "leader" && m != "follower" {
			return false
		}
	}
	return true
}

// Connect opens a go-zookeeper client to the whole ensemble, as
// (*ZooKeeper).Connect does to one server.
func (e *Ensemble) Connect(t testing.TB, sessionTimeout time.Duration) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	return connectZK(t, e.Hosts(), sessionTimeout, nil)
}

// Conn is Connect with a 5 s session timeout and no event channel.
func (e *Ensemble) Conn(t testing.TB) *zk.Conn {
	t.Helper()
	c, _ := e.Connect(t, 5*time.Second)
	return c
}
