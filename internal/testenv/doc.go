// Package testenv starts real servers (ZooKeeper, HAProxy, Redis) for the
// tests of other packages: each one runs on 127.0.0.1 on a free port, in a
// short temporary directory, as the leader of its own process group, and is
// killed together with everything it forked when the test ends (t.Cleanup),
// also when the test fails or panics. If the test binary itself dies (go test
// -timeout), the kernel kills the servers (Pdeathsig), but their temporary
// directories stay. A server's log goes to a file in its directory and is
// printed with t.Logf when the test has failed (not after a panic: t.Failed is
// still false while the cleanups run then).
//
// The package is for _test.go files only: it imports "testing" and panics at
// init when linked into a binary that is not a test binary.
//
// The servers come from Debian packages (haproxy, zookeeper, redis-server).
// When one is missing, the test is skipped with the apt-get command that
// installs it, except when the environment variable CI is set: then the test
// fails, so that CI never passes by skipping. .ci/install-deps installs all
// of them.
//
// Under go test -short (make unit) the Start functions skip the test.
//
// Methods that take no testing.TB use the one given to the Start function and
// call its Fatalf on failure: call them from the test's own goroutine only.
//
// # Forcing a ZooKeeper session to expire
//
// (*ZooKeeper).ExpireSession ends any live session by its id, the way
// Curator's KillSession does: it opens a second connection that resumes the
// session (same id and password) and sends closeSession on it. The server then
// deletes the session's ephemeral znodes at once and drops its connections;
// when the owning client reconnects it is told the session has expired
// (go-zookeeper: an EventSession with StateExpired, then a new session).
// go-zookeeper does not expose a session's password, but ZooKeeper derives it
// from the id (ZooKeeperServer.generatePasswd: java.util.Random seeded with
// id^0xB3415C00, 16 bytes), so the id is all that is needed: take it from
// (*zk.Conn).SessionID(), or from (*ZooKeeper).Sessions() for a client the test
// cannot reach.
package testenv

import "testing"

func init() {
	if !testing.Testing() {
		panic("lighthouse/internal/testenv is test-only: import it from _test.go files only")
	}
}
