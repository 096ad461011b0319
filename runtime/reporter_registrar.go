package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"lighthouse/model"
	"lighthouse/plan/registration"
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

// Registration backoff bounds.
const (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// registrar owns the Registry of one discovery config and converges it to
// what the main loop wants: registration.Make plans, the registrar carries
// the plan out, and the outcomes, the inspections of znodes and the session
// go back into its registration.State.
type registrar struct {
	name    string
	cfg     model.Discovery
	log     *slog.Logger
	connect func(model.Discovery) (Registry, error)
	grace   time.Duration
	metrics ReporterMetrics
	health  *Health

	want   chan registration.Want // latest value only
	resync chan struct{}
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

func (r *Reporter) startRegistrar(name string, cfg model.Discovery, after <-chan struct{}) *registrar {
	g := &registrar{name: name, cfg: cfg, log: r.Log.With("discovery", name), connect: r.NewRegistry, grace: r.ShutdownGrace,
		metrics: r.Metrics, health: r.Health,
		want: make(chan registration.Want, 1), resync: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	go g.run(after)
	return g
}

// setWant hands the registrar the znodes it must converge to. Only the main
// loop calls it.
func (g *registrar) setWant(w registration.Want) {
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

// session is one connection of a registrar: its Registry, what it wants
// and knows, and its timers. Only the registrar's goroutine touches it.
type session struct {
	g     *registrar
	reg   Registry
	ctx   context.Context // done when the registrar stops
	want  registration.Want
	state registration.State
	last  int64 // the last session id that was not 0

	backoff   time.Duration
	notBefore time.Time   // no plan is carried out before (backoff)
	retry     *time.Timer // the end of the backoff
	restore   *time.Timer // the earliest pending restore
	pending   string      // the plan of pending steps last logged
}

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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-g.stop
		cancel() // interrupt an operation in flight
	}()
	s := &session{g: g, reg: reg, ctx: ctx, retry: stoppedTimer(), restore: stoppedTimer()}
	defer s.retry.Stop()
	defer s.restore.Stop()
	w := newWatches(s)
	for {
		s.followSession()
		if s.state.Session != 0 && !time.Now().Before(s.notBefore) {
			s.carryOut(time.Now())
			w.watchAll()
		}
		switch {
		case s.state.Session == 0:
			g.health.SetPart(part, "no ZooKeeper session (discovery "+g.name+")")
		case s.unsettled(time.Now()):
			g.health.SetPart(part, "registrations pending (discovery "+g.name+")")
		default:
			g.health.SetPart(part, "")
		}
		select {
		case <-g.stop:
			g.finish(reg, s.state.Held())
			return
		case s.want = <-g.want:
			s.state.Forget(s.want)
		case <-g.resync:
			s.state.Resync()
		case <-reg.SessionChanges():
		case <-s.retry.C:
		case <-s.restore.C:
		case p := <-w.fired:
			w.watching[p] = false
			if s.state.Session != 0 {
				w.inspect(p)
			}
		}
	}
}

func stoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// followSession notes a change of the registry's session in the state, and
// logs it.
func (s *session) followSession() {
	id := s.reg.Session()
	if id == s.state.Session {
		return
	}
	log := s.g.log
	switch {
	case id == 0:
		log.Warn("ZooKeeper connection lost; registrations wait for it", "hosts", strings.Join(s.g.cfg.Hosts, ","))
	case s.last == 0:
		log.Info("ZooKeeper session established", "session", fmt.Sprintf("%#x", id))
	case id == s.last:
		log.Info("ZooKeeper connection re-established; same session", "session", fmt.Sprintf("%#x", id))
	default:
		log.Warn("ZooKeeper session expired; registering again in a new one", "session", fmt.Sprintf("%#x", id), "expired", fmt.Sprintf("%#x", s.last))
	}
	s.g.metrics.ZooKeeper(id != 0, id != 0 && s.last != 0 && id != s.last)
	if id != 0 {
		s.backoff, s.notBefore, s.last = 0, time.Time{}, id
	}
	s.state.Session = id
}

// planLog is how many steps of a plan the info line shows (the whole plan
// follows at debug level).
const planLog = 20

// carryOut plans, logs the plan and carries it out: in order, a pending
// restore skipped (its timer armed), each outcome recorded, up to the
// first failure (then a backoff).
func (s *session) carryOut(now time.Time) {
	p := registration.Make(registration.Input{Want: s.want, State: &s.state, Now: now})
	s.logPlan(p, now)
	var next time.Time // the earliest pending restore
	for _, step := range p.Steps {
		if s.ctx.Err() != nil {
			return
		}
		if !step.Due(now) {
			if at := step.Action.(registration.Restore).NotBefore; next.IsZero() || at.Before(next) {
				next = at
			}
			continue
		}
		prior := s.state.Done[step.Action.Target()]
		sid, err := s.apply(step)
		s.state.Record(s.want, registration.Outcome{Step: step, Session: sid, Err: err, At: now})
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			s.backoff = min(max(2*s.backoff, minBackoff), maxBackoff)
			s.notBefore = time.Now().Add(s.backoff)
			s.retry.Reset(s.backoff)
			s.g.log.Warn("registration failed; retrying", "op", step.Action.Kind()+" "+step.Action.Target(), "retry_in", s.backoff, "err", err)
			break
		}
		s.backoff = 0
		s.applied(step, prior, sid)
	}
	s.restore.Stop()
	if !next.IsZero() {
		s.restore.Reset(next.Sub(now))
	}
}

// logPlan logs a plan as the writer does: at info level before it is
// carried out, summed up when long; a plan of pending restores only at
// debug level, once until it changes.
func (s *session) logPlan(p registration.Plan, now time.Time) {
	due := 0
	for _, step := range p.Steps {
		if step.Due(now) {
			due++
		}
	}
	switch {
	case p.Empty():
		s.pending = ""
		return
	case due == 0:
		if text := p.String(); text != s.pending {
			s.pending = text
			s.g.log.Debug("registry steps pending", "plan", p.Summary(planLog))
		}
		return
	}
	s.pending = ""
	s.g.log.Info("carrying out registry plan", "steps", len(p.Steps), "plan", p.Summary(planLog))
	if len(p.Steps) > planLog {
		s.g.log.Debug("the whole registry plan", "plan", p.String())
	}
}

// apply carries out one step against the registry; sid is the session a
// registration was made in.
func (s *session) apply(step registration.Step) (sid int64, err error) {
	switch a := step.Action.(type) {
	case registration.Create:
		return s.reg.Register(s.ctx, a.Path, a.Data)
	case registration.SetData:
		return s.reg.Register(s.ctx, a.Path, a.Data)
	case registration.Restore:
		args := []any{"znode", a.Path, "change", step.Reason}
		if a.Owner != 0 {
			args = append(args, "owner", fmt.Sprintf("%#x", a.Owner))
		}
		s.g.log.Warn("registration changed by someone else; restoring it", args...)
		service, _ := registration.ServicePort(a.Path)
		s.g.metrics.Restored(service)
		return s.reg.Register(s.ctx, a.Path, a.Data)
	case registration.Delete:
		return s.state.Session, s.reg.Deregister(s.ctx, a.Path)
	case registration.LeaveAlone:
		s.g.log.Warn("a znode for this port exists though the port is down; leaving it alone: another reporter may own it",
			"znode", a.Path, "owner", fmt.Sprintf("%#x", a.Owner))
		return s.state.Session, nil
	}
	panic(fmt.Sprintf("registrar: unknown action %T", step.Action))
}

// applied logs a step carried out and counts it.
func (s *session) applied(step registration.Step, prior registration.Done, sid int64) {
	p := step.Action.Target()
	service, port := registration.ServicePort(p)
	switch step.Action.(type) {
	case registration.Create, registration.SetData, registration.Restore:
		s.g.log.Info("registered", "znode", p, "session", fmt.Sprintf("%#x", sid))
		s.g.metrics.Registered(service, port, true)
	case registration.Delete:
		if prior.Present {
			s.g.log.Info("deregistered", "znode", p)
		} else { // never registered by this run: a leftover check
			s.g.log.Debug("made sure absent", "znode", p)
		}
		s.g.metrics.Registered(service, port, false)
	}
}

// unsettled says whether a step other than a restore held back by its rate
// limit remains to be carried out: registrations are pending.
func (s *session) unsettled(now time.Time) bool {
	for _, step := range registration.Make(registration.Input{Want: s.want, State: &s.state, Now: now}).Steps {
		if step.Due(now) {
			return true
		}
	}
	return false
}

// watches keeps a watch on every znode a registrar deals with, so that a
// registration deleted, overwritten or taken over by someone else is
// restored, and a znode someone else creates while the port is down is
// noticed (and left alone): what a watch finds goes into the state, and
// the next plan acts on it.
type watches struct {
	s        *session
	fired    chan string     // a watched znode changed
	watching map[string]bool // a watch is set
}

func newWatches(s *session) *watches {
	return &watches{s: s, fired: make(chan string), watching: map[string]bool{}}
}

// watchAll sets a watch on every wanted znode that has none and whose
// operation is done, and records what the watch saw at once.
func (w *watches) watchAll() {
	for p := range w.s.want {
		if !w.watching[p] && w.s.state.Settled(p) {
			w.inspect(p)
		}
	}
}

// inspect reads znode p, sets a watch on it, and records what it found.
func (w *watches) inspect(p string) {
	if _, wanted := w.s.want[p]; !wanted {
		return
	}
	ctx := w.s.ctx
	exists, owner, got, changed, err := w.s.reg.Inspect(ctx, p)
	if err != nil {
		w.s.g.log.Debug("watching a registration failed; trying again after the next operation", "znode", p, "err", err)
		return
	}
	w.watching[p] = true
	go func() {
		select {
		case <-changed:
			select {
			case w.fired <- p:
			case <-ctx.Done():
			}
		case <-ctx.Done():
		}
	}()
	w.s.state.Inspected(w.s.want, p, registration.Seen{Exists: exists, Owner: owner, Data: got})
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
func (g *registrar) finish(reg Registry, paths []string) {
	ctx, cancel := context.WithTimeout(context.Background(), g.grace)
	defer cancel()
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
