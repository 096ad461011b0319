package zk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"lighthouse/model"
)

// Watcher follows the members of a set of clusters.
type Watcher struct {
	conn     *zk.Conn
	base     string
	ensemble string // ensembleKey of the hosts
	log      *slog.Logger
	updates  chan model.MembershipUpdate
	sec      *Security

	onSession atomic.Pointer[func(connected, expired bool)]
	jitter    time.Duration // re-reads after a reconnect are spread over [0, jitter]
	reads     atomic.Int64  // ZooKeeper reads made
	up        atomic.Bool   // a session is there
	inflight  chan struct{} // bounds the clusters being read at once

	mu       sync.Mutex
	clusters map[string]*cluster
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

type cluster struct {
	cancel context.CancelFunc
	// kick says a session is there: re-read after the delay it carries
	// (0 for the first session; a jittered one after a reconnect).
	kick chan time.Duration
}

// existed holds "<ensemble> <cluster>" for every cluster whose znode has
// existed since the process started (see the package doc).
var existed sync.Map

// ensembleKey names an ensemble by its sorted host list.
func ensembleKey(hosts []string) string {
	h := slices.Clone(hosts)
	slices.Sort(h)
	return strings.Join(h, ",")
}

// ConnectWatcher opens a ZooKeeper session for the discovery config, with its
// session timeout (model.DefaultSessionTimeout if unset). Connecting
// happens in the background: membership stays unknown until it succeeds.
// A server that does not answer the handshake is left after
// HandshakeTimeout.
func ConnectWatcher(d model.Discovery, log *slog.Logger) (*Watcher, error) {
	timeout := d.SessionTimeout
	if timeout == 0 {
		timeout = model.DefaultSessionTimeout
	}
	sec := NewSecurity(d)
	conn, events, err := zk.Connect(d.Hosts, timeout, zk.WithLogger(zkLogger{log}),
		zk.WithDialer(sec.Dialer(timeout, d.Hosts, log)))
	if err != nil {
		return nil, fmt.Errorf("connect to ZooKeeper %v: %w", d.Hosts, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watcher{conn: conn, base: d.Path, ensemble: ensembleKey(d.Hosts), log: log, updates: make(chan model.MembershipUpdate, 256),
		sec: sec, clusters: map[string]*cluster{}, ctx: ctx, cancel: cancel, jitter: d.ResyncJitter, inflight: make(chan struct{}, MaxReadsInFlight)}
	sec.Start(ctx, conn, log, func() { w.kickAll(false) })
	w.wg.Add(1)
	go w.session(events)
	return w, nil
}

// OnSession has f called on every change of the session's state: connected
// or not, and expired once for each session that expired. f must not block.
func (w *Watcher) OnSession(f func(connected, expired bool)) { w.onSession.Store(&f) }

func (w *Watcher) sessionState(connected, expired bool) {
	if f := w.onSession.Load(); f != nil {
		(*f)(connected, expired)
	}
}

// MaxReadsInFlight bounds how many clusters are read at once (at start, and
// after a reconnect).
const MaxReadsInFlight = 64

// Reads returns how many ZooKeeper reads the watcher has made.
func (w *Watcher) Reads() int64 { return w.reads.Load() }

// Updates delivers membership changes, one cluster at a time.
func (w *Watcher) Updates() <-chan model.MembershipUpdate { return w.updates }

// Watch sets the clusters to watch: new ones start, missing ones stop.
func (w *Watcher) Watch(names []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
		if _, ok := w.clusters[n]; ok {
			continue
		}
		ctx, cancel := context.WithCancel(w.ctx)
		c := &cluster{cancel: cancel, kick: make(chan time.Duration, 1)}
		w.clusters[n] = c
		w.wg.Add(1)
		go w.watch(ctx, n, c)
	}
	for n, c := range w.clusters {
		if !want[n] {
			c.cancel()
			delete(w.clusters, n)
		}
	}
}

// Close stops every watch and closes the session.
func (w *Watcher) Close() error {
	w.cancel()
	w.conn.Close()
	w.wg.Wait()
	return nil
}

// session follows the connection: when it drops, every cluster becomes
// unknown; when a session is back, every cluster is read again.
func (w *Watcher) session(events <-chan zk.Event) {
	defer w.wg.Done()
	connected, ever := false, false
	for {
		select {
		case <-w.ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Type != zk.EventSession {
				continue
			}
			switch ev.State {
			case zk.StateHasSession:
				if !connected {
					w.log.Info("ZooKeeper session established", "component", "zookeeper", "session", fmt.Sprintf("%#x", w.conn.SessionID()))
				}
				connected = true
				w.up.Store(true)
				w.sessionState(true, false)
				w.kickAll(ever)
				ever = true
			case zk.StateDisconnected, zk.StateExpired:
				if connected {
					w.log.Warn("ZooKeeper connection lost; keeping the last known members", "component", "zookeeper", "state", ev.State.String())
				}
				connected = false
				w.up.Store(false)
				w.sessionState(false, ev.State == zk.StateExpired)
				w.mu.Lock()
				for n := range w.clusters {
					w.send(model.MembershipUpdate{Cluster: n, Known: false})
				}
				w.mu.Unlock()
			}
		}
	}
}

// kickAll has every cluster read again: at once for the first session, and
// after a random delay in [0, jitter] after a reconnect, so that thousands
// of writers that reconnect together do not read everything at once.
func (w *Watcher) kickAll(reconnect bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.clusters {
		var d time.Duration
		if reconnect && w.jitter > 0 {
			d = rand.N(w.jitter + 1)
		}
		select {
		case c.kick <- d:
		default:
		}
	}
}

func (w *Watcher) send(u model.MembershipUpdate) {
	select {
	case w.updates <- u:
	case <-w.ctx.Done():
	}
}

// watch keeps one cluster's members: a watch on the child list and one on
// each child's data. Only what fired is read again.
func (w *Watcher) watch(ctx context.Context, name string, c *cluster) {
	defer w.wg.Done()
	p := path.Join(w.base, name)
	events := make(chan string, 64) // "" is the list, else a child
	fire := func(key string, ch <-chan zk.Event) {
		go func() {
			select {
			case <-ch:
				select {
				case events <- key:
				case <-ctx.Done():
				}
			case <-ctx.Done():
			}
		}()
	}
	r := reader{w: w, p: p, key: w.ensemble + " " + name, nodes: map[string]*model.Node{}, dirty: map[string]bool{}, fire: fire}
	said := present // what was last logged about the znode
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	backoff := time.Duration(0) // between failed reads: 1 s doubling up to 30 s
	// emit sends an update unless the cluster was unwatched: what is read
	// after Watch dropped the cluster never reaches Updates.
	emit := func(u model.MembershipUpdate) {
		if ctx.Err() == nil {
			w.send(u)
		}
	}
	refused := false // a refusal by the ACL was logged
	read := false    // a read has succeeded: the last value is worth keeping
	// hold follows a reconnect: the last value is known again at once, and
	// the cluster is read again only after the delay.
	hold := func(d time.Duration) {
		if d <= 0 {
			return
		}
		if read && r.state == present {
			emit(model.MembershipUpdate{Cluster: name, Known: true, Nodes: snapshot(r.nodes)})
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	for ctx.Err() == nil {
		if !w.up.Load() {
			// Nothing can be read without a session: wait for one (the
			// kick says how long to wait after it).
			select {
			case <-ctx.Done():
				return
			case d := <-c.kick:
				hold(d)
			}
		}
		select {
		case w.inflight <- struct{}{}:
		case <-ctx.Done():
			return
		}
		err := errNoCredentials
		if w.sec.Ready() {
			err = r.refresh()
		}
		<-w.inflight
		if err == errCreated {
			continue
		}
		if err != nil {
			backoff = min(max(2*backoff, time.Second), 30*time.Second)
			if errors.Is(err, zk.ErrNoAuth) && !refused {
				w.log.Error("reading cluster members refused; membership is unknown and the last known members stay", "cluster", name, "err", w.sec.Explain(err))
				refused = true
			} else {
				w.log.Debug("reading cluster members failed; retrying", "cluster", name, "err", err, "retry_in", backoff)
			}
			emit(model.MembershipUpdate{Cluster: name, Known: false})
			retry.Reset(backoff)
			select {
			case <-ctx.Done():
			case d := <-c.kick:
				hold(d)
			case <-retry.C:
			}
			continue
		}
		backoff, read = 0, true
		if refused {
			w.log.Info("reading cluster members works again", "cluster", name)
			refused = false
		}
		if r.state != said {
			switch r.state {
			case missing:
				w.log.Warn("the cluster znode is missing; membership is unknown and the last known members stay until it is back (deleted, or a wrong discovery path?)", "cluster", name, "znode", p)
			case absent:
				w.log.Info("the cluster znode does not exist yet; the cluster is empty until it appears", "cluster", name, "znode", p)
			case present:
				if said == missing {
					w.log.Info("the cluster znode is back", "cluster", name, "znode", p)
				}
			}
			said = r.state
		}
		if r.state == missing {
			emit(model.MembershipUpdate{Cluster: name, Known: false})
		} else {
			emit(model.MembershipUpdate{Cluster: name, Known: true, Nodes: snapshot(r.nodes)})
		}
		select {
		case <-ctx.Done():
		case d := <-c.kick:
			hold(d)
		case key := <-events:
			for {
				if key == "" {
					r.listWatched = false
				} else {
					r.dirty[key] = true
				}
				select {
				case key = <-events:
					continue
				default:
				}
				break
			}
		}
	}
}

// errNoCredentials: the credentials have not been submitted yet.
var errNoCredentials = errors.New("the ZooKeeper credentials have not been submitted yet")
