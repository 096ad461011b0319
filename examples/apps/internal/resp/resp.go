// Package resp speaks just enough of Redis's protocol (RESP2) for the example
// apps: it sends a command as an array of bulk strings and reads one reply
// (simple string, error, integer, bulk string or array of those). Each
// command gets a fresh connection, so a client follows its host's HAProxy
// wherever that sends the cache cluster's traffic.
package resp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a reply, the RESP2 type byte.
type Kind byte

// The reply kinds.
const (
	SimpleString Kind = '+'
	Integer      Kind = ':'
	BulkString   Kind = '$'
	Array        Kind = '*'
)

// Reply is one Redis reply. Nil is set for the null bulk string and the
// null array.
type Reply struct {
	Kind  Kind
	Str   string  // SimpleString, BulkString
	Int   int64   // Integer
	Elems []Reply // Array
	Nil   bool
}

// Error is an error reply ("-ERR ...") from the server.
type Error string

func (e Error) Error() string { return "redis: " + string(e) }

// Client sends commands to one Redis address.
type Client struct {
	// Addr is host:port, e.g. this host's HAProxy port for the cache cluster.
	Addr string
	// Timeout bounds one command (dial, write, read); 0 means 2 s.
	Timeout time.Duration
}

// maxBulk bounds a bulk string or array length read from the wire.
const maxBulk = 64 << 20

// Do sends one command on a new connection and returns the reply. An error
// reply is returned as an Error.
func (c Client) Do(ctx context.Context, args ...string) (Reply, error) {
	if len(args) == 0 {
		return Reply{}, errors.New("redis: empty command")
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return Reply{}, fmt.Errorf("redis %s: %w", c.Addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if _, err := conn.Write(Encode(args...)); err != nil {
		return Reply{}, fmt.Errorf("redis %s: %s: %w", c.Addr, args[0], err)
	}
	r, err := Read(bufio.NewReader(conn))
	if err != nil {
		var re Error
		if errors.As(err, &re) {
			return Reply{}, err
		}
		return Reply{}, fmt.Errorf("redis %s: %s: %w", c.Addr, args[0], err)
	}
	return r, nil
}

// Encode renders a command as a RESP array of bulk strings.
func Encode(args ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return []byte(b.String())
}

// Read reads one reply.
func Read(r *bufio.Reader) (Reply, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Reply{}, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return Reply{}, fmt.Errorf("malformed reply line %q", line)
	}
	kind, body := Kind(line[0]), line[1:len(line)-2]
	switch kind {
	case '-':
		return Reply{}, Error(body)
	case SimpleString:
		return Reply{Kind: kind, Str: body}, nil
	case Integer:
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return Reply{}, fmt.Errorf("malformed integer reply %q", body)
		}
		return Reply{Kind: kind, Int: n}, nil
	case BulkString:
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > maxBulk {
			return Reply{}, fmt.Errorf("malformed bulk length %q", body)
		}
		if n == -1 {
			return Reply{Kind: kind, Nil: true}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return Reply{}, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return Reply{}, errors.New("bulk string not terminated by CRLF")
		}
		return Reply{Kind: kind, Str: string(buf[:n])}, nil
	case Array:
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > maxBulk {
			return Reply{}, fmt.Errorf("malformed array length %q", body)
		}
		if n == -1 {
			return Reply{Kind: kind, Nil: true}, nil
		}
		out := Reply{Kind: kind, Elems: make([]Reply, 0, n)}
		for range n {
			e, err := Read(r)
			if err != nil {
				return Reply{}, err
			}
			out.Elems = append(out.Elems, e)
		}
		return out, nil
	}
	return Reply{}, fmt.Errorf("unknown reply type %q", line[0])
}

// Strings returns an array reply's elements as strings (bulk or simple).
func (r Reply) Strings() ([]string, error) {
	if r.Kind != Array {
		return nil, fmt.Errorf("expected an array reply, got %q", r.Kind)
	}
	out := make([]string, 0, len(r.Elems))
	for _, e := range r.Elems {
		if e.Kind != BulkString && e.Kind != SimpleString {
			return nil, fmt.Errorf("expected string elements, got %q", e.Kind)
		}
		out = append(out, e.Str)
	}
	return out, nil
}

// Ping sends PING and wants +PONG.
func (c Client) Ping(ctx context.Context) error {
	r, err := c.Do(ctx, "PING")
	if err != nil {
		return err
	}
	if r.Kind != SimpleString || r.Str != "PONG" {
		return fmt.Errorf("redis %s: PING answered %q", c.Addr, r.Str)
	}
	return nil
}

// Int sends a command that answers an integer (INCR, HINCRBY, SADD).
func (c Client) Int(ctx context.Context, args ...string) (int64, error) {
	r, err := c.Do(ctx, args...)
	if err != nil {
		return 0, err
	}
	if r.Kind != Integer {
		return 0, fmt.Errorf("redis %s: %s: expected an integer reply, got %q", c.Addr, args[0], r.Kind)
	}
	return r.Int, nil
}
