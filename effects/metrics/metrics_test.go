package metrics

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// health is a daemon's side of the endpoints: a loop that answers pings
// while it turns, and a readiness reason.
type health struct {
	pings  chan chan struct{}
	mu     sync.Mutex
	reason string
}

func newHealth() *health { return &health{pings: make(chan chan struct{}), reason: "starting"} }

func (h *health) Alive(ctx context.Context) error {
	c := make(chan struct{})
	select {
	case h.pings <- c:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *health) Ready() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reason
}

func (h *health) SetReady(reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reason = reason
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// serve listens on a free loopback port and returns the base URL.
func serve(t *testing.T, reg *prometheus.Registry, h Health) string {
	t.Helper()
	srv, err := Listen("127.0.0.1:0", reg, h, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return "http://" + srv.Addr().String()
}

// exposes fails the test for each line of want that /metrics lacks.
func exposes(t *testing.T, base string, want ...string) string {
	t.Helper()
	code, body := get(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %s", w)
		}
	}
	return body
}

// The writer's metrics, read back through /metrics as Prometheus reads
// them.
func TestWriterMetrics(t *testing.T) {
	m := NewWriter()
	base := serve(t, m.Registry(), newHealth())

	m.Cluster("web", true, 3)
	m.Cluster("cache", false, 2)
	m.Cluster("gone", true, 1)
	m.ClusterGone("gone")
	m.Action("set_server_state", true)
	m.Action("set_server_state", true)
	m.Action("add_server", false)
	m.Reload("ok")
	m.Converged(30 * time.Millisecond)
	m.HAProxyUp(true)
	m.ZooKeeper(true, false)
	m.ZooKeeper(false, true)
	m.ConfigLoadErrors(2)

	body := exposes(t, base,
		`lighthouse_writer_cluster_known{cluster="web"} 1`,
		`lighthouse_writer_cluster_known{cluster="cache"} 0`,
		`lighthouse_writer_cluster_nodes{cluster="web"} 3`,
		`lighthouse_writer_cluster_nodes{cluster="cache"} 2`,
		`lighthouse_writer_actions_total{kind="set_server_state",result="ok"} 2`,
		`lighthouse_writer_actions_total{kind="add_server",result="failed"} 1`,
		`lighthouse_writer_reloads_total{result="ok"} 1`,
		`lighthouse_writer_reloads_total{result="rejected"} 0`,
		`lighthouse_writer_reloads_total{result="failed"} 0`,
		`lighthouse_writer_convergence_seconds_bucket{le="0.05"} 1`,
		`lighthouse_writer_convergence_seconds_count 1`,
		`lighthouse_writer_haproxy_up 1`,
		`lighthouse_zookeeper_connected{program="writer"} 0`,
		`lighthouse_zookeeper_session_expirations_total{program="writer"} 1`,
		`lighthouse_config_load_errors{program="writer"} 2`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	)
	if strings.Contains(body, `cluster="gone"`) {
		t.Error("a cluster no longer configured is still exported")
	}
}

func TestReporterMetrics(t *testing.T) {
	m := NewReporter()
	m.Check("web", 8080, "http", true, 3*time.Millisecond)
	m.Check("web", 8080, "tcp", false, time.Second)
	m.Check("web", 8081, "http", true, time.Millisecond)
	m.CheckGone("web", 8081, "http")
	m.Registered("web", 8080, false) // made sure absent at start: no change
	m.Registered("web", 8080, true)
	m.Registered("web", 8080, true) // registered again (new session): no change
	m.Registered("web", 8080, false)
	m.Restored("web")

	body := exposes(t, serve(t, m.Registry(), newHealth()),
		`lighthouse_reporter_check_up{check="http",port="8080",service="web"} 1`,
		`lighthouse_reporter_check_up{check="tcp",port="8080",service="web"} 0`,
		`lighthouse_reporter_check_duration_seconds_count{check="http"} 2`,
		`lighthouse_reporter_check_duration_seconds_bucket{check="tcp",le="0.5"} 0`,
		`lighthouse_reporter_registered{port="8080",service="web"} 0`,
		`lighthouse_reporter_registration_changes_total{change="registered",service="web"} 1`,
		`lighthouse_reporter_registration_changes_total{change="deregistered",service="web"} 1`,
		`lighthouse_reporter_registration_restores_total{service="web"} 1`,
		`lighthouse_zookeeper_connected{program="reporter"} 0`,
	)
	if strings.Contains(body, `port="8081"`) {
		t.Error("a check no longer run is still exported")
	}
}

// /healthz asks the loop; /readyz says why not ready, as JSON.
func TestHealthEndpoints(t *testing.T) {
	h := newHealth()
	base := serve(t, NewWriter().Registry(), h)

	// A loop that answers.
	ctx, cancel := context.WithCancel(context.Background())
	loop := make(chan struct{})
	go func() {
		defer close(loop)
		for {
			select {
			case c := <-h.pings:
				close(c)
			case <-ctx.Done():
				return
			}
		}
	}()
	if code, body := get(t, base+"/healthz"); code != 200 || !strings.Contains(body, `"alive":true`) {
		t.Errorf("/healthz with a turning loop: %d %s", code, body)
	}
	cancel()
	<-loop

	var answer struct {
		Ready  bool   `json:"ready"`
		Reason string `json:"reason"`
	}
	code, body := get(t, base+"/readyz")
	if err := json.Unmarshal([]byte(body), &answer); err != nil || code != 503 || answer.Ready || answer.Reason != "starting" {
		t.Errorf("/readyz before anything: %d %s", code, body)
	}
	h.SetReady("the membership of cluster web is not known")
	code, body = get(t, base+"/readyz")
	if err := json.Unmarshal([]byte(body), &answer); err != nil || code != 503 || answer.Reason != "the membership of cluster web is not known" {
		t.Errorf("/readyz not ready: %d %s", code, body)
	}
	h.SetReady("")
	if code, body = get(t, base+"/readyz"); code != 200 || !strings.Contains(body, `"ready":true`) {
		t.Errorf("/readyz ready: %d %s", code, body)
	}

	// A port in use is an error at once.
	if _, err := Listen(strings.TrimPrefix(base, "http://"), NewWriter().Registry(), h, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("listening on a port in use did not fail")
	}
}
