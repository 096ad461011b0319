package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lighthouse/internal/testenv"
	"lighthouse/model"
)

// staticConfig is a config directory that never changes.
type staticConfig []model.File

func (c staticConfig) Read() ([]model.File, error) { return c, nil }
func (c staticConfig) Changes() <-chan struct{}    { return nil }

// quietRegistry is a ZooKeeper session that accepts everything and that
// nobody else writes to.
type quietRegistry struct {
	deregistered atomic.Int64
	mu           sync.Mutex
	znodes       map[string][]byte
}

func (q *quietRegistry) Register(_ context.Context, p string, data []byte) (int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.znodes == nil {
		q.znodes = map[string][]byte{}
	}
	q.znodes[p] = data
	return 1, nil
}
func (q *quietRegistry) Deregister(_ context.Context, p string) error {
	q.deregistered.Add(1)
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.znodes, p)
	return nil
}
func (q *quietRegistry) Inspect(_ context.Context, p string) (bool, int64, []byte, <-chan struct{}, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	data, ok := q.znodes[p]
	if !ok {
		return false, 0, nil, nil, nil
	}
	return true, 1, data, nil, nil
}
func (q *quietRegistry) Session() int64                  { return 1 }
func (q *quietRegistry) SessionChanges() <-chan struct{} { return nil }
func (q *quietRegistry) Close() error                    { return nil }

// scriptedProber answers the rounds of a script, the last answer for ever
// after. "" passes.
type scriptedProber struct {
	script []string
	calls  atomic.Int64
}

func (s *scriptedProber) Probe(ctx context.Context, host string, port int, c model.Check) error {
	n := int(s.calls.Add(1)) - 1
	detail := s.script[min(n, len(s.script)-1)]
	if detail == "" {
		return nil
	}
	return errors.New(detail)
}

// runReporter runs a reporter on one service file until stop is called,
// logging at debug level into the returned buffer.
func runReporter(t *testing.T, service string, prober Prober, reg Registry) (logs *testenv.Buffer, stop func()) {
	t.Helper()
	logs = &testenv.Buffer{}
	r := &Reporter{
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Config: staticConfig{
			{Path: "discovery/zookeeper.yaml", Data: []byte("hosts: [\"127.0.0.1:2181\"]\npath: /s\n")},
			{Path: "services/web.yaml", Data: []byte(service)},
		},
		Prober:      prober,
		NewRegistry: func(model.Discovery) (Registry, error) { return reg, nil },
		Host:        Identity{Name: "app01.example.com", IP: "10.0.0.11"},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return logs, stop
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A failing check says why at info level when its port goes down (or is
// down from the start) and again when the reason changes, not every round;
// a new local port in the error is no new reason.
func TestReporterLogsFailureReasons(t *testing.T) {
	p := &scriptedProber{script: []string{
		"connect: connection refused",
		"connect: connection refused",
		"read tcp 127.0.0.1:41234->127.0.0.1:80: read: connection reset by peer",
		"read tcp 127.0.0.1:41999->127.0.0.1:80: read: connection reset by peer",
		"", // up
		"status 503 Service Unavailable",
		"status 503 Service Unavailable",
		"connect: connection refused",
	}}
	logs, stop := runReporter(t, "port: 80\ndiscovery: zookeeper\nchecks:\n  interval: 100ms\n  tcp: {rise: 1, fall: 1}\n", p, &quietRegistry{})
	waitUntil(t, "the script played", func() bool { return p.calls.Load() > int64(len(p.script))+1 })
	stop()
	var got []string
	for _, l := range logs.Lines("check fail") {
		if strings.Contains(l, "level=DEBUG") {
			continue
		}
		got = append(got, l[strings.Index(l, "level="):])
	}
	want := []string{
		`level=INFO msg="check failed" service=web port=80 check=tcp err="connect: connection refused"`,
		`level=INFO msg="check failed" service=web port=80 check=tcp err="read tcp 127.0.0.1:41234->127.0.0.1:80: read: connection reset by peer"`,
		`level=WARN msg="check failing" service=web port=80 check=tcp failures=1 err="status 503 Service Unavailable"`,
		`level=INFO msg="check failed" service=web port=80 check=tcp err="connect: connection refused"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("failure lines above debug:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A reporter starting with many ports down logs no deregistration of
// znodes it never registered (it still makes sure they are absent).
func TestReporterStartLogsNoDeregistrations(t *testing.T) {
	var ports []string
	for i := range 200 {
		ports = append(ports, fmt.Sprint(10000+i))
	}
	reg := &quietRegistry{}
	logs, stop := runReporter(t, "ports: ["+strings.Join(ports, ", ")+"]\ndiscovery: zookeeper\nchecks:\n  interval: 100ms\n  tcp: {rise: 1, fall: 1}\n",
		&scriptedProber{script: []string{"connect: connection refused"}}, reg)
	waitUntil(t, "200 ports made sure absent", func() bool { return reg.deregistered.Load() >= 200 })
	stop()
	if n := len(logs.Lines(`msg=deregistered`)); n != 0 {
		t.Errorf("%d 'deregistered' lines for znodes never registered", n)
	}
	if n := len(logs.Lines("level=DEBUG", `msg="made sure absent"`)); n != 200 {
		t.Errorf("%d 'made sure absent' debug lines, want 200", n)
	}
}

// What a service answers is echoed in a check's failure detail: a log line
// holds only the start of it.
func TestReporterClipsFailureDetails(t *testing.T) {
	huge := `response to "PING\r\n" is "` + strings.Repeat("x", 64<<10) + `", expected "+PONG"`
	p := &scriptedProber{script: []string{huge}}
	logs, stop := runReporter(t, "port: 80\ndiscovery: zookeeper\nchecks:\n  interval: 100ms\n  tcp: {rise: 1, fall: 1}\n", p, &quietRegistry{})
	waitUntil(t, "two rounds", func() bool { return p.calls.Load() > 2 })
	stop()
	lines := logs.Lines()
	if len(logs.Lines("check failed", "bytes in all")) == 0 {
		t.Errorf("no clipped failure line in:\n%s", strings.Join(lines, "\n")[:2000])
	}
	for _, l := range lines {
		if len(l) > 2*maxDetail {
			t.Errorf("a log line of %d bytes: %.200s…", len(l), l)
		}
	}
}
