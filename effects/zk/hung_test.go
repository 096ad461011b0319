package zk

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"lighthouse/internal/testenv"
)

// A registry whose server hangs (SIGSTOP: it still accepts TCP, nothing
// answers) moves to another server and keeps its session and its znode:
// first the server it is on hangs, then the leader, whose hang makes the
// followers drop their clients until they have elected another, so that the
// client tries the hung server's handshake. Measured with a 4 s session
// (go-zookeeper alone waited 26.7 s in that handshake, and lost the session).
func TestRegistryMovesPastAHungServer(t *testing.T) {
	const sessionTimeout = 4 * time.Second
	e := testenv.StartEnsemble(t)
	logs := &testenv.Buffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("client log:\n%s", logs)
		}
	})
	r, err := Connect(e.Hosts(), sessionTimeout, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	testenv.WaitFor(t, 10*time.Second, "a session", func() bool { return r.Session() != 0 })
	const p = "/lighthouse/services/web/app01.example.com:8000"
	sid, err := r.Register(context.Background(), p, []byte("one"))
	if err != nil {
		t.Fatal(err)
	}

	hang := func(what string, i int, within time.Duration) {
		t.Helper()
		z := e.Servers[i]
		start := time.Now()
		onIt := r.conn.Server() == z.Addr
		z.Pause()
		dropped := false     // the client has left z, or lost its connection
		var served time.Time // when the others served again, if they stopped
		// Long enough for an election (over 13 s once on a loaded machine);
		// CheckSessionMove judges the time after the others served again.
		testenv.WaitFor(t, 6*sessionTimeout, "the session on another server after "+what+" hung", func() bool {
			s := r.Session()
			dropped = dropped || s == 0 || onIt && r.conn.Server() != z.Addr
			if s == 0 && served.IsZero() && e.Serves() {
				served = time.Now()
			}
			return dropped && s == sid && r.conn.Server() != z.Addr
		})
		testenv.CheckSessionMove(t, what, z.Addr, r.conn.Server(), start, served, within, HandshakeTimeout(sessionTimeout, 3))
		testenv.WaitFor(t, sessionTimeout, "registering after "+what+" hung", func() bool {
			_, err := r.Register(context.Background(), p, []byte(what))
			return err == nil
		})
		other := e.Servers[(i+1)%3].Conn(t)
		if data, st, err := other.Get(p); err != nil || string(data) != what || st.EphemeralOwner != sid {
			t.Errorf("after %s hung: %q owner %#x err %v, want %q owner %#x", what, data, st.EphemeralOwner, err, what, sid)
		}
		z.Resume()
		e.Serving()
	}

	// The server the client is on: a follower is left after the client's
	// read timeout (2/3 of the session) at most, then one handshake. (If it
	// is the leader, the followers elect another meanwhile, as below.)
	on := e.Index(r.conn.Server())
	within := sessionTimeout*2/3 + HandshakeTimeout(sessionTimeout, 3) + time.Second
	if e.Servers[on].Mode() == "leader" {
		within = 3 * sessionTimeout // the followers elect another: see checkMove
	}
	hang("the client's server", on, within)

	// The leader: the followers give up on it after syncLimit (2.5 s) and
	// elect another; meanwhile the client tries every server, the hung one
	// too.
	hang("the leader", e.Leader(), 3*sessionTimeout)
}

// A handshake with a hung server ends after HandshakeTimeout, whatever the
// library asks for.
func TestHandshakeTimeout(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	z.Pause()
	defer z.Resume()
	for _, tc := range []struct {
		session time.Duration
		servers int
		want    time.Duration
	}{{3 * time.Second, 1, time.Second}, {3 * time.Second, 3, time.Second}, {3 * time.Second, 6, 500 * time.Millisecond}} {
		if got := HandshakeTimeout(tc.session, tc.servers); got != tc.want {
			t.Errorf("HandshakeTimeout(%v, %d) = %v, want %v", tc.session, tc.servers, got, tc.want)
		}
		c, err := Dialer(tc.session, make([]string, tc.servers), nil)("tcp", z.Addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		c.SetWriteDeadline(start.Add(time.Minute))
		if _, err := c.Write(make([]byte, 48)); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Time{}) // as go-zookeeper does before reading the response's body
		_, err = c.Read(make([]byte, 4))
		took := time.Since(start)
		c.Close()
		if err == nil || took > tc.want+200*time.Millisecond || took < tc.want-200*time.Millisecond {
			t.Errorf("session %v, %d servers: read from a hung server returned %v after %v, want a timeout after %v", tc.session, tc.servers, err, took, tc.want)
		}
	}
}

// A client whose every host is unreachable warns once, whatever the number
// of attempts, and says so when a host answers again.
func TestUnreachableHostsWarnOnce(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	closed := testenv.FreePort(t) // nothing listens there
	hosts := []string{fmt.Sprintf("127.0.0.1:%d", closed)}
	logs := &testenv.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	dial := Dialer(3*time.Second, hosts, log)
	for i := 0; i < 5; i++ {
		if c, err := dial("tcp", hosts[0], time.Second); err == nil {
			c.Close()
			t.Fatal("dialled a port nothing listens on")
		}
	}
	if n := strings.Count(logs.String(), "no ZooKeeper host answers"); n != 1 {
		t.Fatalf("warned %d times after 5 failed attempts, want once:\n%s", n, logs)
	}
	conn, _, err := zk.Connect([]string{z.Addr}, 3*time.Second, zk.WithDialer(dial), zk.WithLogger(zkLogger{slog.New(slog.DiscardHandler)}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	testenv.WaitFor(t, 10*time.Second, "the recovery is logged", func() bool {
		return strings.Contains(logs.String(), "a ZooKeeper host answers again")
	})
}
