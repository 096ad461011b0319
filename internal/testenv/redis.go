package testenv

import (
	"fmt"
	"io"
	"lighthouse/internal/proc"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Redis is a redis-server started by StartRedis.
type Redis struct {
	// Addr is "127.0.0.1:<port>".
	Addr string
	// Port is the TCP port.
	Port int
	// Dir is the server's working directory (--dir).
	Dir string
	// LogPath receives the server's stdout and stderr.
	LogPath string

	t    testing.TB
	proc *proc.Proc
}

// StartRedis runs
//
//	redis-server --port P --bind 127.0.0.1 --dir D --save '' --appendonly no
//
// in the foreground on a free port and waits until it answers PING (about
// 0.1 s). It is killed when the test ends; its log is printed if the test
// failed.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	skipIfShort(t, "Redis")
	Require(t, "redis-server")
	r := &Redis{t: t}
	r.Dir = ShortTempDir(t)
	r.LogPath = filepath.Join(r.Dir, "redis.log")
	registerLogDump(t, "redis", r.LogPath)
	t.Cleanup(func() {
		if r.proc != nil {
			r.proc.Kill()
		}
	})
	for attempt := 1; ; attempt++ {
		r.Port = FreePort(t)
		r.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(r.Port))
		err := r.start()
		if err == nil {
			return r
		}
		if attempt < 3 && logContains(r.LogPath, "Address already in use") {
			t.Logf("testenv: redis port %d taken, retrying: %v", r.Port, err)
			continue
		}
		t.Fatalf("testenv: start redis: %v", err)
	}
}

func (r *Redis) start() error {
	p, err := startProcess("redis", r.LogPath, r.Dir, "redis-server",
		"--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1", "--dir", r.Dir,
		"--save", "", "--appendonly", "no")
	if err != nil {
		return err
	}
	r.proc = p
	deadline := time.Now().Add(10 * time.Second)
	for {
		if p.Exited() {
			return fmt.Errorf("redis-server exited (%v); log %s:\n%s", p.Err(), r.LogPath, logTail(r.LogPath, 8<<10))
		}
		if r.Ping() == nil {
			return nil
		}
		if time.Now().After(deadline) {
			p.Kill()
			return fmt.Errorf("redis-server on %s no PONG after 10s; log %s:\n%s", r.Addr, r.LogPath, logTail(r.LogPath, 8<<10))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Ping sends PING on a new connection and expects +PONG.
func (r *Redis) Ping() error {
	c, err := net.DialTimeout("tcp", r.Addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "PING\r\n"); err != nil {
		return err
	}
	// Redis keeps the connection open: read exactly the expected reply.
	buf := make([]byte, len("+PONG\r\n"))
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	if string(buf) != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", buf)
	}
	return nil
}

// Running reports whether the server process is running.
func (r *Redis) Running() bool { return r.proc != nil && !r.proc.Exited() }

// Stop stops the server with SIGTERM and waits for it to exit.
func (r *Redis) Stop() {
	r.t.Helper()
	if !r.Running() {
		r.t.Fatalf("testenv: redis %s: Stop while not running", r.Addr)
	}
	if err := stopProcess(r.proc, 10*time.Second); !cleanExit(err) {
		r.t.Logf("testenv: redis %s stopped: %v", r.Addr, err)
	}
}

// Start starts a stopped server again on the same port (with no data: the
// server keeps nothing on disk) and waits until it answers PING.
func (r *Redis) Start() {
	r.t.Helper()
	if r.Running() {
		r.t.Fatalf("testenv: redis %s: Start while running", r.Addr)
	}
	if err := r.start(); err != nil {
		r.t.Fatalf("testenv: restart redis: %v", err)
	}
}
