package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lighthouse/model"
	"lighthouse/model/configtext"
	"lighthouse/model/haproxyapi"
	"lighthouse/plan"
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

// planLogSteps is the most steps of a plan logged at info level; a longer
// plan is logged as counts per kind and its first steps (the whole plan at
// debug level).
const planLogSteps = 20

// Run works until ctx is done, then stops watching and returns nil, leaving
// HAProxy running on the last good config.
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
		if d := time.Until(w.planner.StartRetryAt()); d > 0 {
			// Wake up to try a file a start failed on again.
			next = earliest(next, d)
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
