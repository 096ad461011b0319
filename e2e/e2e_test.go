package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lighthouse/examples/demo/cluster"
	"lighthouse/internal/testenv"
)

// checkInterval replaces the examples' check intervals (2 and 3 s): short,
// but long enough for a check's timeout (the interval) on a busy CI machine.
const checkInterval = time.Second

var bins struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bins.dir != "" {
		os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

// binaries builds the lighthouse binary and the example apps once per test
// binary.
func binaries(t *testing.T) string {
	t.Helper()
	bins.once.Do(func() {
		if bins.dir, bins.err = os.MkdirTemp("", "lhe2e-bin"); bins.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		start := time.Now()
		bins.err = cluster.Build(ctx, repoRoot(t), bins.dir)
		t.Logf("built %s in %.1fs", strings.Join(cluster.Programs, " "), time.Since(start).Seconds())
	})
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	return bins.dir
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// progress writes the orchestrator's progress lines into the test log,
// until the test is over.
type progress struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.done {
		p.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}

// start runs an example on free ports in a short temporary directory, with
// short check intervals, its writers running release r of HAProxy, and stops
// it when the test ends: then no process of the run may be left.
func start(t *testing.T, example string, r testenv.HAProxyRelease, more ...func(*cluster.Options)) *cluster.Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not starting the example")
	}
	testenv.Require(t, "zookeeper", "redis-server")
	root := repoRoot(t)
	bin := binaries(t)
	ports, err := cluster.ExamplePorts(root, cluster.Examples[example])
	if err != nil {
		t.Fatal(err)
	}
	mapped, err := cluster.FreePorts(ports)
	if err != nil {
		t.Fatal(err)
	}
	run := testenv.ShortTempDir(t)
	prog := &progress{t: t}
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := cluster.Options{
		Example:      example,
		Root:         root,
		Layout:       cluster.Layout{RunDir: run, Ports: mapped, CheckInterval: checkInterval},
		BinDir:       bin,
		Progress:     prog,
		ReadyTimeout: 30 * time.Second,
		HAProxy:      r.Binary,
	}
	for _, f := range more {
		f(&opts)
	}
	c, err := cluster.Start(ctx, opts)
	if err != nil {
		t.Fatalf("starting example %s: %v", example, err)
	}
	t.Logf("example %s ready in %.1fs", example, time.Since(began).Seconds())
	exes := haproxyExes(run)
	if len(exes) == 0 {
		t.Errorf("no HAProxy process of the example found")
	}
	for _, exe := range exes {
		if exe != r.Binary {
			t.Errorf("the example's HAProxy processes run %v, want %s", exes, r.Binary)
			break
		}
	}
	t.Cleanup(func() {
		stopped := time.Now()
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("stopping: %v", err)
		}
		t.Logf("stopped in %.1fs", time.Since(stopped).Seconds())
		prog.mu.Lock()
		prog.done = true
		prog.mu.Unlock()
		if left := leftovers(run, bin); len(left) > 0 {
			t.Errorf("processes left after Stop:\n%s", strings.Join(left, "\n"))
		}
		if t.Failed() {
			dumpLogs(t, run)
		}
	})
	return c
}

// leftovers lists the running processes whose command line names the run
// or binary directory: every program of a run does (config dirs, HAProxy's
// files, Redis's dir, the binaries).
func leftovers(dirs ...string) []string {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var out []string
	self := strconv.Itoa(os.Getpid())
	for _, p := range procs {
		if strings.Split(p, "/")[2] == self {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			continue
		}
		cmd := strings.ReplaceAll(string(b), "\x00", " ")
		for _, d := range dirs {
			if strings.Contains(cmd, d+"/") {
				out = append(out, strings.Split(p, "/")[2]+": "+cmd)
				break
			}
		}
	}
	return out
}

// haproxyExes returns the executables of the HAProxy processes (masters and
// workers) whose command line names the run directory.
func haproxyExes(run string) []string {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var out []string
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), run+"/") {
			continue
		}
		exe, err := os.Readlink(filepath.Join(filepath.Dir(p), "exe"))
		if err == nil && strings.HasPrefix(filepath.Base(exe), "haproxy") {
			out = append(out, exe)
		}
	}
	return out
}

// dumpLogs prints the end of every log of a run.
func dumpLogs(t *testing.T, run string) {
	logs, _ := filepath.Glob(filepath.Join(run, "*", "*.log"))
	for _, l := range logs {
		t.Logf("--- %s:\n%s", l, cluster.LogTail(l, 4000))
	}
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// answer is one HTTP exchange.
type answer struct {
	status   int
	servedBy string
	body     string
}

func do(t *testing.T, method, u string, form url.Values) (answer, error) {
	t.Helper()
	var res *http.Response
	var err error
	if method == http.MethodPost {
		res, err = client.PostForm(u, form)
	} else {
		res, err = client.Get(u)
	}
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, servedBy: res.Header.Get("X-Served-By"), body: string(b)}, err
}

func mustDo(t *testing.T, method, u string, form url.Values) answer {
	t.Helper()
	a, err := do(t, method, u, form)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return a
}

// redisGet reads a key straight from a Redis ("" when it does not exist).
func redisGet(t *testing.T, addr, key string) string {
	t.Helper()
	ans, err := rawRedis(addr, fmt.Sprintf("*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(key), key))
	if err != nil {
		t.Fatalf("redis %s: GET %s: %v", addr, key, err)
	}
	if ans == "$-1" {
		return ""
	}
	lines := strings.Split(ans, "\r\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "$") {
		t.Fatalf("redis %s: GET %s answered %q", addr, key, ans)
	}
	return lines[1]
}

func rawRedis(addr, req string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		return "", err
	}
	buf := make([]byte, 512)
	n, err := conn.Read(buf)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(buf[:n]), "\r\n"), nil
}

var countRE = regexp.MustCompile(`^<h1>Current count: (\d+)</h1>\n$`)

// TestWebCache is the original's "web app + cache" walkthrough: three web
// app nodes on two hosts behind the client's port 8000, a counter in Redis
// reached through each host's own HAProxy, and a node that stops; on every
// supported release of HAProxy.
func TestWebCache(t *testing.T) { testenv.ForEachHAProxy(t, testWebCache) }

func testWebCache(t *testing.T, r testenv.HAProxyRelease) {
	c := start(t, "web-cache", r)
	front := c.URL("client", 8000, "/")
	nodes := c.MemberNames("webapp")
	if len(nodes) != 3 {
		t.Fatalf("webapp cluster: %v, want 3 nodes", nodes)
	}

	t.Run("stats page lists three webapp servers on two hosts", func(t *testing.T) {
		a := mustDo(t, http.MethodGet, c.StatsURL("client")+";csv", nil)
		var servers []string
		hosts := map[string]bool{}
		for _, line := range strings.Split(a.body, "\n") {
			f := strings.Split(line, ",")
			if len(f) > 18 && f[0] == "webapp" && f[1] != "FRONTEND" && f[1] != "BACKEND" {
				servers = append(servers, f[1])
				hosts[strings.Split(f[1], ":")[0]] = true
			}
		}
		if len(servers) != 3 || len(hosts) != 2 {
			t.Errorf("stats page: webapp servers %v on %d hosts, want 3 on 2\n%s", servers, len(hosts), a.body)
		}
	})

	const n = 30
	t.Run("the counter increases with every request, spread over the three nodes", func(t *testing.T) {
		served := map[string]int{}
		for i := 1; i <= n; i++ {
			a := mustDo(t, http.MethodGet, front, nil)
			m := countRE.FindStringSubmatch(a.body)
			if a.status != http.StatusOK || m == nil {
				t.Fatalf("request %d: %d %q", i, a.status, a.body)
			}
			// Every host's HAProxy sends the cache cluster's traffic to the
			// same Redis (balance source; on loopback every host connects
			// from 127.0.0.1), so the count goes 1, 2, 3, ... whichever
			// node answers, as in the original's documentation.
			if got, _ := strconv.Atoi(m[1]); got != i {
				t.Errorf("request %d (served by %s): count %d, want %d", i, a.servedBy, got, i)
			}
			served[a.servedBy]++
		}
		for _, node := range nodes {
			if served[node] < n/3-2 {
				t.Errorf("node %s served %d of %d requests; all: %v", node, served[node], n, served)
			}
		}
		if len(served) != 3 {
			t.Errorf("served by %v, want exactly the nodes %v", served, nodes)
		}
		// The Redis nodes hold the count: together they counted n.
		total := 0
		for _, h := range []string{"cache01", "cache02"} {
			if v := redisGet(t, c.Addr(h, 6379), "webapp:counter"); v != "" {
				k, _ := strconv.Atoi(v)
				total += k
			}
		}
		if total != n {
			t.Errorf("webapp:counter over both caches = %d, want %d", total, n)
		}
	})

	t.Run("a stopped node gets no traffic once its fall has passed", func(t *testing.T) {
		svc := c.Config("app01").Services["webapp"]
		fall := svc.Checks[0].Fall
		// fall failed checks, one more interval for the phase of the
		// checks, then a second for ZooKeeper and the client's writer.
		settle := time.Duration(fall+1)*svc.Interval + time.Second
		gone := fmt.Sprintf("app01:%d", c.Layout.Port(8000))
		stopped := time.Now()
		if err := c.StopApp("app01", 8000); err != nil {
			t.Fatal(err)
		}
		deadline := stopped.Add(settle)
		end := deadline.Add(3 * time.Second)
		var early, late int
		var failed []string
		for time.Now().Before(end) {
			began := time.Now()
			a, err := do(t, http.MethodGet, front, nil)
			ok := err == nil && a.status == http.StatusOK && a.servedBy != gone
			switch {
			case began.Before(deadline):
				if !ok {
					early++
				}
			case ok:
				late++
			default:
				failed = append(failed, fmt.Sprintf("%.2fs after the stop: %d %s %v", began.Sub(stopped).Seconds(), a.status, a.servedBy, err))
			}
		}
		t.Logf("stopped %s; fall %d × interval %v; %d request(s) failed in the first %v, %d succeeded after it", gone, fall, svc.Interval, early, settle, late)
		if len(failed) > 0 {
			t.Errorf("%d request(s) failed more than %v after the stop:\n%s", len(failed), settle, strings.Join(failed, "\n"))
		}
		if late < 10 {
			t.Errorf("only %d requests after the fall window", late)
		}
		if got := c.MemberNames("webapp"); len(got) != 2 || strings.Contains(strings.Join(got, " "), gone) {
			t.Errorf("webapp cluster after the stop: %v, want the two app02 nodes", got)
		}
	})
}

// TestAPI is the original's "API meta cluster with proxies" walkthrough:
// widgets and sprockets behind one port with path ACLs, and the partner
// reached only through the proxy host; on every supported release of
// HAProxy.
func TestAPI(t *testing.T) { testenv.ForEachHAProxy(t, testAPI) }

func testAPI(t *testing.T, r testenv.HAProxyRelease) {
	c := start(t, "api", r)
	widgets := c.URL("client", 8080, "/api/widgets")
	sprockets := c.URL("client", 8080, "/api/sprockets")

	jsonOf := func(t *testing.T, a answer) map[string]any {
		t.Helper()
		var v map[string]any
		if err := json.Unmarshal([]byte(a.body), &v); err != nil {
			t.Fatalf("answer %d from %s is no JSON object: %q", a.status, a.servedBy, a.body)
		}
		return v
	}
	want := func(t *testing.T, what string, a answer, status int, wantBody string) {
		t.Helper()
		var w map[string]any
		if err := json.Unmarshal([]byte(wantBody), &w); err != nil {
			t.Fatal(err)
		}
		if got := jsonOf(t, a); a.status != status || fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s: %d %s (from %s), want %d %s", what, a.status, strings.TrimSpace(a.body), a.servedBy, status, wantBody)
		}
	}

	t.Run("widgets", func(t *testing.T) {
		want(t, "GET (empty)", mustDo(t, http.MethodGet, widgets, nil), 200, `{"widgets": {}}`)
		want(t, "POST widget=foo", mustDo(t, http.MethodPost, widgets, url.Values{"widget": {"foo"}}), 200, `{"success": true}`)
		served := map[string]bool{}
		for range 4 {
			a := mustDo(t, http.MethodGet, widgets, nil)
			want(t, "GET", a, 200, `{"widgets": {"foo": 1}}`)
			served[a.servedBy] = true
		}
		mustDo(t, http.MethodPost, widgets, url.Values{"widget": {"foo"}})
		mustDo(t, http.MethodPost, widgets, url.Values{"widget": {"bar"}})
		want(t, "GET after more POSTs", mustDo(t, http.MethodGet, widgets, nil), 200, `{"widgets": {"foo": 2, "bar": 1}}`)
		if a := mustDo(t, http.MethodPost, widgets, nil); a.status != http.StatusBadRequest {
			t.Errorf("POST without widget: %d %s, want 400", a.status, a.body)
		}
		if len(served) != 2 {
			t.Errorf("GETs served by %v, want both widgets nodes %v", served, c.MemberNames("api_widgets"))
		}
	})

	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	tokens := map[string]bool{}
	token := func(t *testing.T, v map[string]any) {
		t.Helper()
		tok, _ := v["token"].(string)
		if !uuid.MatchString(tok) {
			t.Errorf("token %q is no UUID", tok)
		}
		if tokens[tok] {
			t.Errorf("token %q handed out twice", tok)
		}
		tokens[tok] = true
		delete(v, "token")
	}
	sprocketRequests := 0
	t.Run("sprockets", func(t *testing.T) {
		served := map[string]bool{}
		check := func(what, method string, form url.Values, status int, rest string) {
			t.Helper()
			a := mustDo(t, method, sprockets, form)
			sprocketRequests++
			served[a.servedBy] = true
			if a.status != status {
				t.Errorf("%s: %d %s, want %d", what, a.status, a.body, status)
				return
			}
			v := jsonOf(t, a)
			token(t, v)
			var w map[string]any
			json.Unmarshal([]byte(rest), &w)
			if fmt.Sprint(v) != fmt.Sprint(w) {
				t.Errorf("%s: %s, want a token and %s", what, strings.TrimSpace(a.body), rest)
			}
		}
		check("GET (empty)", http.MethodGet, nil, 200, `{"sprockets": []}`)
		check("POST sprocket=bar", http.MethodPost, url.Values{"sprocket": {"bar"}}, 200, `{"success": true}`)
		check("GET", http.MethodGet, nil, 200, `{"sprockets": ["bar"]}`)
		check("POST sprocket=bar again", http.MethodPost, url.Values{"sprocket": {"bar"}}, 200, `{"success": true}`)
		check("POST sprocket=baz", http.MethodPost, url.Values{"sprocket": {"baz"}}, 200, `{"success": true}`)
		check("GET (a set)", http.MethodGet, nil, 200, `{"sprockets": ["bar", "baz"]}`)
		check("GET", http.MethodGet, nil, 200, `{"sprockets": ["bar", "baz"]}`)
		if a := mustDo(t, http.MethodPost, sprockets, nil); a.status != http.StatusBadRequest {
			t.Errorf("POST without sprocket: %d %s, want 400", a.status, a.body)
		}
		if len(served) != 2 {
			t.Errorf("served by %v, want both sprockets nodes %v", served, c.MemberNames("api_sprockets"))
		}
	})

	t.Run("the partner sees only the proxy host", func(t *testing.T) {
		b, err := os.ReadFile(c.PartnerRecord())
		if err != nil {
			t.Fatal(err)
		}
		proxy := c.HostIP("proxy01")
		from := map[string]int{}
		tokenCalls := 0
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 {
				t.Fatalf("record line %q", line)
			}
			from[f[0]]++
			if f[2] == "/token" {
				tokenCalls++
			}
		}
		if len(from) != 1 || from[proxy] == 0 {
			t.Errorf("the partner was called from %v, want only the proxy host %s", from, proxy)
		}
		// One token per sprockets answer (and the start-up probe's).
		if tokenCalls < sprocketRequests || tokenCalls < len(tokens) {
			t.Errorf("the partner handed out %d tokens, the sprockets answers carried %d", tokenCalls, len(tokens))
		}
	})
}
