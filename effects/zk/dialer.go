package zk

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
)

// HandshakeTimeout is how long a client of ours waits for a server to
// answer its connect request before it tries the next server: a third of
// the session timeout, or less with more than three servers (the session
// timeout divided by their number, as the Java client allows), so that a
// client can try every server once and still keep its session.
//
// go-zookeeper (v1.0.4, conn.go, authenticate) waits ten times its read
// timeout, 10 × 2/3 of the session timeout (66.7 s with a 10 s session),
// and a hung server (stopped, or stalled in a long pause) still accepts
// TCP connections: its clients lost their sessions waiting.
func HandshakeTimeout(sessionTimeout time.Duration, servers int) time.Duration {
	d := sessionTimeout / 3
	if servers > 3 {
		d = sessionTimeout / time.Duration(servers)
	}
	return d
}

// Dialer returns the dialer our ZooKeeper clients use (zk.WithDialer): it
// connects within the library's connect timeout, and gives the handshake,
// from the dial to the end of the server's connect response, at most
// HandshakeTimeout(sessionTimeout, servers), whatever deadlines the library
// asks for meanwhile. After the handshake the library's deadlines stand
// (a server that stops answering on an established connection is left
// after its read timeout, 2/3 of the session timeout).
//
// When as many attempts in a row as there are hosts fail (no connection,
// or no handshake), it logs one warning naming the hosts and the last
// error, and once a handshake succeeds again, one line saying so: a typo in
// `hosts` or an ensemble that is down shows at warn level at once, without
// a line per attempt. log may be nil.
func Dialer(sessionTimeout time.Duration, hosts []string, log *slog.Logger) zk.Dialer {
	return dialer(sessionTimeout, hosts, nil, log)
}

// Dialer is the package's Dialer for a client with this security: before
// each attempt it reads the credentials (until read once) and the TLS
// files, and with tls it runs the TLS handshake within the same bound as
// ZooKeeper's own. A file that cannot be used, or a handshake that fails,
// fails the attempt with an error naming the file or the server, and is
// warned about like an unreachable ensemble: once until a connection works.
func (s *Security) Dialer(sessionTimeout time.Duration, hosts []string, log *slog.Logger) zk.Dialer {
	return dialer(sessionTimeout, hosts, s, log)
}

func dialer(sessionTimeout time.Duration, hosts []string, sec *Security, log *slog.Logger) zk.Dialer {
	bound := HandshakeTimeout(sessionTimeout, len(hosts))
	r := &reachability{log: log, hosts: hosts}
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		start := time.Now()
		var tlsConfig *tls.Config
		if sec != nil {
			var err error
			if tlsConfig, err = sec.prepare(); err != nil {
				r.failed(err)
				return nil, err
			}
		}
		c, err := net.DialTimeout(network, address, min(timeout, bound))
		if err != nil {
			r.failed(err)
			return nil, err
		}
		if tlsConfig != nil {
			if c, err = sec.handshakeTLS(c, tlsConfig, address, start.Add(bound)); err != nil {
				r.failed(err)
				return nil, err
			}
		}
		hc := &handshakeConn{Conn: c, deadline: start.Add(bound), reach: r}
		if err := c.SetDeadline(hc.deadline); err != nil {
			c.Close()
			return nil, err
		}
		return hc, nil
	}
}

// reachability counts the attempts in a row that reached no server.
type reachability struct {
	log    *slog.Logger
	hosts  []string
	misses atomic.Int64
	warned atomic.Bool
}

func (r *reachability) failed(err error) {
	if r.misses.Add(1) >= int64(len(r.hosts)) && r.log != nil && r.warned.CompareAndSwap(false, true) {
		var se setupError
		if errors.As(err, &se) {
			r.log.Error("cannot connect to ZooKeeper: a credentials or TLS problem; trying again", "component", "zookeeper",
				"hosts", strings.Join(r.hosts, ","), "err", err)
			return
		}
		r.log.Warn("no ZooKeeper host answers; trying again (a wrong discovery host, or the ensemble is down?)", "component", "zookeeper",
			"hosts", strings.Join(r.hosts, ","), "err", err)
	}
}

func (r *reachability) answered() {
	r.misses.Store(0)
	if r.warned.Swap(false) && r.log != nil {
		r.log.Info("a ZooKeeper host answers again", "component", "zookeeper", "hosts", strings.Join(r.hosts, ","))
	}
}

// handshakeConn caps every deadline at the handshake's until the connect
// response has been read in full (a 4-byte length, then that many bytes),
// then clears them and passes everything through. The library reads and
// sets deadlines from one goroutine during the handshake.
type handshakeConn struct {
	net.Conn
	deadline time.Time   // of the handshake
	hdr      [4]byte     // the response's length, as read so far
	got      int         // bytes of the response read so far
	done     atomic.Bool // the response has been read
	reach    *reachability
	closed   atomic.Bool
}

// Close counts a connection closed before its handshake as a miss.
func (c *handshakeConn) Close() error {
	if !c.done.Load() && c.closed.CompareAndSwap(false, true) && c.reach != nil {
		c.reach.failed(errHandshake)
	}
	return c.Conn.Close()
}

// errHandshake is a server that accepted the connection but did not finish
// the handshake.
var errHandshake = handshakeError{}

type handshakeError struct{}

func (handshakeError) Error() string {
	return "the server accepted the connection but did not answer the handshake"
}

func (c *handshakeConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && !c.done.Load() {
		c.count(b[:n])
	}
	return n, err
}

// count follows the connect response through the bytes read.
func (c *handshakeConn) count(b []byte) {
	for _, x := range b {
		if c.got < 4 {
			c.hdr[c.got] = x
		}
		c.got++
		if c.got >= 4 && c.got-4 >= int(binary.BigEndian.Uint32(c.hdr[:])) {
			c.done.Store(true)
			c.Conn.SetDeadline(time.Time{})
			if c.reach != nil {
				c.reach.answered()
			}
			return
		}
	}
}

// capped is t, or the handshake's deadline if that is earlier or t is
// zero (no deadline), while the handshake lasts.
func (c *handshakeConn) capped(t time.Time) time.Time {
	if c.done.Load() || !t.IsZero() && t.Before(c.deadline) {
		return t
	}
	return c.deadline
}

func (c *handshakeConn) SetDeadline(t time.Time) error { return c.Conn.SetDeadline(c.capped(t)) }

func (c *handshakeConn) SetReadDeadline(t time.Time) error {
	return c.Conn.SetReadDeadline(c.capped(t))
}

func (c *handshakeConn) SetWriteDeadline(t time.Time) error {
	return c.Conn.SetWriteDeadline(c.capped(t))
}
