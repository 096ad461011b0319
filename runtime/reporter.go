package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"lighthouse/model"
	"lighthouse/plan/registration"
)

// Prober runs one health check against host:port, under the check's
// timeout. nil means the check passed; the error says why it did not.
// effects/probe.Prober satisfies it.
type Prober interface {
	Probe(ctx context.Context, host string, port int, c model.Check) error
}

// Identity is how this host names itself in the nodes it registers.
type Identity struct {
	Name string // FQDN: the node's host and its peer's name
	IP   string // the node's and the peer's IP
}

// DefaultShutdownGrace bounds how long the reporter spends deleting its
// znodes when it stops, before it closes its sessions anyway.
const DefaultShutdownGrace = 500 * time.Millisecond

// Reporter health-checks the services of the config directory and keeps
// one ephemeral znode per healthy service port: see the package
// documentation for how.
type Reporter struct {
	Log    *slog.Logger
	Config ConfigSource
	// Refresh makes the reporter re-read the config directory and register
	// everything again (SIGHUP).
	Refresh <-chan struct{}
	// Hurry ends a drain_on_stop wait at once (a second SIGTERM).
	Hurry  <-chan struct{}
	Prober Prober
	// NewRegistry connects to a discovery config; it is retried with
	// backoff when it fails.
	NewRegistry func(d model.Discovery) (Registry, error)
	// Host is what the registered nodes say about this host.
	Host Identity
	// OnLogging is called with the logging config after every load.
	OnLogging func(model.Logging)
	// ShutdownGrace bounds the deletion of znodes at shutdown (default
	// DefaultShutdownGrace).
	ShutdownGrace time.Duration
	// Metrics receives what the reporter does; nil: none.
	Metrics ReporterMetrics
	// Health, when set, is answered and kept up to date: the loop answers
	// its pings; ready means every service had a round of checks, and
	// every registrar has a session and has registered every port that is
	// up.
	Health *Health

	// stopping is set once a stop was asked for while a service has
	// drain_on_stop: those services are published with state: drain
	// until the wait is over.
	stopping bool

	snap       *model.Snapshot
	diagText   string
	services   map[string]*serviceRun // by service file stem
	registrars map[string]*registrar  // by discovery name
	sent       map[string]registration.Want
	results    chan roundResult
	wg         sync.WaitGroup
}

// serviceRun is one service file being checked.
type serviceRun struct {
	cfg    model.Service
	gen    int
	rounds int // rounds recorded
	cancel context.CancelFunc
	done   chan struct{}
	ports  map[int]*portRun
}

// portRun is the health of one port of a service.
type portRun struct {
	health model.PortHealth
	judged bool // a round has been recorded
	up     bool
	// reasons holds, while the port is down, the failure of each check
	// last logged at info level (as reasonKey): a failure is logged again
	// only when its reason changes. Cleared when the port is up.
	reasons map[string]string
}

// roundResult is one round of a service's checks.
type roundResult struct {
	id      string
	gen     int
	results map[int][]model.CheckResult
}

// Run works until ctx is done, then deletes every znode it registered,
// closes its ZooKeeper sessions and returns nil. It returns an error only
// if the config directory cannot be read at start.
func (r *Reporter) Run(ctx context.Context) error {
	if r.ShutdownGrace <= 0 {
		r.ShutdownGrace = DefaultShutdownGrace
	}
	if r.Metrics == nil {
		r.Metrics = nopReporterMetrics{}
	}
	r.Health.SetPart("checks", "no round of checks yet")
	r.services = map[string]*serviceRun{}
	r.registrars = map[string]*registrar{}
	r.sent = map[string]registration.Want{}
	r.results = make(chan roundResult)
	files, err := r.Config.Read()
	if err != nil {
		return fmt.Errorf("reporter: %w", err)
	}
	r.Log.Info("starting reporter", "host", r.Host.Name, "ip", r.Host.IP)
	checkCtx, stopChecks := context.WithCancel(context.Background())
	defer stopChecks()
	r.load(checkCtx, files)
	stop, hurry := ctx.Done(), r.Hurry
	var drained <-chan time.Time // the end of drain_on_stop
	for {
		select {
		case <-stop:
			if d := r.drainOnStop(); d > 0 {
				r.Log.Info("stopping: publishing state drain first, then deregistering", "drain_on_stop", d)
				r.stopping, stop = true, nil
				drained = time.After(d)
				r.publish()
				continue
			}
			r.shutdown(stopChecks)
			return nil
		case <-drained:
			r.shutdown(stopChecks)
			return nil
		case <-hurry:
			if r.stopping {
				r.Log.Info("stopping at once: deregistering")
				r.shutdown(stopChecks)
				return nil
			}
			hurry = nil // the stop it follows is handled next
		case <-r.Config.Changes():
			r.reload(checkCtx)
		case <-r.Refresh:
			r.Log.Info("re-reading everything and registering again (SIGHUP)")
			r.reload(checkCtx)
			for _, g := range r.registrars {
				g.requestResync()
			}
		case res := <-r.results:
			r.record(res)
		case c := <-r.Health.Pings():
			close(c)
		}
	}
}

// drainOnStop is the longest drain_on_stop of the services: how long a
// stopping reporter publishes drain before it deregisters.
func (r *Reporter) drainOnStop() time.Duration {
	var d time.Duration
	for _, run := range r.services {
		d = max(d, run.cfg.DrainOnStop)
	}
	return d
}

func (r *Reporter) reload(ctx context.Context) {
	files, err := r.Config.Read()
	if err != nil {
		r.Log.Error("reading the config directory; keeping the config in force", "err", err)
		return
	}
	r.load(ctx, files)
}

// load follows a new read of the config directory: logging, discovery
// sessions, services and their checkers, then what to register.
func (r *Reporter) load(ctx context.Context, files []model.File) {
	r.snap = model.Load(r.snap, files)
	logDiagnostics(r.Log, r.snap.Diagnostics, &r.diagText)
	r.Metrics.ConfigLoadErrors(errorFiles(r.snap.Diagnostics))
	cfg := &r.snap.Config
	if r.OnLogging != nil {
		r.OnLogging(cfg.Logging)
	}
	r.followDiscovery(cfg)
	r.followServices(ctx, cfg)
	if r.checked() { // no service has rounds to wait for
		r.Health.SetPart("checks", "")
		r.Health.SetStarted()
	}
	r.publish()
}

func (r *Reporter) followDiscovery(cfg *model.Config) {
	for name, g := range r.registrars {
		d, ok := cfg.Discovery[name]
		if ok && d.SameConnection(g.cfg) {
			continue
		}
		if ok {
			r.Log.Info("discovery config changed: deregistering, then registering with the new one", "discovery", name,
				"hosts", strings.Join(d.Hosts, ","), "path", d.Path)
		} else {
			r.Log.Info("discovery config removed: deregistering", "discovery", name)
		}
		g.shutdown()
		r.retire(g)
		delete(r.registrars, name)
		delete(r.sent, name)
		if ok {
			r.registrars[name] = r.startRegistrar(name, d, g.done)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Discovery)) {
		if _, ok := r.registrars[name]; !ok {
			r.registrars[name] = r.startRegistrar(name, cfg.Discovery[name], nil)
		}
	}
}

// retire waits in the background for a stopped registrar (Run waits for
// all of them before it returns).
func (r *Reporter) retire(g *registrar) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		<-g.done
	}()
}

// probeConfig is what a checker needs of a service: a change here restarts
// its rounds.
type probeConfig struct {
	Host     string
	Ports    []int
	Interval time.Duration
	Checks   []model.Check
}

func probeConfigOf(s model.Service) probeConfig {
	return probeConfig{Host: s.Host, Ports: s.Ports, Interval: s.Interval, Checks: s.Checks}
}

func (r *Reporter) followServices(ctx context.Context, cfg *model.Config) {
	for id, run := range r.services {
		if _, ok := cfg.Services[id]; !ok {
			r.Log.Info("service removed: stopping its checks", "service", id)
			r.checksGone(run.cfg, model.Service{})
			run.cancel()
			delete(r.services, id)
		}
	}
	for _, id := range cfg.ServiceIDs() {
		sv := cfg.Services[id]
		run, ok := r.services[id]
		if !ok {
			run = &serviceRun{ports: map[int]*portRun{}}
			r.services[id] = run
			r.Log.Info("service added", "service", id, "cluster", sv.Name, "ports", sv.Ports, "checks", checkTypes(sv.Checks))
		} else if reflect.DeepEqual(probeConfigOf(run.cfg), probeConfigOf(sv)) {
			// Name, metadata or discovery: only what is registered changes.
			if run.cfg.Name != sv.Name || run.cfg.Discovery != sv.Discovery || !reflect.DeepEqual(run.cfg.Metadata, sv.Metadata) {
				r.Log.Info("service changed: registering its new name, discovery or metadata", "service", id, "cluster", sv.Name)
			}
			run.cfg = sv
			continue
		} else {
			r.Log.Info("service changed: its checks keep their history", "service", id, "ports", sv.Ports, "checks", checkTypes(sv.Checks))
			r.checksGone(run.cfg, sv)
			run.cancel()
		}
		run.cfg = sv
		for port, p := range run.ports {
			if !containsInt(sv.Ports, port) {
				delete(run.ports, port)
			} else {
				p.health = p.health.Configure(sv.Checks)
				if up := p.judged && p.health.Up(); p.up && !up {
					r.Log.Warn("service down: a new check has not passed yet", "service", id, "cluster", sv.Name, "port", port)
					p.up = false
				}
			}
		}
		for _, port := range sv.Ports {
			if _, ok := run.ports[port]; !ok {
				run.ports[port] = &portRun{health: model.NewPortHealth(sv.Checks)}
			}
		}
		prev := run.done
		run.gen++
		cctx, cancel := context.WithCancel(ctx)
		run.cancel, run.done = cancel, make(chan struct{})
		r.wg.Add(1)
		go r.check(cctx, id, run.gen, probeConfigOf(sv), prev, run.done)
	}
}

// checksGone tells the metrics of the checks that old had and sv has not.
func (r *Reporter) checksGone(old, sv model.Service) {
	for _, port := range old.Ports {
		for _, c := range old.Checks {
			still := old.Name == sv.Name && containsInt(sv.Ports, port) &&
				slices.ContainsFunc(sv.Checks, func(n model.Check) bool { return n.Type == c.Type })
			if !still {
				r.Metrics.CheckGone(old.Name, port, c.Type)
			}
		}
	}
}

// checked says whether every service has had a round of checks.
func (r *Reporter) checked() bool {
	for _, run := range r.services {
		if run.rounds == 0 {
			return false
		}
	}
	return true
}

// publish hands each registrar the znodes it should hold, if they changed.
func (r *Reporter) publish() {
	health := registration.Health{}
	for id, run := range r.services {
		for port, p := range run.ports {
			if !p.judged {
				continue
			}
			if health[id] == nil {
				health[id] = map[int]bool{}
			}
			health[id][port] = p.up
		}
	}
	want := registration.Wanted(&r.snap.Config, health, registration.Host(r.Host), r.stopping)
	for name, g := range r.registrars {
		w := want[name]
		if old, ok := r.sent[name]; ok && old.Equal(w) {
			continue
		}
		r.sent[name] = w
		g.setWant(w)
	}
}

// shutdown stops the checkers, has every registrar delete its znodes and
// close its session, and waits for all of them.
func (r *Reporter) shutdown(stopChecks context.CancelFunc) {
	r.Log.Info("stopping: deregistering every service")
	stopChecks()
	for _, g := range r.registrars {
		g.shutdown()
	}
	for _, g := range r.registrars {
		<-g.done
	}
	r.wg.Wait()
	r.Log.Info("stopped")
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
