package zk

import (
	"fmt"
	"path"
	"sort"
	"sync"

	"github.com/go-zookeeper/zk"

	"lighthouse/model"
)

var errCreated = fmt.Errorf("cluster znode created")

// znodeState is what is known of a cluster znode.
type znodeState int

const (
	present znodeState = iota // it exists: its children are the members
	absent                    // it does not exist and has not since the process started: empty
	missing                   // it does not exist but has since the process started: unknown
)

// reader reads one cluster's znode and keeps what is watched.
type reader struct {
	w           *Watcher
	p           string // the cluster znode
	key         string // its key in existed
	fire        func(key string, ch <-chan zk.Event)
	listWatched bool                   // the child list (or the znode's existence) is watched
	state       znodeState             // as of the last list read
	nodes       map[string]*model.Node // child → node; nil when its data is bad
	dirty       map[string]bool        // children to read (again)
}

// refresh reads what is not watched any more: the child list, and the data
// of new or changed children. A child found gone means the list changed:
// it is read again before anything is reported, so that a cluster znode
// deleted with its children in one transaction (zkCli's deleteall) is
// reported missing, never first empty (the children's watches may fire
// before the list's).
func (r *reader) refresh() error {
	for round := 0; ; round++ {
		if !r.listWatched {
			if err := r.readList(); err != nil || r.state != present {
				return err
			}
		}
		gone, err := r.readChildren()
		if err != nil || !gone || round == 2 {
			return err
		}
		r.listWatched = false
	}
}

// readList reads the child list and sets a watch on it, or on the znode's
// existence when it is missing.
func (r *reader) readList() error {
	r.w.reads.Add(1)
	children, _, ch, err := r.w.conn.ChildrenW(r.p)
	if err == zk.ErrNoNode {
		r.w.reads.Add(1)
		ok, _, existCh, err := r.w.conn.ExistsW(r.p)
		if err != nil {
			return fmt.Errorf("watch %s: %w", r.p, err)
		}
		r.fire("", existCh)
		r.listWatched = true
		clear(r.nodes)
		clear(r.dirty)
		if ok {
			r.listWatched = false
			return errCreated
		}
		r.state = absent
		if _, seen := existed.Load(r.key); seen {
			r.state = missing
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", r.p, err)
	}
	r.fire("", ch)
	r.listWatched = true
	r.state = present
	existed.Store(r.key, true)
	have := make(map[string]bool, len(children))
	for _, child := range children {
		have[child] = true
		if _, ok := r.nodes[child]; !ok {
			r.dirty[child] = true
		}
	}
	for child := range r.nodes {
		if !have[child] {
			delete(r.nodes, child)
			delete(r.dirty, child)
		}
	}
	return nil
}

// readChildren reads the data of the dirty children and sets a watch on
// each; gone reports that one of them no longer exists.
func (r *reader) readChildren() (gone bool, err error) {
	// The reads go out together (go-zookeeper pipelines them on the
	// session), a burst of changed children costing about one round trip
	// rather than one each.
	type read struct {
		child string
		data  []byte
		ch    <-chan zk.Event
		err   error
	}
	reads := make([]read, 0, len(r.dirty))
	for child := range r.dirty {
		reads = append(reads, read{child: child})
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, childReadsInFlight)
	for i := range reads {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r.w.reads.Add(1)
			reads[i].data, _, reads[i].ch, reads[i].err = r.w.conn.GetW(path.Join(r.p, reads[i].child))
		}()
	}
	wg.Wait()
	for _, rd := range reads {
		cp := path.Join(r.p, rd.child)
		if rd.err == zk.ErrNoNode {
			delete(r.nodes, rd.child)
			delete(r.dirty, rd.child)
			gone = true
			continue
		}
		if rd.err != nil {
			if err == nil {
				err = fmt.Errorf("read %s: %w", cp, rd.err)
			}
			continue
		}
		r.fire(rd.child, rd.ch)
		delete(r.dirty, rd.child)
		n, derr := model.DecodeNode(rd.data)
		if derr != nil {
			r.w.log.Warn("ignoring a bad node", "cluster", path.Base(r.p), "znode", cp, "err", derr)
			r.nodes[rd.child] = nil
			continue
		}
		r.nodes[rd.child] = &n
	}
	return gone, err
}

// childReadsInFlight bounds the reads of one cluster's children that are
// out at once.
const childReadsInFlight = 32

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
