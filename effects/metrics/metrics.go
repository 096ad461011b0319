// Package metrics serves a daemon's Prometheus metrics and its health
// endpoints: /metrics, /healthz and /readyz on one HTTP listener.
//
// Writer and Reporter hold the metrics of each daemon and satisfy
// runtime.WriterMetrics and runtime.ReporterMetrics. Labels are bounded:
// the writer's are cluster names, action kinds and results; the
// reporter's are its own services, ports and check types.
package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// common is what both daemons export.
type common struct {
	reg         *prometheus.Registry
	connected   prometheus.Gauge
	expirations prometheus.Counter
	loadErrors  prometheus.Gauge
}

func newCommon(program string) common {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	labels := prometheus.Labels{"program": program}
	c := common{
		reg: reg,
		connected: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lighthouse_zookeeper_connected",
			Help: "1 while the daemon has a ZooKeeper session, else 0.", ConstLabels: labels}),
		expirations: prometheus.NewCounter(prometheus.CounterOpts{Name: "lighthouse_zookeeper_session_expirations_total",
			Help: "ZooKeeper sessions that expired.", ConstLabels: labels}),
		loadErrors: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lighthouse_config_load_errors",
			Help: "Config files whose last load failed (their last good version is in force).", ConstLabels: labels}),
	}
	reg.MustRegister(c.connected, c.expirations, c.loadErrors)
	return c
}

// Registry is where the metrics are registered, for Serve.
func (c *common) Registry() *prometheus.Registry { return c.reg }

// ZooKeeper records the session state: connected or not, and one
// expiration when expired.
func (c *common) ZooKeeper(connected, expired bool) {
	if connected {
		c.connected.Set(1)
	} else {
		c.connected.Set(0)
	}
	if expired {
		c.expirations.Inc()
	}
}

// ConfigLoadErrors records how many config files failed their last load.
func (c *common) ConfigLoadErrors(files int) { c.loadErrors.Set(float64(files)) }

// Writer holds the writer's metrics.
type Writer struct {
	common
	known       *prometheus.GaugeVec
	nodes       *prometheus.GaugeVec
	actions     *prometheus.CounterVec
	reloads     *prometheus.CounterVec
	convergence prometheus.Histogram
	haproxyUp   prometheus.Gauge
}

// NewWriter makes the writer's metrics, each registered.
func NewWriter() *Writer {
	m := &Writer{
		common: newCommon("writer"),
		known: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lighthouse_writer_cluster_known",
			Help: "1 while a cluster's membership is known, 0 while it is not (ZooKeeper unreachable, znode missing): its last known nodes stay."}, []string{"cluster"}),
		nodes: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lighthouse_writer_cluster_nodes",
			Help: "Nodes of a cluster, as last known."}, []string{"cluster"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lighthouse_writer_actions_total",
			Help: "Plan steps carried out, by kind and result."}, []string{"kind", "result"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lighthouse_writer_reloads_total",
			Help: "HAProxy reloads: ok, rejected (haproxy -c refused the candidate; the last good config runs on) or failed."}, []string{"result"}),
		convergence: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lighthouse_writer_convergence_seconds",
			Help:    "Time from a membership change reaching the writer to HAProxy having changed for it.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}),
		haproxyUp: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lighthouse_writer_haproxy_up",
			Help: "1 while HAProxy runs, else 0."}),
	}
	for _, r := range []string{"ok", "rejected", "failed"} {
		m.reloads.WithLabelValues(r) // present at 0, so that increase() sees the first one
	}
	m.reg.MustRegister(m.known, m.nodes, m.actions, m.reloads, m.convergence, m.haproxyUp)
	return m
}

// Cluster records a cluster's membership.
func (m *Writer) Cluster(name string, known bool, nodes int) {
	m.known.WithLabelValues(name).Set(b2f(known))
	m.nodes.WithLabelValues(name).Set(float64(nodes))
}

// ClusterGone drops a cluster no longer configured.
func (m *Writer) ClusterGone(name string) {
	m.known.DeleteLabelValues(name)
	m.nodes.DeleteLabelValues(name)
}

// Action counts a plan step.
func (m *Writer) Action(kind string, ok bool) { m.actions.WithLabelValues(kind, result(ok)).Inc() }

// Reload counts a reload by its result.
func (m *Writer) Reload(result string) { m.reloads.WithLabelValues(result).Inc() }

// Converged observes a convergence time.
func (m *Writer) Converged(d time.Duration) { m.convergence.Observe(d.Seconds()) }

// HAProxyUp records whether HAProxy runs.
func (m *Writer) HAProxyUp(up bool) { m.haproxyUp.Set(b2f(up)) }

// Reporter holds the reporter's metrics.
type Reporter struct {
	common
	checkUp    *prometheus.GaugeVec
	checkTook  *prometheus.HistogramVec
	registered *prometheus.GaugeVec
	changes    *prometheus.CounterVec
	restores   *prometheus.CounterVec

	mu    sync.Mutex
	state map[string]bool // service/port → registered, as last recorded
}

// NewReporter makes the reporter's metrics, each registered.
func NewReporter() *Reporter {
	m := &Reporter{
		common: newCommon("reporter"),
		checkUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lighthouse_reporter_check_up",
			Help: "1 when a check's last run passed, else 0."}, []string{"service", "port", "check"}),
		checkTook: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lighthouse_reporter_check_duration_seconds",
			Help:    "How long checks take, by check type.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"check"}),
		registered: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lighthouse_reporter_registered",
			Help: "1 while a service port is registered in ZooKeeper, else 0."}, []string{"service", "port"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lighthouse_reporter_registration_changes_total",
			Help: "Registrations made and removed, by service."}, []string{"service", "change"}),
		restores: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lighthouse_reporter_registration_restores_total",
			Help: "Registrations put back after another ZooKeeper client deleted or changed them."}, []string{"service"}),
		state: map[string]bool{},
	}
	m.reg.MustRegister(m.checkUp, m.checkTook, m.registered, m.changes, m.restores)
	return m
}

// Check records a check's result.
func (m *Reporter) Check(service string, port int, check string, up bool, took time.Duration) {
	m.checkUp.WithLabelValues(service, strconv.Itoa(port), check).Set(b2f(up))
	m.checkTook.WithLabelValues(check).Observe(took.Seconds())
}

// CheckGone drops a check no longer run.
func (m *Reporter) CheckGone(service string, port int, check string) {
	m.checkUp.DeleteLabelValues(service, strconv.Itoa(port), check)
}

// Registered records a service port's registration; a change of it is
// counted.
func (m *Reporter) Registered(service string, port int, registered bool) {
	p := strconv.Itoa(port)
	m.registered.WithLabelValues(service, p).Set(b2f(registered))
	m.mu.Lock()
	defer m.mu.Unlock()
	key := service + "/" + p
	if was, ok := m.state[key]; ok && was == registered || !ok && !registered {
		m.state[key] = registered
		return
	}
	m.state[key] = registered
	change := "deregistered"
	if registered {
		change = "registered"
	}
	m.changes.WithLabelValues(service, change).Inc()
}

// Restored counts a registration put back.
func (m *Reporter) Restored(service string) { m.restores.WithLabelValues(service).Inc() }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func result(ok bool) string {
	if ok {
		return "ok"
	}
	return "failed"
}

// Health is what the endpoints ask the daemon: runtime.Health satisfies
// it.
type Health interface {
	// Alive returns nil when the main loop answered before ctx is done.
	Alive(ctx context.Context) error
	// Ready returns "" when ready, else why not.
	Ready() string
}

// AliveTimeout bounds how long /healthz waits for the main loop.
const AliveTimeout = 5 * time.Second

// Handler serves /metrics from reg, and /healthz and /readyz from h.
func Handler(reg *prometheus.Registry, h Health) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), AliveTimeout)
		defer cancel()
		if err := h.Alive(ctx); err != nil {
			answer(w, http.StatusServiceUnavailable, map[string]any{"alive": false,
				"reason": fmt.Sprintf("the main loop did not answer within %v", AliveTimeout)})
			return
		}
		answer(w, http.StatusOK, map[string]any{"alive": true})
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if reason := h.Ready(); reason != "" {
			answer(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "reason": reason})
			return
		}
		answer(w, http.StatusOK, map[string]any{"ready": true})
	})
	return mux
}

func answer(w http.ResponseWriter, code int, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(body)
}

// Server is the HTTP listener of a daemon.
type Server struct {
	srv  *http.Server
	addr net.Addr
	done chan struct{}
}

// Listen binds addr (HOST:PORT) and serves the handler in the background.
// An address that cannot be bound is an error at once.
func Listen(addr string, reg *prometheus.Registry, h Health, log *slog.Logger) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	s := &Server{srv: &http.Server{Handler: Handler(reg, h), ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}, addr: l.Addr(), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	log.Info("serving metrics and health", "address", l.Addr().String(), "paths", "/metrics /healthz /readyz")
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.addr }

// Close stops the server, letting requests in flight finish for a second.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}
