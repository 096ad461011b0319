package zk

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"lighthouse/internal/testenv"
	"lighthouse/model"
)

func nodeData(host, ip string, port int) []byte {
	return model.Node{Host: host, IP: ip, Port: port, Peer: &model.Peer{Name: host, IP: ip, Port: model.DefaultPeerPort}}.Encode()
}

// latest collects updates and answers "what is the state of cluster X now".
type latest struct {
	t *testing.T
	w *Watcher
	m map[string]model.MembershipUpdate
	// all is every update, in order.
	all []model.MembershipUpdate
}

func (l *latest) pump() {
	for {
		select {
		case u := <-l.w.Updates():
			l.m[u.Cluster] = u
			l.all = append(l.all, u)
		default:
			return
		}
	}
}

func (l *latest) waitFor(what string, cond func(map[string]model.MembershipUpdate) bool) {
	l.t.Helper()
	testenv.WaitFor(l.t, 15*time.Second, what, func() bool { l.pump(); return cond(l.m) })
}

func names(u model.MembershipUpdate) string {
	var s []string
	for _, n := range u.Nodes {
		s = append(s, n.Name()+"@"+n.IP)
	}
	return strings.Join(s, ",")
}

func create(t *testing.T, c *zk.Conn, p string, data []byte, flags int32) {
	t.Helper()
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i := 1; i < len(parts); i++ {
		_, err := c.Create("/"+strings.Join(parts[:i], "/"), nil, 0, zk.WorldACL(zk.PermAll))
		if err != nil && err != zk.ErrNodeExists {
			t.Fatal(err)
		}
	}
	if _, err := c.Create(p, data, flags, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create %s: %v", p, err)
	}
}

func TestWatcherFollowsMembers(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	c := z.Conn(t)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	w, err := ConnectWatcher(model.Discovery{Hosts: z.Hosts(), Path: "/lh/services"}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	l := &latest{t: t, w: w, m: map[string]model.MembershipUpdate{}}

	create(t, c, "/lh/services/web/a.example:80", nodeData("a.example", "10.0.0.1", 80), 0)
	w.Watch([]string{"web", "later"})
	l.waitFor("web has a", func(m map[string]model.MembershipUpdate) bool {
		return m["web"].Known && names(m["web"]) == "a.example:80@10.0.0.1"
	})
	l.waitFor("later is known and empty", func(m map[string]model.MembershipUpdate) bool {
		return m["later"].Known && len(m["later"].Nodes) == 0
	})

	// A member joins; a bad one is ignored; data changes are seen.
	create(t, c, "/lh/services/web/b.example:81", nodeData("b.example", "10.0.0.2", 81), zk.FlagEphemeral)
	create(t, c, "/lh/services/web/bad:1", []byte(`{"host":"bad","ip":"1.2.3.4\nbackend x","port":1}`), 0)
	l.waitFor("web has a and b", func(m map[string]model.MembershipUpdate) bool {
		return names(m["web"]) == "a.example:80@10.0.0.1,b.example:81@10.0.0.2"
	})
	if _, err := c.Set("/lh/services/web/a.example:80", nodeData("a.example", "10.0.0.9", 80), -1); err != nil {
		t.Fatal(err)
	}
	l.waitFor("a moved", func(m map[string]model.MembershipUpdate) bool {
		return names(m["web"]) == "a.example:80@10.0.0.9,b.example:81@10.0.0.2"
	})
	if err := c.Delete("/lh/services/web/b.example:81", -1); err != nil {
		t.Fatal(err)
	}
	l.waitFor("b left", func(m map[string]model.MembershipUpdate) bool { return names(m["web"]) == "a.example:80@10.0.0.9" })

	// A cluster znode that appears later is picked up.
	create(t, c, "/lh/services/later/x.example:90", nodeData("x.example", "10.0.0.5", 90), 0)
	l.waitFor("later has x", func(m map[string]model.MembershipUpdate) bool { return names(m["later"]) == "x.example:90@10.0.0.5" })

	// ZooKeeper down: membership unknown (the writer keeps the last nodes).
	z.Stop()
	l.waitFor("web unknown", func(m map[string]model.MembershipUpdate) bool { return !m["web"].Known })
	z.Start()
	c2 := z.Conn(t)
	create(t, c2, "/lh/services/web/c.example:82", nodeData("c.example", "10.0.0.3", 82), 0)
	l.waitFor("web known again with c", func(m map[string]model.MembershipUpdate) bool {
		return m["web"].Known && names(m["web"]) == "a.example:80@10.0.0.9,c.example:82@10.0.0.3"
	})

	// Session expiry: watches are set again.
	for _, id := range z.Sessions() {
		if id == w.conn.SessionID() {
			z.ExpireSession(t, id)
		}
	}
	time.Sleep(100 * time.Millisecond)
	create(t, c2, "/lh/services/web/d.example:83", nodeData("d.example", "10.0.0.4", 83), 0)
	l.waitFor("d seen after expiry", func(m map[string]model.MembershipUpdate) bool {
		return m["web"].Known && strings.Contains(names(m["web"]), "d.example:83")
	})

	// Unwatched clusters stop.
	w.Watch([]string{"later"})
	if err := c2.Delete("/lh/services/web/c.example:82", -1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	l.pump()
	if strings.Contains(fmt.Sprint(l.m["web"]), "c.example") == false {
		t.Errorf("web was updated after it was unwatched: %v", l.m["web"])
	}
}

// A missing cluster znode is unknown, not empty, once it has existed: a
// deleted <path>/<cluster> (as zkCli's deleteall does it, one transaction),
// and a changed discovery path under which the cluster is missing, keep the
// last known members and say which znode is missing. A cluster that has
// never existed is empty.
func TestMissingClusterZnodeIsUnknown(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	c := z.Conn(t)
	logs := &testenv.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	w, err := ConnectWatcher(model.Discovery{Hosts: z.Hosts(), Path: "/lh/services"}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	l := &latest{t: t, w: w, m: map[string]model.MembershipUpdate{}}
	create(t, c, "/lh/services/web/a.example:80", nodeData("a.example", "10.0.0.1", 80), 0)
	create(t, c, "/lh/services/web/b.example:81", nodeData("b.example", "10.0.0.2", 81), 0)
	w.Watch([]string{"web", "never"})
	l.waitFor("web has a and b, never is empty", func(m map[string]model.MembershipUpdate) bool {
		return m["web"].Known && names(m["web"]) == "a.example:80@10.0.0.1,b.example:81@10.0.0.2" &&
			m["never"].Known && len(m["never"].Nodes) == 0
	})
	if !strings.Contains(logs.String(), "does not exist yet") || !strings.Contains(logs.String(), "znode=/lh/services/never") {
		t.Errorf("nothing said that /lh/services/never does not exist:\n%s", logs)
	}

	// deleteall: the children and the cluster znode in one transaction.
	before := len(l.all)
	if _, err := c.Multi(
		&zk.DeleteRequest{Path: "/lh/services/web/a.example:80", Version: -1},
		&zk.DeleteRequest{Path: "/lh/services/web/b.example:81", Version: -1},
		&zk.DeleteRequest{Path: "/lh/services/web", Version: -1}); err != nil {
		t.Fatal(err)
	}
	l.waitFor("web unknown", func(m map[string]model.MembershipUpdate) bool { return !m["web"].Known })
	for _, u := range l.all[before:] {
		if u.Cluster == "web" && (u.Known || u.Nodes != nil) {
			t.Errorf("after the deletion web was %+v; want unknown with nil nodes (keep the last known)", u)
		}
	}
	testenv.WaitFor(t, 5*time.Second, "a warning naming the missing znode", func() bool {
		return strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "znode=/lh/services/web")
	})
	// No update says otherwise while it stays missing.
	time.Sleep(300 * time.Millisecond)
	l.pump()
	if l.m["web"].Known {
		t.Errorf("web known again while its znode is missing: %v", l.m["web"])
	}

	// Back, empty: known and empty now (the znode exists).
	create(t, c, "/lh/services/web", nil, 0)
	l.waitFor("web known and empty", func(m map[string]model.MembershipUpdate) bool { return m["web"].Known && len(m["web"].Nodes) == 0 })
	if !strings.Contains(logs.String(), "the cluster znode is back") {
		t.Errorf("nothing said the znode is back:\n%s", logs)
	}
	create(t, c, "/lh/services/web/c.example:82", nodeData("c.example", "10.0.0.3", 82), 0)
	l.waitFor("web has c", func(m map[string]model.MembershipUpdate) bool { return names(m["web"]) == "c.example:82@10.0.0.3" })

	// A new Watcher on a path with a typo (as the writer makes when the
	// discovery path changes): web has existed in this ensemble, so it is
	// unknown there; never still has not, so it is empty.
	w.Close()
	logs2 := &testenv.Buffer{}
	w2, err := ConnectWatcher(model.Discovery{Hosts: z.Hosts(), Path: "/lh/servics"}, slog.New(slog.NewTextHandler(logs2, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	l2 := &latest{t: t, w: w2, m: map[string]model.MembershipUpdate{}}
	w2.Watch([]string{"web", "never"})
	l2.waitFor("web unknown, never empty under the typo", func(m map[string]model.MembershipUpdate) bool {
		u, ok := m["web"]
		return ok && !u.Known && m["never"].Known && len(m["never"].Nodes) == 0
	})
	testenv.WaitFor(t, 5*time.Second, "a warning naming the typo's znode", func() bool {
		return strings.Contains(logs2.String(), "level=WARN") && strings.Contains(logs2.String(), "znode=/lh/servics/web")
	})
}

// A watcher whose server hangs (SIGSTOP) moves to another server and keeps
// its session and its watches: first the server it is on hangs, then the
// leader (the followers drop their clients until they have elected
// another, so the watcher tries the hung server's handshake too).
func TestWatcherMovesPastAHungServer(t *testing.T) {
	const sessionTimeout = 4 * time.Second
	e := testenv.StartEnsemble(t)
	logs := &testenv.Buffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("watcher log:\n%s", logs)
		}
	})
	create(t, e.Servers[0].Conn(t), "/lh/services/web/a.example:80", nodeData("a.example", "10.0.0.1", 80), 0)
	w, err := ConnectWatcher(model.Discovery{Hosts: e.Hosts(), Path: "/lh/services", SessionTimeout: sessionTimeout},
		slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	l := &latest{t: t, w: w, m: map[string]model.MembershipUpdate{}}
	w.Watch([]string{"web"})
	l.waitFor("web has a", func(m map[string]model.MembershipUpdate) bool { return names(m["web"]) == "a.example:80@10.0.0.1" })
	sid := w.conn.SessionID()
	member := 1

	hang := func(what string, i int, within time.Duration) {
		t.Helper()
		z := e.Servers[i]
		onIt := w.conn.Server() == z.Addr
		start := time.Now()
		z.Pause()
		dropped := false     // the watcher has left z, or lost its connection
		var served time.Time // when the others served again, if they stopped
		// Long enough for an election (over 13 s once on a loaded machine);
		// CheckSessionMove judges the time after the others served again.
		testenv.WaitFor(t, 6*sessionTimeout, "the session on another server after "+what+" hung", func() bool {
			has := w.conn.State() == zk.StateHasSession
			dropped = dropped || !has || onIt && w.conn.Server() != z.Addr
			if !has && served.IsZero() && e.Serves() {
				served = time.Now()
			}
			return dropped && has && w.conn.SessionID() == sid && w.conn.Server() != z.Addr
		})
		testenv.CheckSessionMove(t, what, z.Addr, w.conn.Server(), start, served, within, HandshakeTimeout(sessionTimeout, 3))
		// The watches stand: a new member is seen.
		member++
		n := fmt.Sprintf("m%d.example:%d", member, 80+member)
		c := e.Servers[(i+1)%3].Conn(t)
		testenv.WaitFor(t, 10*time.Second, "creating "+n, func() bool { // the ensemble may still settle
			_, err := c.Create("/lh/services/web/"+n, nodeData(fmt.Sprintf("m%d.example", member), "10.0.0.9", 80+member), 0, zk.WorldACL(zk.PermAll))
			return err == nil || err == zk.ErrNodeExists
		})
		l.waitFor(n+" seen", func(m map[string]model.MembershipUpdate) bool {
			return m["web"].Known && strings.Contains(names(m["web"]), n)
		})
		z.Resume()
		e.Serving()
	}

	on := e.Index(w.conn.Server())
	within := sessionTimeout*2/3 + HandshakeTimeout(sessionTimeout, 3) + time.Second
	if e.Servers[on].Mode() == "leader" {
		within = 3 * sessionTimeout // the followers elect another: see testenv.CheckSessionMove
	}
	hang("the watcher's server", on, within)
	hang("the leader", e.Leader(), 3*sessionTimeout)
}

// After a session expiry, every cluster is read again, each after a random
// delay within resync_jitter: the reads of a reconnect are counted and
// spread out, and the last known members stay known meanwhile.
func TestWatcherSpreadsReadsAfterReconnect(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	c := z.Conn(t)
	const clusters, nodes = 20, 2
	const jitter = time.Second
	var names []string
	for i := range clusters {
		name := fmt.Sprintf("c%02d", i)
		names = append(names, name)
		for j := range nodes {
			create(t, c, fmt.Sprintf("/lh/services/%s/n%d.example:%d", name, j, 80+j), nodeData(fmt.Sprintf("n%d.example", j), "10.0.0.1", 80+j), 0)
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	w, err := ConnectWatcher(model.Discovery{Hosts: z.Hosts(), Path: "/lh/services", ResyncJitter: jitter}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	l := &latest{t: t, w: w, m: map[string]model.MembershipUpdate{}}
	w.Watch(names)
	l.waitFor("every cluster known", func(m map[string]model.MembershipUpdate) bool {
		for _, n := range names {
			if !m[n].Known || len(m[n].Nodes) != nodes {
				return false
			}
		}
		return true
	})
	first := w.Reads()
	if first != clusters*(1+nodes) {
		t.Errorf("%d reads at start, want %d (a list and %d nodes per cluster)", first, clusters*(1+nodes), nodes)
	}

	for _, id := range z.Sessions() {
		if id == w.conn.SessionID() {
			z.ExpireSession(t, id)
		}
	}
	// Sample the read count from the first read of the new session until
	// it has been still for a while.
	testenv.WaitFor(t, 15*time.Second, "the reads of the new session", func() bool { l.pump(); return w.Reads() > first })
	times := []time.Time{time.Now()}
	last, still := first+1, time.Now()
	for time.Since(still) < jitter+time.Second {
		if n := w.Reads(); n != last {
			for range n - last {
				times = append(times, time.Now())
			}
			last, still = n, time.Now()
		}
		l.pump()
		time.Sleep(5 * time.Millisecond)
	}
	got := last - first
	t.Logf("%d reads after the reconnect, spread over %v", got, times[len(times)-1].Sub(times[0]).Round(time.Millisecond))
	if got < clusters*(1+nodes) || got > clusters*(2+nodes) {
		t.Errorf("%d reads after the reconnect, want %d to %d", got, clusters*(1+nodes), clusters*(2+nodes))
	}
	if spread := times[len(times)-1].Sub(times[0]); spread < jitter/3 {
		t.Errorf("the reads of a reconnect came within %v; want them spread over up to %v", spread, jitter)
	}
	for _, n := range names {
		if u := l.m[n]; !u.Known || len(u.Nodes) != nodes {
			t.Errorf("%s after the reconnect: %+v", n, u)
		}
	}
}
