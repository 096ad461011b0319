package runtime

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"lighthouse/model"
)

// Registry is one ZooKeeper session in which the reporter registers
// znodes. effects/zk.Registry satisfies it.
type Registry interface {
	// Register makes path an ephemeral znode holding data, owned by the
	// current session (replacing one owned by another session), and
	// returns the id of that session.
	Register(ctx context.Context, path string, data []byte) (session int64, err error)
	// Deregister deletes the znode at path; an absent znode is not an
	// error.
	Deregister(ctx context.Context, path string) error
	// Session returns the current session id, 0 while there is none.
	Session() int64
	// SessionChanges delivers a value after the session state changed.
	SessionChanges() <-chan struct{}
	// Inspect reads the znode at path and leaves a watch on it: changed is
	// closed once the znode is created, deleted or its data changes, or
	// the watch is lost with the session. owner is the session owning an
	// ephemeral znode.
	Inspect(ctx context.Context, path string) (exists bool, owner int64, data []byte, changed <-chan struct{}, err error)
	// Close closes the session (its ephemeral znodes go with it).
	Close() error
}

// wanted is what the main loop wants of one discovery: the data of every
// znode (nil: absent), and how often each may be restored (its service's
// check interval).
type wanted struct {
	Data  map[string][]byte
	Every map[string]time.Duration
}

// regState is what a registrar knows of one znode it has dealt with. A
// path it has never dealt with has no regState: unknown.
type regState struct {
	// Present is true when the znode exists or may exist (an operation on
	// it failed or was interrupted); false when it is known to be absent.
	Present bool
	// Session owns the znode; 0 when uncertain.
	Session int64
	Data    []byte
}

// regOp is one operation of a registration plan.
type regOp struct {
	Path   string
	Data   []byte // the data to register; nil for a deregistration
	Delete bool
}

func (o regOp) String() string {
	if o.Delete {
		return "deregister " + o.Path
	}
	return "register " + o.Path
}

// planRegistrations lists what to do, in path order, so that ZooKeeper
// holds what want says under session: a path with data is registered
// unless it already is, with that data, by that session (so everything is
// registered again after the session changed); a path wanted absent is
// deleted unless known absent (a path never dealt with is deleted once: a
// previous run may have left it); a path no longer wanted at all is deleted
// if it may exist.
func planRegistrations(want map[string][]byte, have map[string]regState, session int64) []regOp {
	var ops []regOp
	for p, data := range want {
		h, known := have[p]
		switch {
		case data != nil:
			if !known || !h.Present || h.Session != session || h.Session == 0 || !bytes.Equal(h.Data, data) {
				ops = append(ops, regOp{Path: p, Data: data})
			}
		case !known || h.Present:
			ops = append(ops, regOp{Path: p, Delete: true})
		}
	}
	for p, h := range have {
		if _, ok := want[p]; !ok && h.Present {
			ops = append(ops, regOp{Path: p, Delete: true})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Path < ops[j].Path })
	return ops
}

// applyOutcome records the outcome of an operation in have. A failed or
// interrupted operation leaves the znode uncertain: present, no session.
func applyOutcome(have map[string]regState, want map[string][]byte, op regOp, session int64, err error) {
	switch {
	case err != nil:
		have[op.Path] = regState{Present: true}
	case op.Delete:
		if _, wanted := want[op.Path]; wanted {
			have[op.Path] = regState{Present: false}
		} else {
			delete(have, op.Path)
		}
	default:
		have[op.Path] = regState{Present: true, Session: session, Data: op.Data}
	}
}

// forget drops what a registrar remembers of paths no longer wanted and
// known to be absent.
func forget(have map[string]regState, want map[string][]byte) {
	for p, h := range have {
		if _, ok := want[p]; !ok && !h.Present {
			delete(have, p)
		}
	}
}

// drift is what a watch found at a znode, against what the registrar did
// there.
type drift int

const (
	driftNone        drift = iota
	driftDeleted           // ours, and deleted by someone else
	driftOverwritten       // ours, and its data changed by someone else
	driftTaken             // ours, and now owned by another session
	driftForeign           // wanted absent (the port is down), and present: another session's
)

func (d drift) String() string {
	return [...]string{"none", "deleted", "overwritten", "taken", "foreign"}[d]
}

// judgeZnode compares what ZooKeeper holds at a znode with what the
// registrar did there under session. Only a znode the registrar believes
// it holds (registered by this session, no operation pending) can drift
// from it; a znode wanted absent drifts when someone else's is there.
func judgeZnode(data []byte, wanted bool, h regState, known bool, exists bool, owner int64, got []byte, session int64) drift {
	switch {
	case !wanted || !known || session == 0:
		return driftNone
	case data == nil:
		if !h.Present && exists && owner != session {
			return driftForeign
		}
	case h.Present && h.Session == session && bytes.Equal(h.Data, data):
		switch {
		case !exists:
			return driftDeleted
		case owner != session:
			return driftTaken
		case !bytes.Equal(got, data):
			return driftOverwritten
		}
	}
	return driftNone
}

// restoreDue says when a drifted znode may be restored: at once, unless it
// was restored less than every ago (at most one restore per check interval,
// so that a fight with another client is a line per interval, not a loop).
func restoreDue(last time.Time, every time.Duration, now time.Time) time.Time {
	if last.IsZero() || !now.Before(last.Add(every)) {
		return now
	}
	return last.Add(every)
}

// Registration backoff bounds.
const (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// registrar owns the Registry of one discovery config and converges it to
// what the main loop wants.
type registrar struct {
	name    string
	cfg     model.Discovery
	log     *slog.Logger
	connect func(model.Discovery) (Registry, error)
	grace   time.Duration
	metrics ReporterMetrics
	health  *Health

	want   chan wanted // latest value only
	resync chan struct{}
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

func (r *Reporter) startRegistrar(name string, cfg model.Discovery, after <-chan struct{}) *registrar {
	g := &registrar{name: name, cfg: cfg, log: r.Log.With("discovery", name), connect: r.NewRegistry, grace: r.ShutdownGrace,
		metrics: r.Metrics, health: r.Health,
		want: make(chan wanted, 1), resync: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	go g.run(after)
	return g
}

// setWant hands the registrar the znodes it must converge to. Only the main
// loop calls it.
func (g *registrar) setWant(w wanted) {
	select {
	case <-g.want:
	default:
	}
	g.want <- w
}

// requestResync makes the registrar register everything again.
func (g *registrar) requestResync() {
	select {
	case g.resync <- struct{}{}:
	default:
	}
}

// shutdown asks the registrar to delete its znodes and close its session;
// done is closed when it has.
func (g *registrar) shutdown() { g.once.Do(func() { close(g.stop) }) }

func (g *registrar) run(after <-chan struct{}) {
	defer close(g.done)
	part := "discovery " + g.name
	defer g.health.DropPart(part) // before done is closed: a successor sets it again
	if after != nil {
		select {
		case <-after: // the previous registrar of this discovery is gone
		case <-g.stop:
			return
		}
	}
	g.health.SetPart(part, "not connected to ZooKeeper (discovery "+g.name+")")
	reg := g.dial()
	if reg == nil {
		return
	}
	want := wanted{}
	have := map[string]regState{}
	var session, last int64 // current, and last non-zero
	backoff := time.Duration(0)
	var notBefore time.Time
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-g.stop
		cancel() // interrupt an operation in flight
	}()
	w := newWatches(g, reg, ctx)
	defer w.timer.Stop()
	for {
		if s := reg.Session(); s != session {
			switch {
			case s == 0:
				g.log.Warn("ZooKeeper connection lost; registrations wait for it", "hosts", strings.Join(g.cfg.Hosts, ","))
			case last == 0:
				g.log.Info("ZooKeeper session established", "session", fmt.Sprintf("%#x", s))
			case s == last:
				g.log.Info("ZooKeeper connection re-established; same session", "session", fmt.Sprintf("%#x", s))
			default:
				g.log.Warn("ZooKeeper session expired; registering again in a new one", "session", fmt.Sprintf("%#x", s), "expired", fmt.Sprintf("%#x", last))
			}
			g.metrics.ZooKeeper(s != 0, s != 0 && last != 0 && s != last)
			if s != 0 {
				backoff, notBefore, last = 0, time.Time{}, s
			}
			session = s
		}
		if session != 0 && !time.Now().Before(notBefore) {
			w.restoreDue(have, time.Now())
			for _, op := range planRegistrations(want.Data, have, session) {
				if ctx.Err() != nil {
					break
				}
				var err error
				sid := session
				if op.Delete {
					err = reg.Deregister(ctx, op.Path)
				} else {
					sid, err = reg.Register(ctx, op.Path, op.Data)
				}
				prior := have[op.Path]
				applyOutcome(have, want.Data, op, sid, err)
				if err != nil {
					if ctx.Err() != nil {
						break
					}
					backoff = min(max(2*backoff, minBackoff), maxBackoff)
					notBefore = time.Now().Add(backoff)
					retry.Reset(backoff)
					g.log.Warn("registration failed; retrying", "op", op.String(), "retry_in", backoff, "err", err)
					break
				}
				backoff = 0
				service, port := servicePort(op.Path)
				switch {
				case op.Delete && prior.Present:
					g.log.Info("deregistered", "znode", op.Path)
					g.metrics.Registered(service, port, false)
				case op.Delete: // never registered by this run: a leftover check
					g.log.Debug("made sure absent", "znode", op.Path)
					g.metrics.Registered(service, port, false)
				default:
					g.log.Info("registered", "znode", op.Path, "session", fmt.Sprintf("%#x", sid))
					g.metrics.Registered(service, port, true)
				}
			}
			w.watchAll(want, have, session)
		}
		switch {
		case session == 0:
			g.health.SetPart(part, "no ZooKeeper session (discovery "+g.name+")")
		case len(planRegistrations(want.Data, have, session)) > 0:
			g.health.SetPart(part, "registrations pending (discovery "+g.name+")")
		default:
			g.health.SetPart(part, "")
		}
		select {
		case <-g.stop:
			g.finish(reg, have)
			return
		case nw := <-g.want:
			want = nw
			forget(have, want.Data)
			w.forget(want)
		case <-g.resync:
			for p, h := range have {
				if h.Present {
					have[p] = regState{Present: true}
				} else {
					delete(have, p)
				}
			}
		case <-reg.SessionChanges():
		case <-retry.C:
		case p := <-w.fired:
			w.watching[p] = false
			if session != 0 {
				w.check(p, want, have, session, time.Now())
			}
		case <-w.timer.C:
		}
	}
}

// watches keeps a watch on every znode a registrar deals with, so that a
// registration deleted, overwritten or taken over by someone else is
// restored (at most once per check interval), and a znode someone else
// creates while the port is down is noticed (and left alone).
type watches struct {
	g        *registrar
	reg      Registry
	ctx      context.Context
	fired    chan string          // a watched znode changed
	watching map[string]bool      // a watch is set
	restored map[string]time.Time // when each znode was last restored
	due      map[string]time.Time // drifted znodes waiting for their restore
	foreign  map[string]int64     // the owner of a foreign znode, logged once
	timer    *time.Timer          // the earliest due restore
}

func newWatches(g *registrar, reg Registry, ctx context.Context) *watches {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &watches{g: g, reg: reg, ctx: ctx, fired: make(chan string),
		watching: map[string]bool{}, restored: map[string]time.Time{}, due: map[string]time.Time{},
		foreign: map[string]int64{}, timer: t}
}

// watchAll sets a watch on every wanted znode that has none and whose
// operation is done, and checks what the watch saw at once.
func (w *watches) watchAll(want wanted, have map[string]regState, session int64) {
	now := time.Now()
	for p := range want.Data {
		if h, known := have[p]; !w.watching[p] && known && (!h.Present || h.Session == session) {
			w.check(p, want, have, session, now)
		}
	}
}

// check reads znode p, sets a watch on it, and acts on what it finds.
func (w *watches) check(p string, want wanted, have map[string]regState, session int64, now time.Time) {
	data, wantedP := want.Data[p]
	if !wantedP {
		return
	}
	exists, owner, got, changed, err := w.reg.Inspect(w.ctx, p)
	if err != nil {
		w.g.log.Debug("watching a registration failed; trying again after the next operation", "znode", p, "err", err)
		return
	}
	w.watching[p] = true
	go func() {
		select {
		case <-changed:
			select {
			case w.fired <- p:
			case <-w.ctx.Done():
			}
		case <-w.ctx.Done():
		}
	}()
	h, known := have[p]
	d := judgeZnode(data, wantedP, h, known, exists, owner, got, session)
	if d != driftForeign && w.foreign[p] != 0 && (!exists || owner != w.foreign[p]) {
		delete(w.foreign, p)
	}
	switch d {
	case driftNone:
		return
	case driftForeign:
		if w.foreign[p] != owner {
			w.foreign[p] = owner
			w.g.log.Warn("a znode for this port exists though the port is down; leaving it alone: another reporter may own it",
				"znode", p, "owner", fmt.Sprintf("%#x", owner))
		}
		return
	}
	if _, waiting := w.due[p]; waiting {
		return // logged when it was found
	}
	at := restoreDue(w.restored[p], want.Every[p], now)
	args := []any{"znode", p}
	switch d {
	case driftDeleted:
		args = append(args, "change", "deleted by another client")
	case driftOverwritten:
		args = append(args, "change", "data overwritten by another client")
	case driftTaken:
		args = append(args, "change", "replaced by another session", "owner", fmt.Sprintf("%#x", owner))
	}
	if at.After(now) {
		args = append(args, "restore_in", at.Sub(now).Round(time.Millisecond))
	}
	w.g.log.Warn("registration changed by someone else; restoring it", args...)
	w.due[p] = at
	w.restoreDue(have, now)
}

// restoreDue marks the registrations whose restore is due as uncertain, so
// that the plan registers them again, and arms the timer for the next.
func (w *watches) restoreDue(have map[string]regState, now time.Time) {
	var next time.Time
	for p, at := range w.due {
		if !now.Before(at) {
			have[p] = regState{Present: true}
			w.restored[p] = now
			delete(w.due, p)
			service, _ := servicePort(p)
			w.g.metrics.Restored(service)
		} else if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	w.timer.Stop()
	if !next.IsZero() {
		w.timer.Reset(next.Sub(now))
	}
}

// forget drops what the watches keep of znodes no longer wanted (their
// watches stay until they fire, and are then ignored).
func (w *watches) forget(want wanted) {
	for _, m := range []map[string]time.Time{w.restored, w.due} {
		for p := range m {
			if _, ok := want.Data[p]; !ok {
				delete(m, p)
			}
		}
	}
	for p := range w.foreign {
		if data, ok := want.Data[p]; !ok || data != nil {
			delete(w.foreign, p)
		}
	}
}

// servicePort returns the service and the port of a registration's path,
// <path>/<service>/<host>:<port>.
func servicePort(p string) (string, int) {
	service := path.Base(path.Dir(p))
	name := path.Base(p)
	port, _ := strconv.Atoi(name[strings.LastIndexByte(name, ':')+1:])
	return service, port
}

// dial connects, retrying with backoff until it succeeds or the registrar
// is stopped (nil then).
func (g *registrar) dial() Registry {
	backoff := time.Duration(0)
	for {
		reg, err := g.connect(g.cfg)
		if err == nil {
			return reg
		}
		backoff = min(max(2*backoff, minBackoff), maxBackoff)
		g.log.Error("connecting to ZooKeeper; retrying", "hosts", strings.Join(g.cfg.Hosts, ","), "retry_in", backoff, "err", err)
		select {
		case <-g.stop:
			return nil
		case <-time.After(backoff):
		}
	}
}

// finish deletes every znode that may be ours, all at once and within the
// grace period, then closes the session.
func (g *registrar) finish(reg Registry, have map[string]regState) {
	ctx, cancel := context.WithTimeout(context.Background(), g.grace)
	defer cancel()
	var paths []string
	for p, h := range have {
		if h.Present {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var wg sync.WaitGroup
	errs := make([]error, len(paths))
	for i, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = reg.Deregister(ctx, p)
		}()
	}
	wg.Wait()
	for i, p := range paths {
		if errs[i] != nil {
			g.log.Warn("deregistering on shutdown failed; closing the session removes it", "znode", p, "err", errs[i])
		} else {
			g.log.Info("deregistered", "znode", p)
		}
	}
	if err := reg.Close(); err != nil {
		g.log.Warn("closing the ZooKeeper session", "err", err)
	}
}
