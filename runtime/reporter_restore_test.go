package runtime_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"lighthouse/internal/testenv"
)

// The check interval of the services in these tests: a registration
// changed by someone else must be put right within it.
const restoreInterval = 2 * time.Second

// restoreService is a service file checking one HTTP port every
// restoreInterval, up after one pass and down after one failure.
func restoreService(port int) string {
	return fmt.Sprintf(`ports: [%d]
discovery: zookeeper
checks:
  interval: %s
  http: {uri: /health, rise: 1, fall: 1}
`, port, restoreInterval)
}

// ours waits until p holds the reporter's data in session owner (0: any
// session but other) and returns how long that took. It waits up to two
// check intervals: a restore held back by the rate limit takes up to one.
func (r *reporterRig) ours(p, data string, owner, other int64) time.Duration {
	r.t.Helper()
	start := time.Now()
	testenv.WaitFor(r.t, 2*restoreInterval, p+" restored", func() bool {
		got, st, ok, err := r.lookup(p)
		return err == nil && ok && string(got) == data &&
			(owner == 0 && st.EphemeralOwner != other || owner != 0 && st.EphemeralOwner == owner)
	})
	return time.Since(start)
}

// restoreRig is a reporter registering one healthy HTTP port, checked
// every restoreInterval: p is its znode, data what the reporter writes
// there, session the reporter's session.
type restoreRig struct {
	*reporterRig
	web     *healthServer
	p, data string
	session int64
}

func startRestoreRig(t *testing.T) *restoreRig {
	rig := newRig(t)
	web := newHealthServer(t)
	rig.write("services/web.yaml", restoreService(web.port))
	rig.start()
	p := rig.znode("web", web.port)
	data, st := rig.waitPresent(p)
	return &restoreRig{reporterRig: rig, web: web, p: p, data: string(data), session: st.EphemeralOwner}
}

// lines returns the reporter's log lines that hold every one of words.
func (r *reporterRig) lines(words ...string) []string { return r.logs.Lines(words...) }

// A registration deleted by another client while the port is up is
// registered again within one check interval, and the reporter says so.
func TestReporterRestoresDeletedRegistration(t *testing.T) {
	rig := startRestoreRig(t)
	p, data, session := rig.p, rig.data, rig.session

	for i := range 2 {
		if i > 0 {
			time.Sleep(restoreInterval) // not held back by the rate limit
		}
		if err := rig.conn.Delete(p, -1); err != nil {
			t.Fatal(err)
		}
		took := rig.ours(p, data, session, 0)
		t.Logf("deletion %d restored after %v", i+1, took)
		if took > restoreInterval {
			t.Errorf("deletion %d restored after %v, more than the check interval", i+1, took)
		}
	}
	if got := rig.lines("level=WARN", "registration changed by someone else", "znode="+p, "deleted by another client"); len(got) != 2 {
		t.Errorf("%d warn lines for 2 deletions:\n%s", len(got), strings.Join(got, "\n"))
	}
}

// A registration whose data another client overwrites is rewritten within
// one check interval. A client that keeps overwriting it is answered at
// most once per check interval: a warn line per interval, not a loop.
func TestReporterRestoresOverwrittenRegistration(t *testing.T) {
	rig := startRestoreRig(t)
	p, data, session := rig.p, rig.data, rig.session

	if _, err := rig.conn.Set(p, []byte(`{"host":"evil","ip":"10.6.6.6","port":1}`), -1); err != nil {
		t.Fatal(err)
	}
	took := rig.ours(p, data, session, 0)
	t.Logf("overwrite restored after %v", took)
	if took > restoreInterval {
		t.Errorf("overwrite restored after %v, more than the check interval", took)
	}
	if got := rig.lines("level=WARN", "registration changed by someone else", "znode="+p, "data overwritten"); len(got) != 1 {
		t.Errorf("%d warn lines for one overwrite:\n%s", len(got), strings.Join(got, "\n"))
	}

	// A fight: another client overwrites the znode every 20 ms for three
	// check intervals.
	before := len(rig.lines("registration changed by someone else"))
	start := time.Now()
	writes := 0
	for time.Since(start) < 3*restoreInterval {
		if _, err := rig.conn.Set(p, []byte(fmt.Sprintf(`{"fight":%d}`, writes)), -1); err != nil {
			t.Fatal(err)
		}
		writes++
		time.Sleep(20 * time.Millisecond)
	}
	fight := len(rig.lines("registration changed by someone else")) - before
	restores := len(rig.lines("level=INFO", "msg=registered", "znode="+p)) - 1
	t.Logf("%d overwrites in %v: %d warn lines, %d restores", writes, time.Since(start).Round(time.Millisecond), fight, restores)
	// One restore at once, then one per interval: 4 in 3 intervals, and
	// one more when the timing falls on an edge.
	if fight < 2 || fight > 5 {
		t.Errorf("%d warn lines during a fight of three check intervals; want 2 to 5", fight)
	}
	if restores < 2 || restores > 6 {
		t.Errorf("%d restores during a fight of three check intervals; want 2 to 6", restores)
	}
	// Once the other client stops, ours is back within an interval.
	rig.ours(p, data, session, 0)
}

// A registration deleted and created again by another session is taken
// back while the port is up. While the port is down, a znode that another
// session creates is left alone (another reporter may own it), and logged
// once.
func TestReporterRecreatedRegistration(t *testing.T) {
	rig := startRestoreRig(t)
	p, data, session := rig.p, rig.data, rig.session
	other := rig.conn.SessionID()

	// Up: taken back from the other session.
	if _, err := rig.conn.Multi(
		&gozk.DeleteRequest{Path: p, Version: -1},
		&gozk.CreateRequest{Path: p, Data: []byte(`{"other":1}`), Acl: gozk.WorldACL(gozk.PermAll), Flags: gozk.FlagEphemeral}); err != nil {
		t.Fatal(err)
	}
	took := rig.ours(p, data, session, 0)
	t.Logf("re-created znode taken back after %v", took)
	if took > restoreInterval {
		t.Errorf("re-created znode taken back after %v, more than the check interval", took)
	}
	if got := rig.lines("level=WARN", "znode="+p, "replaced by another session", fmt.Sprintf("owner=%#x", other)); len(got) != 1 {
		t.Errorf("%d warn lines naming the other session %#x:\n%s", len(got), other, rig.logs.String())
	}

	// Down: deregistered; another session's znode is left alone.
	rig.web.healthy.Store(false)
	rig.waitAbsent(p)
	if _, err := rig.conn.Create(p, []byte(`{"other":2}`), gozk.FlagEphemeral, gozk.WorldACL(gozk.PermAll)); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, restoreInterval, "the foreign znode logged", func() bool {
		return len(rig.lines("level=WARN", "znode="+p, "exists though the port is down")) > 0
	})
	// Three more rounds of checks, and the other client writes to it.
	for i := range 3 {
		time.Sleep(restoreInterval)
		if _, err := rig.conn.Set(p, []byte(fmt.Sprintf(`{"other":%d}`, 3+i)), -1); err != nil {
			t.Fatal(err)
		}
	}
	if got, st, ok := rig.get(p); !ok {
		t.Error("the other session's znode was deleted")
	} else if st.EphemeralOwner != other || string(got) != `{"other":5}` {
		t.Errorf("the other session's znode was touched: owner %#x, data %s", st.EphemeralOwner, got)
	}
	if got := rig.lines("znode="+p, "exists though the port is down"); len(got) != 1 {
		t.Errorf("the foreign znode was logged %d times, want once:\n%s", len(got), strings.Join(got, "\n"))
	}

	// Up again: ours replaces it.
	rig.web.healthy.Store(true)
	rig.ours(p, data, session, 0)
}
