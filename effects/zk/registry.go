package zk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"lighthouse/model"
)

// SessionTimeout is the reporter's default ZooKeeper session timeout, the
// original's (kazoo's default; discovery/zookeeper.yaml's session_timeout
// sets another): a reporter that dies without closing its session is
// deregistered this long after.
const SessionTimeout = model.DefaultSessionTimeout

// ErrNoSession is returned while the client has no ZooKeeper session.
var ErrNoSession = errors.New("no ZooKeeper session")

// errSessionChanged means the session changed while an operation ran: its
// outcome is unknown.
var errSessionChanged = errors.New("the ZooKeeper session changed during the operation")

// Registry is a ZooKeeper session that registers znodes. It satisfies
// runtime.Registry. Its methods may be called from several goroutines.
type Registry struct {
	conn    *zk.Conn
	hosts   string
	changes chan struct{}
	sec     *Security
	stop    context.CancelFunc // of the credentials' submission
	closed  atomic.Bool
}

// Connect opens a session to the ensemble in the background and returns at
// once; Session tells when a session is there. A sessionTimeout of 0 means
// SessionTimeout. A server that does not answer the handshake is left after
// HandshakeTimeout (see Dialer).
func Connect(hosts []string, sessionTimeout time.Duration, log *slog.Logger) (*Registry, error) {
	return connectWith(hosts, sessionTimeout, NewSecurity(model.Discovery{Hosts: hosts}), log)
}

// ConnectDiscovery is Connect for a discovery config: its hosts, session
// timeout, and its auth, acl and tls (see Security). With auth, Session
// stays 0 until the credentials have been submitted, so that nothing is
// registered without them.
func ConnectDiscovery(d model.Discovery, log *slog.Logger) (*Registry, error) {
	return connectWith(d.Hosts, d.SessionTimeout, NewSecurity(d), log)
}

func connectWith(hosts []string, sessionTimeout time.Duration, sec *Security, log *slog.Logger) (*Registry, error) {
	if sessionTimeout == 0 {
		sessionTimeout = SessionTimeout
	}
	r := &Registry{hosts: strings.Join(hosts, ","), changes: make(chan struct{}, 1), sec: sec}
	signal := func() {
		select {
		case r.changes <- struct{}{}:
		default:
		}
	}
	conn, events, err := zk.Connect(hosts, sessionTimeout,
		zk.WithLogger(zkLogger{log}),
		zk.WithDialer(sec.Dialer(sessionTimeout, hosts, log)),
		zk.WithEventCallback(func(ev zk.Event) {
			if ev.Type == zk.EventSession {
				signal()
			}
		}))
	if err != nil {
		return nil, fmt.Errorf("connect to ZooKeeper %s: %w", r.hosts, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	sec.Start(ctx, conn, log, signal)
	go func() { // the callback sees every event; the channel is unused
		for range events {
		}
	}()
	r.conn = conn
	return r, nil
}

// Session returns the id of the current session, 0 while there is none
// (connecting, or the session expired and a new one is not there yet).
func (r *Registry) Session() int64 {
	if r.closed.Load() || r.conn.State() != zk.StateHasSession || !r.sec.Ready() {
		return 0
	}
	return r.conn.SessionID()
}

// SessionChanges delivers a value after the connection's state changed
// (connected, session established, disconnected, expired); read Session
// then. Changes merge while nobody reads.
func (r *Registry) SessionChanges() <-chan struct{} { return r.changes }

// Register makes p an ephemeral znode holding data and owned by the
// current session, and returns that session's id. Missing parents are
// created (persistent). A znode owned by another session (a previous run
// of the reporter whose session has not expired yet, or anyone else) is
// replaced in one transaction: delete and create, as the original did. One
// of ours gets the new data.
func (r *Registry) Register(ctx context.Context, p string, data []byte) (int64, error) {
	sid, err := await(ctx, func() (int64, error) { return r.register(p, data) })
	if err != nil {
		return 0, fmt.Errorf("register %s: %w", p, r.sec.Explain(err))
	}
	return sid, nil
}

func (r *Registry) register(p string, data []byte) (int64, error) {
	sid := r.Session()
	if sid == 0 {
		return 0, ErrNoSession
	}
	for attempt := 0; ; attempt++ {
		if attempt == 5 {
			return 0, errors.New("the znode kept changing under us")
		}
		ok, st, err := r.conn.Exists(p)
		if err != nil {
			return 0, fmt.Errorf("exists: %w", err)
		}
		switch {
		case !ok:
			_, err = r.conn.Create(p, data, zk.FlagEphemeral, r.sec.ACL())
			if errors.Is(err, zk.ErrNoNode) {
				if err := r.makeParents(path.Dir(p)); err != nil {
					return 0, err
				}
				continue
			}
			if errors.Is(err, zk.ErrNodeExists) {
				continue
			}
			if err != nil {
				return 0, fmt.Errorf("create: %w", err)
			}
		case st.EphemeralOwner != sid:
			_, err = r.conn.Multi(
				&zk.DeleteRequest{Path: p, Version: st.Version},
				&zk.CreateRequest{Path: p, Data: data, Acl: r.sec.ACL(), Flags: zk.FlagEphemeral})
			if errors.Is(err, zk.ErrNoNode) || errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNodeExists) {
				continue
			}
			if err != nil {
				return 0, fmt.Errorf("replace the znode of session %#x: %w", st.EphemeralOwner, err)
			}
		default:
			if _, err = r.conn.Set(p, data, st.Version); errors.Is(err, zk.ErrBadVersion) {
				continue
			}
			if err != nil {
				return 0, fmt.Errorf("set data: %w", err)
			}
		}
		if r.conn.SessionID() != sid {
			return 0, errSessionChanged
		}
		return sid, nil
	}
}

// makeParents creates dir and its ancestors as persistent znodes.
func (r *Registry) makeParents(dir string) error {
	parts := strings.Split(strings.Trim(dir, "/"), "/")
	cur := ""
	for _, part := range parts {
		if part == "" {
			continue
		}
		cur += "/" + part
		_, err := r.conn.Create(cur, nil, 0, r.sec.ACL())
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("create parent %s: %w", cur, err)
		}
	}
	return nil
}

// Deregister deletes znode p, whoever owns it; an absent znode is fine.
func (r *Registry) Deregister(ctx context.Context, p string) error {
	_, err := await(ctx, func() (int64, error) {
		if r.Session() == 0 {
			return 0, ErrNoSession
		}
		err := r.conn.Delete(p, -1)
		if errors.Is(err, zk.ErrNoNode) {
			return 0, nil
		}
		return 0, err
	})
	if err != nil {
		return fmt.Errorf("deregister %s: %w", p, r.sec.Explain(err))
	}
	return nil
}

// Inspect reads znode p and leaves a watch on it: changed is closed once
// the znode is created, deleted or its data changes, or when the watch is
// lost with the session. Owner is the ephemeral owner's session, 0 for a
// persistent znode; exists false means the znode is absent.
func (r *Registry) Inspect(ctx context.Context, p string) (exists bool, owner int64, data []byte, changed <-chan struct{}, err error) {
	type answer struct {
		exists bool
		owner  int64
		data   []byte
		ch     <-chan zk.Event
	}
	var a answer
	_, err = await(ctx, func() (int64, error) {
		if r.Session() == 0 {
			return 0, ErrNoSession
		}
		for attempt := 0; attempt < 5; attempt++ {
			d, st, ch, err := r.conn.GetW(p)
			if err == nil {
				a = answer{true, st.EphemeralOwner, d, ch}
				return 0, nil
			}
			if !errors.Is(err, zk.ErrNoNode) {
				return 0, err
			}
			ok, _, ch, err := r.conn.ExistsW(p)
			if err != nil {
				return 0, err
			}
			if !ok {
				a = answer{ch: ch}
				return 0, nil
			}
			// Created between the two reads: read it again.
		}
		return 0, errors.New("the znode kept changing under us")
	})
	if err != nil {
		return false, 0, nil, nil, fmt.Errorf("inspect %s: %w", p, r.sec.Explain(err))
	}
	done := make(chan struct{})
	go func() {
		<-a.ch // one event, then the client closes it
		close(done)
	}()
	return a.exists, a.owner, a.data, done, nil
}

// Close closes the session, which deletes every ephemeral znode it owns,
// and stops reconnecting. It waits at most a second for the server.
func (r *Registry) Close() error {
	r.closed.Store(true) // the client's state follows only later
	r.stop()
	r.conn.Close()
	return nil
}

// await runs f and returns its result, or ctx's error as soon as ctx is
// done (f then finishes in the background; the ZooKeeper client bounds it).
func await(ctx context.Context, f func() (int64, error)) (int64, error) {
	type result struct {
		sid int64
		err error
	}
	ch := make(chan result, 1)
	go func() {
		sid, err := f()
		ch <- result{sid, err}
	}()
	select {
	case res := <-ch:
		return res.sid, res.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// zkLogger sends the ZooKeeper library's messages to slog at debug level.
type zkLogger struct{ log *slog.Logger }

func (l zkLogger) Printf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "component", "zookeeper")
}
