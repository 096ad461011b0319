// Package membership watches cluster members in ZooKeeper for the writer:
// the children of <path>/<cluster> and each child's data, delivered as
// whole-cluster snapshots. While ZooKeeper cannot be reached a cluster's
// membership is reported unknown and its last known nodes stand; a missing
// cluster znode is watched until it appears.
package membership

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"sort"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"lighthouse/model"
)

// Watcher follows the members of a set of clusters.
type Watcher struct {
	conn    *zk.Conn
	base    string
	log     *slog.Logger
	updates chan model.MembershipUpdate

	mu       sync.Mutex
	clusters map[string]*cluster
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

type cluster struct {
	cancel context.CancelFunc
	kick   chan struct{} // re-read now (session re-established)
}

// SessionTimeout is the ZooKeeper session timeout of the writer.
const SessionTimeout = 10 * time.Second

// Connect opens a ZooKeeper session for the discovery config. Connecting
// happens in the background: membership stays unknown until it succeeds.
func Connect(d model.Discovery, log *slog.Logger) (*Watcher, error) {
	conn, events, err := zk.Connect(d.Hosts, SessionTimeout, zk.WithLogger(zkLogger{log}))
	if err != nil {
		return nil, fmt.Errorf("connect to ZooKeeper %v: %w", d.Hosts, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watcher{conn: conn, base: d.Path, log: log, updates: make(chan model.MembershipUpdate, 256),
		clusters: map[string]*cluster{}, ctx: ctx, cancel: cancel}
	w.wg.Add(1)
	go w.session(events)
	return w, nil
}

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
		c := &cluster{cancel: cancel, kick: make(chan struct{}, 1)}
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
	connected := false
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
					w.log.Info("ZooKeeper session established", "session", fmt.Sprintf("%#x", w.conn.SessionID()))
				}
				connected = true
				w.kickAll()
			case zk.StateDisconnected, zk.StateExpired:
				if connected {
					w.log.Warn("ZooKeeper connection lost; keeping the last known members", "state", ev.State.String())
				}
				connected = false
				w.mu.Lock()
				for n := range w.clusters {
					w.send(model.MembershipUpdate{Cluster: n, Known: false})
				}
				w.mu.Unlock()
			}
		}
	}
}

func (w *Watcher) kickAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.clusters {
		select {
		case c.kick <- struct{}{}:
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
	listWatched := false
	nodes := map[string]*model.Node{} // child → node; nil when its data is bad
	dirty := map[string]bool{}        // children to read (again)
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	for ctx.Err() == nil {
		err := w.refresh(p, &listWatched, nodes, dirty, fire)
		if err == errCreated {
			continue
		}
		if err != nil {
			w.log.Debug("reading cluster members failed; retrying", "cluster", name, "err", err)
			w.send(model.MembershipUpdate{Cluster: name, Known: false})
			retry.Reset(time.Second)
			select {
			case <-ctx.Done():
			case <-c.kick:
			case <-retry.C:
			}
			continue
		}
		w.send(model.MembershipUpdate{Cluster: name, Known: true, Nodes: snapshot(nodes)})
		select {
		case <-ctx.Done():
		case <-c.kick:
		case key := <-events:
			for {
				if key == "" {
					listWatched = false
				} else {
					dirty[key] = true
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

var errCreated = fmt.Errorf("cluster znode created")

// refresh reads what is not watched any more: the child list, and the data
// of new or changed children.
func (w *Watcher) refresh(p string, listWatched *bool, nodes map[string]*model.Node, dirty map[string]bool, fire func(string, <-chan zk.Event)) error {
	if !*listWatched {
		children, _, ch, err := w.conn.ChildrenW(p)
		if err == zk.ErrNoNode {
			ok, _, existCh, err := w.conn.ExistsW(p)
			if err != nil {
				return fmt.Errorf("watch %s: %w", p, err)
			}
			fire("", existCh)
			*listWatched = true
			clear(nodes)
			clear(dirty)
			if ok {
				*listWatched = false
				return errCreated
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", p, err)
		}
		fire("", ch)
		*listWatched = true
		present := make(map[string]bool, len(children))
		for _, child := range children {
			present[child] = true
			if _, ok := nodes[child]; !ok {
				dirty[child] = true
			}
		}
		for child := range nodes {
			if !present[child] {
				delete(nodes, child)
				delete(dirty, child)
			}
		}
	}
	for child := range dirty {
		cp := path.Join(p, child)
		data, _, ch, err := w.conn.GetW(cp)
		if err == zk.ErrNoNode {
			delete(nodes, child) // left; the list watch fires too
			delete(dirty, child)
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", cp, err)
		}
		fire(child, ch)
		delete(dirty, child)
		n, err := model.DecodeNode(data)
		if err != nil {
			w.log.Warn("ignoring a bad node", "znode", cp, "err", err)
			nodes[child] = nil
			continue
		}
		nodes[child] = &n
	}
	return nil
}

// snapshot lists the good nodes in child order.
func snapshot(nodes map[string]*model.Node) []model.Node {
	names := make([]string, 0, len(nodes))
	for child, n := range nodes {
		if n != nil {
			names = append(names, child)
		}
	}
	sort.Strings(names)
	out := make([]model.Node, 0, len(names))
	for _, child := range names {
		out = append(out, *nodes[child])
	}
	return out
}

// zkLogger sends the ZooKeeper library's messages to slog at debug level.
type zkLogger struct{ log *slog.Logger }

func (l zkLogger) Printf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "component", "zookeeper")
}
