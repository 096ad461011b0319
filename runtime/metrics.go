package runtime

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"
)

// WriterMetrics receives what the writer does, for monitoring
// (effects/metrics satisfies it). The loop calls it: it must not block.
type WriterMetrics interface {
	// ConfigLoadErrors is the number of config files whose last load
	// failed.
	ConfigLoadErrors(files int)
	// Cluster is a configured cluster's membership: known or not, and
	// its node count.
	Cluster(name string, known bool, nodes int)
	// ClusterGone is a cluster no longer configured.
	ClusterGone(name string)
	// Action is a plan step carried out: its kind, and whether it worked.
	Action(kind string, ok bool)
	// Reload is a reload's outcome: "ok", "rejected" (haproxy -c refused
	// the candidate) or "failed".
	Reload(result string)
	// Converged is the time from a membership change reaching the writer
	// to HAProxy having changed for it.
	Converged(d time.Duration)
	// HAProxyUp says whether HAProxy runs.
	HAProxyUp(up bool)
}

// ReporterMetrics receives what the reporter does, for monitoring
// (effects/metrics satisfies it). Its methods must not block.
type ReporterMetrics interface {
	ConfigLoadErrors(files int)
	// ZooKeeper is a registrar's session state; expired is true once for
	// each session that expired.
	ZooKeeper(connected, expired bool)
	// Check is one check's result.
	Check(service string, port int, check string, up bool, took time.Duration)
	// CheckGone is a port no longer checked.
	CheckGone(service string, port int, check string)
	// Registered says whether a service port's znode is registered;
	// change is "registered" or "deregistered".
	Registered(service string, port int, registered bool)
	// Restored is a registration put back after someone else changed it.
	Restored(service string)
}

// nopWriterMetrics and nopReporterMetrics stand in when no metrics are
// wanted.
type nopWriterMetrics struct{}

func (nopWriterMetrics) ConfigLoadErrors(int)      {}
func (nopWriterMetrics) Cluster(string, bool, int) {}
func (nopWriterMetrics) ClusterGone(string)        {}
func (nopWriterMetrics) Action(string, bool)       {}
func (nopWriterMetrics) Reload(string)             {}
func (nopWriterMetrics) Converged(time.Duration)   {}
func (nopWriterMetrics) HAProxyUp(bool)            {}

type nopReporterMetrics struct{}

func (nopReporterMetrics) ConfigLoadErrors(int)                           {}
func (nopReporterMetrics) ZooKeeper(bool, bool)                           {}
func (nopReporterMetrics) Check(string, int, string, bool, time.Duration) {}
func (nopReporterMetrics) CheckGone(string, int, string)                  {}
func (nopReporterMetrics) Registered(string, int, bool)                   {}
func (nopReporterMetrics) Restored(string)                                {}

// Health is what a daemon's /healthz and /readyz report. The loop answers
// Alive's pings and sets Ready; the HTTP server reads them. The zero value
// is ready to use; a nil *Health is never pinged.
type Health struct {
	once    sync.Once
	pings   chan chan struct{}
	mu      sync.Mutex
	parts   map[string]string // why each part is not ready; "" when it is
	started chan struct{}
}

func (h *Health) init() {
	h.once.Do(func() {
		h.pings = make(chan chan struct{})
		h.started = make(chan struct{})
	})
}

// ErrLoopStuck is Alive's answer when the loop did not answer in time.
var ErrLoopStuck = errors.New("the main loop did not answer")

// Alive asks the loop to answer, and waits for it until ctx is done.
func (h *Health) Alive(ctx context.Context) error {
	h.init()
	c := make(chan struct{})
	select {
	case h.pings <- c:
	case <-ctx.Done():
		return ErrLoopStuck
	}
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return ErrLoopStuck
	}
}

// Pings is what the loop selects on: it closes each channel it receives.
func (h *Health) Pings() <-chan chan struct{} {
	if h == nil {
		return nil
	}
	h.init()
	return h.pings
}

// Ready returns "" when every part is ready, else why the first part (in
// name order) that is not ready is not; "starting" before any part said.
func (h *Health) Ready() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.parts) == 0 {
		return "starting"
	}
	for _, name := range slices.Sorted(maps.Keys(h.parts)) {
		if r := h.parts[name]; r != "" {
			return r
		}
	}
	return ""
}

// SetReady records the readiness of the whole daemon: reason is "" when
// ready.
func (h *Health) SetReady(reason string) { h.SetPart("", reason) }

// SetPart records the readiness of one part (a registrar, the checks):
// reason is "" when it is ready.
func (h *Health) SetPart(name, reason string) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.parts == nil {
		h.parts = map[string]string{}
	}
	h.parts[name] = reason
}

// DropPart forgets a part that is gone.
func (h *Health) DropPart(name string) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.parts, name)
}

// SetStarted says the daemon has done its first work: the writer's first
// plan converged, the reporter's first round of checks ran. Later calls do
// nothing.
func (h *Health) SetStarted() {
	if h == nil {
		return
	}
	h.init()
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.started:
	default:
		close(h.started)
	}
}

// Started is closed once SetStarted was called (systemd's READY=1).
func (h *Health) Started() <-chan struct{} {
	h.init()
	return h.started
}
