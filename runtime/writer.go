package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lighthouse/model"
	"lighthouse/model/configtext"
	"lighthouse/model/haproxyapi"
	"lighthouse/plan"
	"lighthouse/render"
)

// HAProxy is what the writer needs of the local HAProxy. The effects
// package satisfies it; a Balancer config decides the paths it works on.
type HAProxy interface {
	// Observe reports whether HAProxy runs, the config file on disk, and
	// the servers of every backend (nil servers when the admin socket
	// cannot be asked).
	Observe(ctx context.Context) (haproxyapi.Observation, error)
	// Validate checks a candidate config with `haproxy -c`, written beside
	// the live file. A rejection is an error with an Alerts() []string
	// method.
	Validate(ctx context.Context, data configtext.Text) error
	// Install writes the config file atomically.
	Install(ctx context.Context, data configtext.Text) error
	Start(ctx context.Context) error
	// Kill stops HAProxy at once, master and workers (SIGKILL).
	Kill(ctx context.Context) error
	Reload(ctx context.Context) error
	// Apply carries out runtime changes (add and delete a server, enable
	// its health checks, shut down its sessions, set its state, address or
	// weight), in batches, and returns one result per change it sent,
	// in order: nil when it was carried out; an error with a Busy() bool
	// method returning true for a server not removed because requests are
	// in flight. It stops after a batch with any other failure (the list
	// is then shorter than changes).
	Apply(ctx context.Context, changes []haproxyapi.Change) []error
	// SaveState writes the servers' states (`show servers state`) to the
	// server state file at path, atomically.
	SaveState(ctx context.Context, path string) error
}

// Liveness is what an HAProxy offers when it can tell at once that it
// stopped, rather than at the next resync: the writer then observes it
// again and plans from what it sees (a dead HAProxy is started again).
type Liveness interface {
	// Liveness returns a channel that receives a value soon after the
	// HAProxy that Observe last reported running stopped running (its
	// master or a current worker exited).
	Liveness() <-chan struct{}
	// StopWatching ends the watch: the writer no longer uses this HAProxy.
	StopWatching()
}

// stopWatching ends the liveness watch of the writer's HAProxy, if any.
func (w *Writer) stopWatching() {
	if l, ok := w.hap.(Liveness); ok {
		l.StopWatching()
	}
}

// LastGoodStore keeps the last good version of each config file across
// restarts (effects/lastgood).
type LastGoodStore interface {
	// Load returns the files kept.
	Load() ([]model.File, error)
	// Save keeps exactly files.
	Save(files []model.File) error
}

// logDiagnostics logs a config load's diagnostics, one line each, when they
// differ from the last ones logged (*last).
func logDiagnostics(log *slog.Logger, ds model.Diagnostics, last *string) {
	text := ds.String()
	if text == *last {
		return
	}
	*last = text
	for _, d := range ds {
		if d.Severity == model.Error {
			log.Error("diagnostic", "diagnostic", d.String())
		} else {
			log.Warn("diagnostic", "diagnostic", d.String())
		}
	}
}

// rejection is how an HAProxy error says that `haproxy -c` rejected a
// candidate config (as opposed to failing to run it).
type rejection interface {
	error
	Alerts() []string
}

// Discovery delivers membership of the clusters it is told to watch.
type Discovery interface {
	// Watch sets the clusters to watch; clusters no longer named stop.
	Watch(clusters []string)
	// Updates delivers membership changes.
	Updates() <-chan model.MembershipUpdate
	// Close stops watching and closes the session.
	Close() error
}

// ConfigSource is the config directory.
type ConfigSource interface {
	Read() ([]model.File, error)
	// Changes delivers a value after files changed (debounced).
	Changes() <-chan struct{}
}

// Writer keeps HAProxy in sync with the config directory and membership:
// inputs → Planner.Plan → log the plan → carry it out → outcomes back as
// inputs.
type Writer struct {
	Log    *slog.Logger
	Config ConfigSource
	// NewHAProxy makes the HAProxy of a balancer config.
	NewHAProxy func(b *model.Balancer) HAProxy
	// NewDiscovery connects to a discovery config.
	NewDiscovery func(d model.Discovery) (Discovery, error)
	// Version detects the HAProxy version.
	Version func(ctx context.Context) (model.Version, error)
	// Refresh makes the writer re-read everything (SIGHUP).
	Refresh <-chan struct{}
	// LastGood, when set, keeps each config file's last good version on
	// disk: a writer started while a file is broken runs that file's last
	// good version, as it would had it kept running.
	LastGood LastGoodStore
	// Resync is how often HAProxy is observed without any event; default
	// 2 s. An HAProxy that has Liveness is observed again as soon as it
	// stops; the resync is the fallback.
	Resync time.Duration
	// OnLogging is called when logging.yaml changes.
	OnLogging func(model.Logging)
	// Metrics receives what the writer does; nil: none.
	Metrics WriterMetrics
	// Health, when set, is answered and kept up to date: the loop answers
	// its pings; ready means HAProxy runs a config with every configured
	// cluster and every cluster's membership is known.
	Health *Health

	snap        *model.Snapshot
	diagText    string // config diagnostics last logged
	planDiags   string // plan diagnostics last logged
	hap         HAProxy
	balancer    *model.Balancer
	disc        Discovery
	discCfg     model.Discovery
	watched     []string
	members     model.Membership
	version     model.Version
	planner     plan.Planner // plans, and keeps what the outcomes taught
	writeErr    string       // the write error while writing fails, "" while it works
	retry       time.Duration
	failure     string          // the failure last logged at error level, "" while things work
	lastGoodErr string          // the last error saving the last good files, logged once
	changedAt   time.Time       // when the oldest membership change not yet in HAProxy arrived
	reported    map[string]bool // clusters whose metrics are set
	heard       map[string]bool // clusters with a first read, done or failed
	discSince   time.Time       // when the discovery session was asked for
	coldLogged  bool            // a start before the first reads was logged
	belief      *plan.Observed  // what HAProxy runs after the last plan; nil: observe everything
	touched     map[string]bool // clusters whose membership changed since the last observation
	lastFull    time.Time       // the last observation of everything

	// The file syncer brings the config file up to date after runtime
	// changes, off the loop, so that membership changes never wait for
	// `haproxy -c`. fileMu serialises every validate-and-install; a
	// synchronous one (before a reload) bumps fileGen, which voids queued
	// background jobs.
	fileMu   sync.Mutex
	fileGen  atomic.Uint64
	fileJobs chan fileJob
	fileDone chan fileResult
	syncing  string // fingerprint handed to the syncer and not done yet
}

type fileJob struct {
	hap      HAProxy
	validate plan.Validate
	gen      uint64
}

// fileResult is the syncer's outcome of a job: done, or the step that
// failed (rejected: by `haproxy -c`).
type fileResult struct {
	validate plan.Validate
	failed   plan.Action
	err      error
	rejected bool
}

// Run works until ctx is done, then stops watching and returns nil, leaving
// HAProxy running on the last good config.
// planLogSteps is the most steps of a plan logged at info level; a longer
// plan is logged as counts per kind and its first steps (the whole plan at
// debug level).
const planLogSteps = 20

func (w *Writer) Run(ctx context.Context) error {
	if w.Resync <= 0 {
		w.Resync = 2 * time.Second
	}
	w.members = model.Membership{}
	if w.Metrics == nil {
		w.Metrics = nopWriterMetrics{}
	}
	w.reported, w.heard, w.touched = map[string]bool{}, map[string]bool{}, map[string]bool{}
	var err error
	if w.version, err = w.Version(ctx); err != nil {
		return fmt.Errorf("writer: %w", err)
	}
	w.Log.Info("starting writer", "haproxy_version", w.version.String())
	w.fileJobs = make(chan fileJob, 1)
	w.fileDone = make(chan fileResult, 4)
	var syncer sync.WaitGroup
	syncer.Add(1)
	go func() { defer syncer.Done(); w.syncFiles(ctx) }()
	defer syncer.Wait()
	defer close(w.fileJobs)
	w.reloadConfig(ctx)
	defer w.closeDiscovery()
	defer w.stopWatching()

	wake := time.NewTimer(0)
	defer wake.Stop()
	resync := time.NewTicker(w.Resync)
	defer resync.Stop()
	var updates <-chan model.MembershipUpdate
	for {
		if w.disc != nil {
			updates = w.disc.Updates()
		} else {
			updates = nil
		}
		var stopped <-chan struct{}
		if l, ok := w.hap.(Liveness); ok {
			stopped = l.Liveness()
		}
		select {
		case <-ctx.Done():
			w.Log.Info("stopping writer; HAProxy keeps running on the last good config")
			return nil
		case <-w.Config.Changes():
			w.reloadConfig(ctx)
		case <-w.Refresh:
			w.Log.Info("re-reading everything (SIGHUP)")
			w.reloadConfig(ctx)
		case u := <-updates:
			w.applyUpdate(u)
		drain:
			for {
				select {
				case u := <-updates:
					w.applyUpdate(u)
				default:
					break drain
				}
			}
		case r := <-w.fileDone:
			w.fileSynced(r)
		case <-wake.C:
		case <-resync.C:
		case <-stopped:
			w.Log.Debug("HAProxy's master or worker exited; observing it again")
			w.belief = nil
		case c := <-w.Health.Pings():
			close(c)
			continue
		}
		next := w.converge(ctx)
		if at := w.planner.WriteRetryAt(); !at.IsZero() {
			// Wake up to try the file again.
			next = earliest(next, max(time.Until(at), time.Millisecond))
		}
		if next > 0 {
			if !wake.Stop() {
				select {
				case <-wake.C:
				default:
				}
			}
			wake.Reset(next)
		}
	}
}

func (w *Writer) applyUpdate(u model.MembershipUpdate) {
	if w.snap == nil {
		return
	}
	if _, ok := w.snap.Config.Clusters[u.Cluster]; !ok {
		return // no longer configured: an update that was in flight when it was dropped
	}
	old := w.members[u.Cluster]
	if !u.Known && u.Nodes == nil {
		u.Nodes = old.Nodes
	}
	w.members[u.Cluster] = model.Members{Known: u.Known, Nodes: u.Nodes}
	w.Metrics.Cluster(u.Cluster, u.Known, len(u.Nodes))
	w.reported[u.Cluster], w.heard[u.Cluster], w.touched[u.Cluster] = true, true, true
	if w.changedAt.IsZero() {
		w.changedAt = time.Now()
	}
	if u.Known != old.Known || len(u.Nodes) != len(old.Nodes) {
		w.Log.Info("membership", "cluster", u.Cluster, "known", u.Known, "nodes", len(u.Nodes))
	}
}

// reloadConfig re-reads the config directory (last good per file) and
// follows it: logging, the HAProxy paths, discovery, the watched clusters.
func (w *Writer) reloadConfig(ctx context.Context) {
	files, err := w.Config.Read()
	if err != nil {
		w.Log.Error("reading the config directory", "err", err)
		return
	}
	prev := w.snap
	if prev == nil && w.LastGood != nil {
		if saved, err := w.LastGood.Load(); err != nil {
			w.Log.Warn("the last good config files cannot be read; starting from the config directory alone", "err", err)
		} else if len(saved) > 0 {
			prev = model.Load(nil, saved)
			w.Log.Info("starting with the last good config files kept from before", "files", len(saved))
		}
	}
	w.snap = model.Load(prev, files)
	logDiagnostics(w.Log, w.snap.Diagnostics, &w.diagText)
	w.Metrics.ConfigLoadErrors(errorFiles(w.snap.Diagnostics))
	if w.LastGood != nil {
		if err := w.LastGood.Save(w.snap.GoodFiles()); err != nil && err.Error() != w.lastGoodErr {
			w.Log.Warn("the last good config files cannot be kept on disk", "err", err)
			w.lastGoodErr = err.Error()
		} else if err == nil {
			w.lastGoodErr = ""
		}
	}
	cfg := &w.snap.Config
	if w.OnLogging != nil {
		w.OnLogging(cfg.Logging)
	}
	if b := cfg.Balancer; b != nil && (w.balancer == nil || b.ConfigFile != w.balancer.ConfigFile || b.SocketFile != w.balancer.SocketFile || b.PidFile != w.balancer.PidFile) {
		w.stopWatching()
		w.hap = w.NewHAProxy(b)
		w.planner.Replaced()
		w.belief = nil
	}
	w.balancer = cfg.Balancer
	w.followDiscovery(cfg)
}

func (w *Writer) followDiscovery(cfg *model.Config) {
	var want []string
	var dcfg model.Discovery
	for _, name := range cfg.ClusterNames() {
		c := cfg.Clusters[name]
		if d, ok := cfg.Discovery[c.Discovery]; ok {
			want = append(want, name)
			dcfg = d
		}
	}
	if w.disc != nil && !dcfg.SameConnection(w.discCfg) {
		w.Log.Info("discovery config changed; reconnecting", "hosts", strings.Join(dcfg.Hosts, ","), "path", dcfg.Path)
		w.closeDiscovery()
	}
	if w.disc == nil && len(dcfg.Hosts) > 0 {
		d, err := w.NewDiscovery(dcfg)
		if err != nil {
			w.Log.Error("connecting to discovery", "err", err)
			return
		}
		w.disc, w.discCfg, w.watched, w.discSince = d, dcfg, nil, time.Now()
	}
	if w.disc != nil && !reflect.DeepEqual(want, w.watched) {
		w.disc.Watch(want)
		w.watched = want
	}
	// Clusters no longer configured drop out of membership.
	for name := range w.members {
		if _, ok := cfg.Clusters[name]; !ok {
			delete(w.members, name)
		}
	}
	for name := range w.reported {
		if _, ok := cfg.Clusters[name]; !ok {
			w.Metrics.ClusterGone(name)
			delete(w.reported, name)
			delete(w.heard, name)
		}
	}
	for name := range cfg.Clusters {
		if !w.reported[name] {
			m := w.members[name]
			w.Metrics.Cluster(name, m.Known, len(m.Nodes))
			w.reported[name] = true
		}
	}
}

func (w *Writer) closeDiscovery() {
	if w.disc != nil {
		if err := w.disc.Close(); err != nil {
			w.Log.Warn("closing discovery", "err", err)
		}
		w.disc, w.watched = nil, nil
	}
}

// converge plans and carries out the plan; it returns when to wake up again
// (0: on the next event).
func (w *Writer) converge(ctx context.Context) time.Duration {
	if w.snap == nil || w.snap.Config.Balancer == nil || w.hap == nil {
		return 0
	}
	for round := 0; round < 3; round++ {
		obs, err := w.observe(ctx)
		if err != nil {
			w.failed("observing HAProxy failed; trying again with a backoff", err)
			return w.backoff()
		}
		// What an HAProxy that ran before this writer loaded is not known
		// (the file may have been written after its last reload): the
		// first plan reloads it once. After that the planner knows.
		if obs.Running {
			obs.Loaded = w.planner.Loaded()
		}
		now := time.Now()
		pendingReads, startAt := w.coldStart(obs, now)
		p := w.planner.Plan(plan.Input{Config: &w.snap.Config, Membership: w.members, Version: w.version, Observed: obs,
			Now: now, ReadsPending: pendingReads, StartNotBefore: startAt})
		logDiagnostics(w.Log, p.Diagnostics, &w.planDiags)
		w.Metrics.HAProxyUp(obs.Running)
		if p.Empty() {
			w.believe(obs, p, nil)
			w.recovered()
			w.changedAt = time.Time{} // nothing to change for it
			w.Health.SetReady(w.notReady(obs))
			if w.firstReadsDone() {
				w.Health.SetStarted()
			}
			return 0
		}
		if pending(p, now) {
			w.Log.Debug("waiting for pending steps", "plan", p.Summary(planLogSteps))
		} else {
			w.Log.Info("carrying out plan", "steps", len(p.Steps), "plan", p.Summary(planLogSteps))
		}
		if len(p.Steps) > planLogSteps {
			w.Log.Debug("the whole plan", "plan", p.String())
		}
		wait, err := w.execute(ctx, p)
		w.believe(obs, p, err)
		if (err == nil || err == errHandedOff) && wait == 0 && !w.changedAt.IsZero() {
			w.Metrics.Converged(time.Since(w.changedAt))
			w.changedAt = time.Time{}
		}
		if err == errHandedOff {
			return wait // the file syncer reports back when the file is written
		}
		if err != nil {
			w.failed("a plan step failed; planning again with a backoff", err)
			return w.backoff()
		}
		if wait > 0 {
			return wait
		}
	}
	return 0
}

// maxPartialObserve is the most backends observed one by one: beyond it
// one `show servers state` of everything costs less (about 20 ms at
// 10,000 servers, against 0.3 to 0.7 ms a backend).
const maxPartialObserve = 32

// PartialObserver is an HAProxy that can observe some backends only (see
// observe).
type PartialObserver interface {
	// ObserveBackends is Observe with the servers of those backends only;
	// an error means: observe everything.
	ObserveBackends(ctx context.Context, backends []string) (haproxyapi.Observation, error)
}

// observe reads HAProxy's state. After a plan that went through, the
// writer's belief is what the plan made of the last observation: then
// only the backends whose membership changed since are read, with the
// process and the config file. Everything is read when there is no belief
// (at start, after a start, reload or kill, a failed step, HAProxy
// stopping) and every observe_interval, which also puts right what was
// changed by hand on the admin socket.
func (w *Writer) observe(ctx context.Context) (plan.Observed, error) {
	every := model.DefaultObserveInterval
	if w.balancer != nil && w.balancer.ObserveInterval > 0 {
		every = w.balancer.ObserveInterval
	}
	po, partial := w.hap.(PartialObserver)
	why := ""
	switch {
	case !partial:
		why = "this HAProxy is observed whole"
	case w.belief == nil:
		why = "no belief"
	case time.Since(w.lastFull) >= every:
		why = "observe_interval passed"
	case len(w.touched) > maxPartialObserve:
		why = "many backends changed"
	default:
		rows, err := po.ObserveBackends(ctx, slices.Sorted(maps.Keys(w.touched)))
		part := ObservedFrom(rows)
		if err == nil && part.Running && !part.Unresponsive {
			o := *w.belief
			o.File, o.Running, o.Unresponsive = part.File, true, false
			o.Servers = maps.Clone(o.Servers)
			maps.Copy(o.Servers, part.Servers)
			clear(w.touched)
			return o, nil
		}
		why = "observing the changed backends failed"
		if err != nil {
			why += ": " + err.Error()
		}
	}
	w.Log.Debug("observing every backend", "why", why)
	w.belief = nil
	rows, err := w.hap.Observe(ctx)
	obs := ObservedFrom(rows)
	if err == nil {
		w.lastFull = time.Now()
		clear(w.touched)
	}
	return obs, err
}

// believe keeps what the plan made of obs as what HAProxy runs, unless the
// plan failed, started, reloaded or killed HAProxy: the next observation
// then reads everything. A removal that waits or that HAProxy refused
// (requests in flight) leaves its backend to be read again.
func (w *Writer) believe(obs plan.Observed, p plan.Plan, err error) {
	w.belief = nil
	if (err != nil && err != errHandedOff) || !obs.Running || obs.Unresponsive || obs.Servers == nil {
		return
	}
	for _, s := range p.Steps {
		switch a := s.Action.(type) {
		case plan.Start, plan.Reload, plan.Kill:
			return
		case plan.RemoveServer:
			w.touched[a.Backend] = true
		}
	}
	if p.Empty() {
		w.belief = &obs
		return
	}
	b := plan.Apply(obs, p)
	w.belief = &b
}

// notReady says why the writer is not ready, "" when it is: HAProxy runs
// a config with a backend for every configured cluster, and the
// membership of every cluster is known.
func (w *Writer) notReady(obs plan.Observed) string {
	if !obs.Running {
		return "HAProxy is not running"
	}
	for _, name := range w.snap.Config.ClusterNames() {
		if !w.planner.Loaded().HasBackend(name) {
			return "HAProxy's config lacks cluster " + name
		}
		if !w.members[name].Known {
			return "the membership of cluster " + name + " is not known"
		}
	}
	return ""
}

// coldStart says how many watched clusters wait for their first read while
// HAProxy does not run, and until when its start waits for them: the
// session timeout after the session was asked for (ZooKeeper may not
// answer). HAProxy then starts once, with what is known.
func (w *Writer) coldStart(obs plan.Observed, now time.Time) (int, time.Time) {
	if obs.Running || w.disc == nil {
		return 0, time.Time{}
	}
	n := 0
	for _, name := range w.watched {
		if !w.heard[name] {
			n++
		}
	}
	timeout := w.discCfg.SessionTimeout
	if timeout == 0 {
		timeout = model.DefaultSessionTimeout
	}
	if n == 0 {
		return 0, time.Time{}
	}
	if !now.Before(w.discSince.Add(timeout)) {
		if !w.coldLogged {
			w.Log.Warn("starting HAProxy before the first membership read of every cluster: ZooKeeper has not answered within the session timeout", "clusters_pending", n, "session_timeout", timeout)
			w.coldLogged = true
		}
		return 0, time.Time{}
	}
	return n, w.discSince.Add(timeout)
}

// firstReadsDone says whether the first read of every configured cluster's
// membership is done or has failed: HAProxy then runs what is known.
func (w *Writer) firstReadsDone() bool {
	for name := range w.snap.Config.Clusters {
		if !w.heard[name] {
			return false
		}
	}
	return true
}

// errorFiles counts the files with an error among ds.
func errorFiles(ds model.Diagnostics) int {
	files := map[string]bool{}
	for _, d := range ds {
		if d.Severity == model.Error {
			files[d.File] = true
		}
	}
	return len(files)
}

// failed logs a failure of the loop at error level when it starts to fail
// or fails another way, and at debug level while it keeps failing the same
// way: a retry loop logs once per change of state.
func (w *Writer) failed(msg string, err error) {
	if key := msg + ": " + err.Error(); key != w.failure {
		w.failure = key
		w.Log.Error(msg, "err", err)
		return
	}
	w.Log.Debug(msg, "err", err, "retry_in", w.retry)
}

// recovered ends a run of failures: the backoff starts again from its
// least, and the recovery is logged once.
func (w *Writer) recovered() {
	if w.failure != "" {
		w.Log.Info("HAProxy is in sync again after failures")
		w.failure = ""
	}
	w.retry = 0
}

func (w *Writer) backoff() time.Duration {
	switch {
	case w.retry == 0:
		w.retry = 250 * time.Millisecond
	case w.retry < 5*time.Second:
		w.retry *= 2
	}
	return w.retry
}

// execute carries out the steps in order and stops at the first failure;
// what happened goes back to the planner as one Outcome. A reload that
// must wait stops execution and returns the wait.
func (w *Writer) execute(ctx context.Context, p plan.Plan) (time.Duration, error) {
	var out plan.Outcome
	locked := false
	var wait time.Duration // until the earliest pending step
	defer func() {
		if locked {
			w.fileMu.Unlock()
		}
		out.At = time.Now()
		w.planner.Record(out)
	}()
	// Runtime changes go out together, in order, up to the next step that
	// is not one (a file, a start, a reload).
	var batch []plan.Step
	flush := func() error {
		defer func() { batch = batch[:0] }()
		return w.applyRuntime(ctx, batch, &wait, &out)
	}
	for _, s := range p.Steps {
		var err error
		switch a := s.Action.(type) {
		case plan.RemoveServer:
			if d := time.Until(a.NotBefore); d > 0 {
				wait = earliest(wait, d) // pending: the steps after it go on
				continue
			}
			batch = append(batch, s)
			continue
		case plan.AddServer, plan.EnableHealth, plan.ShutdownSessions, plan.SetServerState, plan.SetServerAddr, plan.SetWeight:
			batch = append(batch, s)
			continue
		}
		if err := flush(); err != nil {
			return 0, err
		}
		switch a := s.Action.(type) {
		case plan.Validate:
			if a.Background {
				// Only the file is behind what runs: the syncer brings it
				// up to date while the loop takes the next change.
				w.handOff(a)
				return wait, errHandedOff
			}
			if !locked {
				w.fileMu.Lock()
				locked = true
				w.fileGen.Add(1)
				w.syncing = ""
			}
			err = w.hap.Validate(ctx, a.Data)
			var rej rejection
			if errors.As(err, &rej) {
				out.Rejected = true
				w.logRejection(rej, a.Data)
				w.Metrics.Reload("rejected")
			} else if err != nil {
				w.writeFailed(err)
			}
		case plan.WriteFile:
			if err = w.hap.Install(ctx, a.Data); err == nil {
				w.writeOK()
			} else {
				w.writeFailed(err)
			}
		case plan.Kill:
			if err = w.hap.Kill(ctx); err == nil {
				w.Log.Warn("killed HAProxy", "why", s.Reason)
			}
		case plan.Start:
			if d := time.Until(a.NotBefore); d > 0 {
				return earliest(wait, d), nil // an update that completes the reads plans again sooner
			}
			if err = w.hap.Start(ctx); err == nil {
				w.Log.Info("started HAProxy")
			}
		case plan.SaveState:
			if d := time.Until(a.NotBefore); d > 0 {
				return earliest(wait, d), nil // the reload after it waits too
			}
			if err = w.hap.SaveState(ctx, a.Path); err != nil {
				// No reason to hold the reload back: servers then start
				// as the config says, and the next plans set them again.
				w.Log.Warn("saving server states before the reload failed; reloading without them", "err", err)
				err = nil
			}
		case plan.Reload:
			if d := time.Until(a.NotBefore); d > 0 {
				w.Log.Info("reload waits for restart_interval", "not_before", a.NotBefore.Format(time.RFC3339Nano))
				return earliest(wait, d), nil
			}
			if err = w.hap.Reload(ctx); err == nil {
				w.Log.Info("reloaded HAProxy")
				w.Metrics.Reload("ok")
			} else {
				w.Metrics.Reload("failed")
			}
		default:
			err = fmt.Errorf("unknown action %s", s.Action.Kind())
		}
		w.Metrics.Action(s.Action.Kind(), err == nil)
		if err != nil {
			out.Failed, out.Err = s.Action, err
			return 0, fmt.Errorf("%s %s: %w", s.Action.Kind(), s.Action.Target(), err)
		}
		out.Done = append(out.Done, s.Action)
	}
	if err := flush(); err != nil {
		return 0, err
	}
	return wait, nil
}

// applyRuntime carries out a run of runtime changes through HAProxy's
// Apply, and adds what happened to out. A server HAProxy refused to delete
// while requests are in flight is a fact for the next plan, not a failure:
// it waits at least plan.BusyRetry. The first other failure ends the plan.
func (w *Writer) applyRuntime(ctx context.Context, steps []plan.Step, wait *time.Duration, out *plan.Outcome) error {
	if len(steps) == 0 {
		return nil
	}
	changes := make([]haproxyapi.Change, len(steps))
	for i, s := range steps {
		c, ok := runtimeChange(s.Action)
		if !ok { // execute batches runtime changes only
			out.Failed, out.Err = s.Action, errNotRuntime
			return fmt.Errorf("%s %s: %w", s.Action.Kind(), s.Action.Target(), errNotRuntime)
		}
		changes[i] = c
	}
	results := w.hap.Apply(ctx, changes)
	for i, err := range results {
		s := steps[i]
		switch a := s.Action.(type) {
		case plan.RemoveServer:
			var busy interface{ Busy() bool }
			if errors.As(err, &busy) && busy.Busy() {
				// In maintenance already: no new requests reach it while
				// those in flight finish.
				if !w.planner.IsBusy(a.Target()) {
					w.Log.Info("server still has requests in flight; it is deleted when they finish, or after drain_timeout", "server", a.Target())
				}
				out.Busy = append(out.Busy, a)
				*wait = earliest(*wait, plan.BusyRetry)
				continue
			}
		case plan.ShutdownSessions:
			if err == nil {
				w.Log.Info("cut the requests still in flight after drain_timeout", "server", a.Target())
			}
		}
		w.Metrics.Action(s.Action.Kind(), err == nil)
		if err != nil {
			out.Failed, out.Err = s.Action, err
			return fmt.Errorf("%s %s: %w", s.Action.Kind(), s.Action.Target(), err)
		}
		out.Done = append(out.Done, s.Action)
	}
	if len(results) < len(steps) {
		s := steps[len(results)]
		out.Failed, out.Err = s.Action, errNotCarriedOut
		return fmt.Errorf("%s %s: %w", s.Action.Kind(), s.Action.Target(), errNotCarriedOut)
	}
	return nil
}

// errNotCarriedOut is the failure of a runtime change HAProxy's Apply did
// not get to (it stopped after an earlier failure in the batch).
var errNotCarriedOut = errors.New("not carried out")

// errNotRuntime is the failure of a step that is not a runtime change
// handed to applyRuntime.
var errNotRuntime = errors.New("not a runtime change")

// pending reports whether every step of p waits for a time after now: the
// plan is logged once it is due, not at every retry.
func pending(p plan.Plan, now time.Time) bool {
	for _, s := range p.Steps {
		switch a := s.Action.(type) {
		case plan.RemoveServer:
			if !a.NotBefore.After(now) {
				return false
			}
		case plan.Start:
			if !a.NotBefore.After(now) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// earliest is the sooner of two waits, 0 standing for none.
func earliest(a, b time.Duration) time.Duration {
	if a == 0 || b < a {
		return b
	}
	return a
}

// errHandedOff ends a plan whose remaining steps only bring the config
// file up to date: the file syncer does them.
var errHandedOff = errors.New("file update handed to the syncer")

// handOff queues a validate-and-install for the syncer; a newer one
// replaces a queued older one.
func (w *Writer) handOff(v plan.Validate) {
	if w.syncing == v.Fingerprint {
		return
	}
	w.syncing = v.Fingerprint
	job := fileJob{hap: w.hap, validate: v, gen: w.fileGen.Load()}
	select {
	case <-w.fileJobs: // drop the older queued job
	default:
	}
	w.fileJobs <- job
}

// syncFiles validates and installs the files handed off, one at a time.
func (w *Writer) syncFiles(ctx context.Context) {
	for job := range w.fileJobs {
		w.fileMu.Lock()
		r := fileResult{validate: job.validate}
		if job.gen == w.fileGen.Load() {
			r.err = job.hap.Validate(ctx, job.validate.Data)
			var rej rejection
			r.rejected = errors.As(r.err, &rej)
			if r.err != nil {
				r.failed = job.validate
			} else if r.err = job.hap.Install(ctx, job.validate.Data); r.err != nil {
				r.failed = writeOf(job.validate)
			}
		}
		w.fileMu.Unlock()
		select {
		case w.fileDone <- r:
		case <-ctx.Done():
		}
	}
}

// writeOf is the WriteFile step that follows a Validate step.
func writeOf(v plan.Validate) plan.WriteFile {
	return plan.WriteFile{Path: v.Path, Data: v.Data, Fingerprint: v.Fingerprint}
}

// fileSynced takes the syncer's outcome back as input.
func (w *Writer) fileSynced(r fileResult) {
	if w.syncing == r.validate.Fingerprint {
		w.syncing = ""
	}
	out := plan.Outcome{At: time.Now(), Failed: r.failed, Err: r.err, Rejected: r.rejected}
	var rej rejection
	switch {
	case r.rejected && errors.As(r.err, &rej):
		w.logRejection(rej, r.validate.Data)
	case r.err != nil:
		w.writeFailed(r.err)
	default:
		out.Done = []plan.Action{r.validate, writeOf(r.validate)}
		w.writeOK()
	}
	w.planner.Record(out)
}

// writeFailed logs that a config file could not be written (a full disk,
// a path that is not writable): the planner installs nothing for a while,
// runtime changes go on, and writing is tried again after a backoff (the
// planner's). The failure is logged when writing stops working, and again
// only once it works again.
func (w *Writer) writeFailed(err error) {
	if w.writeErr == "" {
		w.writeErr = err.Error()
		w.Log.Error("the config file cannot be written; the last good one stays, runtime changes go on, and it is tried again with a backoff", "err", err)
	} else {
		w.Log.Debug("the config file still cannot be written", "err", err)
	}
}

// writeOK logs that a config file is written again.
func (w *Writer) writeOK() {
	if w.writeErr != "" {
		w.Log.Info("the config file is written again")
	}
	w.writeErr = ""
}

// logRejection logs what haproxy -c refused in a candidate, each alert at
// the file, line and key of the config that produced the line it names.
func (w *Writer) logRejection(rej rejection, data configtext.Text) {
	text := data.String()
	var cfg *model.Config
	if w.snap != nil {
		cfg = &w.snap.Config
	}
	for _, a := range rej.Alerts() {
		if haproxyapi.SummaryAlert(a) {
			continue
		}
		at := "the rendered config"
		if pos, ok := render.LocateAlert(cfg, text, a); ok {
			at = pos.File
			if pos.Line > 0 {
				at += ":" + strconv.Itoa(pos.Line)
			}
			if pos.Key != "" {
				at += ": " + pos.Key
			}
		}
		w.Log.Error("haproxy -c rejected the config file; the last good one stays", "at", at, "alert", a)
	}
}
