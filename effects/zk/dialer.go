package zk

import (
	"encoding/binary"
	"net"
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
func Dialer(sessionTimeout time.Duration, servers int) zk.Dialer {
	bound := HandshakeTimeout(sessionTimeout, servers)
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		start := time.Now()
		c, err := net.DialTimeout(network, address, min(timeout, bound))
		if err != nil {
			return nil, err
		}
		hc := &handshakeConn{Conn: c, deadline: start.Add(bound)}
		if err := c.SetDeadline(hc.deadline); err != nil {
			c.Close()
			return nil, err
		}
		return hc, nil
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
