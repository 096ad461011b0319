package testenv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// zkSessionPassword returns the password ZooKeeper gives session id:
// ZooKeeperServer.generatePasswd is
//
//	Random r = new Random(id ^ superSecret); // superSecret = 0xB3415C00L
//	byte[] p = new byte[16]; r.nextBytes(p);
func zkSessionPassword(id int64) []byte {
	const (
		multiplier = 0x5DEECE66D
		mask       = (1 << 48) - 1
	)
	seed := (uint64(id^0xB3415C00) ^ multiplier) & mask
	next32 := func() int32 {
		seed = (seed*multiplier + 0xB) & mask
		return int32(seed >> 16)
	}
	p := make([]byte, 16)
	for i := 0; i < len(p); {
		rnd := next32()
		for n := min(len(p)-i, 4); n > 0; n-- {
			p[i] = byte(rnd)
			rnd >>= 8
			i++
		}
	}
	return p
}

// zkResume opens a raw ZooKeeper connection that resumes session id and
// returns it with the session id the server answered (0: the session is
// expired or the password wrong).
func zkResume(addr string, id int64) (net.Conn, int64, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, 0, err
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	passwd := zkSessionPassword(id)
	// ConnectRequest: protocolVersion int, lastZxidSeen long, timeOut int,
	// sessionId long, passwd buffer; framed by a 4-byte length.
	req := binary.BigEndian.AppendUint32(nil, 0)
	req = binary.BigEndian.AppendUint32(req, 0)
	req = binary.BigEndian.AppendUint64(req, 0)
	req = binary.BigEndian.AppendUint32(req, 2000)
	req = binary.BigEndian.AppendUint64(req, uint64(id))
	req = binary.BigEndian.AppendUint32(req, uint32(len(passwd)))
	req = append(req, passwd...)
	binary.BigEndian.PutUint32(req, uint32(len(req)-4))
	if _, err := c.Write(req); err != nil {
		c.Close()
		return nil, 0, err
	}
	// ConnectResponse: protocolVersion int, timeOut int, sessionId long,
	// passwd buffer.
	resp, err := zkReadFrame(c)
	if err != nil {
		c.Close()
		return nil, 0, fmt.Errorf("connect response: %w", err)
	}
	if len(resp) < 16 {
		c.Close()
		return nil, 0, fmt.Errorf("short connect response (%d bytes)", len(resp))
	}
	return c, int64(binary.BigEndian.Uint64(resp[8:16])), nil
}

func zkReadFrame(c net.Conn) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > 1<<20 {
		return nil, fmt.Errorf("frame of %d bytes", n)
	}
	b := make([]byte, n)
	_, err := io.ReadFull(c, b)
	return b, err
}

// expireSession closes session id on the server at addr: it resumes the
// session on a new connection and sends closeSession, until resuming it is
// refused.
func expireSession(addr string, id int64) error {
	c, got, err := zkResume(addr, id)
	if err != nil {
		return err
	}
	if got != id {
		c.Close()
		return errors.New("the server refused to resume it: no such live session")
	}
	for range 50 {
		// closeSession: RequestHeader{xid int, type int = -11}, no body.
		req := binary.BigEndian.AppendUint32(nil, 8)
		req = binary.BigEndian.AppendUint32(req, 1)
		req = binary.BigEndian.AppendUint32(req, uint32(0xFFFFFFF5)) // -11
		if _, err := c.Write(req); err == nil {
			_, _ = zkReadFrame(c) // ReplyHeader{xid, zxid, err}; the server may also just close
		}
		c.Close()
		c, got, err = zkResume(addr, id)
		if err != nil {
			return err
		}
		if got == 0 {
			c.Close()
			return nil
		}
		// Still live (e.g. its own client took it back first): again.
		time.Sleep(20 * time.Millisecond)
	}
	c.Close()
	return errors.New("session still live after 50 closeSession requests")
}

var hexID = regexp.MustCompile(`^\s*0x([0-9a-fA-F]+)`)

// Sessions returns the ids of all live sessions, connected or not, sorted
// (from the `dump` four-letter word).
func (z *ZooKeeper) Sessions() []int64 {
	z.t.Helper()
	out, err := z.FourLetterWord("dump")
	if err != nil {
		z.t.Fatalf("testenv: zookeeper dump: %v", err)
	}
	// SessionTracker dump:
	// Session Sets (3)/(1):
	// 0 expire at ...:
	// 1 expire at ...:
	//	0x100009e0a4e0000
	// ephemeral nodes dump:
	// ...
	seen := map[int64]bool{}
	var ids []int64
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "ephemeral nodes dump") {
			break
		}
		m := hexID.FindStringSubmatch(line)
		if m == nil || strings.HasSuffix(strings.TrimSpace(line), ":") {
			continue
		}
		id, err := strconv.ParseUint(m[1], 16, 64)
		if err != nil {
			continue
		}
		if !seen[int64(id)] {
			seen[int64(id)] = true
			ids = append(ids, int64(id))
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// ExpireSession ends the live session sessionID as if it had expired: its
// ephemeral znodes are deleted at once and its client, on reconnecting, is
// told the session expired. It fails the test if the session is not live.
// See the package documentation for how it works.
func (z *ZooKeeper) ExpireSession(t testing.TB, sessionID int64) {
	t.Helper()
	if err := expireSession(z.PlainAddr, sessionID); err != nil {
		t.Fatalf("testenv: expire zookeeper session 0x%x: %v", sessionID, err)
	}
}
