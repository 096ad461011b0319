package testenv

import (
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// Connect opens a go-zookeeper client with the given session timeout and
// waits (up to 10 s) until it has a session. Its log goes to t.Logf; it is
// closed when the test ends. The event channel is returned for the caller
// to read (go-zookeeper drops events nobody reads, it never blocks).
func (z *ZooKeeper) Connect(t testing.TB, sessionTimeout time.Duration) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	var dial zk.Dialer
	if z.TLS != nil {
		cfg := z.TLS.Config(t)
		dial = func(network, address string, timeout time.Duration) (net.Conn, error) {
			return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, network, address, cfg)
		}
	}
	return connectZK(t, z.Hosts(), sessionTimeout, dial)
}

// connectZK connects with dial, the default dialer when nil.
func connectZK(t testing.TB, hosts []string, sessionTimeout time.Duration, dial zk.Dialer) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	lg := &tLogger{t: t}
	if dial == nil {
		dial = net.DialTimeout
	}
	conn, events, err := zk.Connect(hosts, sessionTimeout, zk.WithLogger(lg), zk.WithDialer(dial))
	if err != nil {
		t.Fatalf("testenv: zk.Connect: %v", err)
	}
	t.Cleanup(func() {
		conn.Close()
		lg.close()
	})
	WaitFor(t, 10*time.Second, "a zookeeper session on "+strings.Join(hosts, ","), func() bool {
		return conn.State() == zk.StateHasSession
	})
	return conn, events
}

// Conn is Connect with a 5 s session timeout (long enough to survive a
// Stop/Start of the server: go-zookeeper waits 1 s between reconnection
// rounds) and no event channel.
func (z *ZooKeeper) Conn(t testing.TB) *zk.Conn {
	t.Helper()
	c, _ := z.Connect(t, 5*time.Second)
	return c
}

// tLogger forwards go-zookeeper's log lines to t.Logf until closed (its
// goroutines may log after the test is over, which t.Logf does not allow).
type tLogger struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
}

func (l *tLogger) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.t.Logf("zk: "+format, args...)
	}
}

func (l *tLogger) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}
