package plan

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"lighthouse/model"
	"lighthouse/model/configtext"
)

var (
	v26 = model.Version{Major: 2, Minor: 6, Patch: 12}
	v15 = model.Version{Major: 1, Minor: 5, Patch: 12}
	t0  = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
)

func testConfig(clusters ...model.Cluster) *model.Config {
	cfg := &model.Config{
		Balancer: &model.Balancer{ConfigFile: "/tmp/lh/haproxy.cfg", SocketFile: "/tmp/lh/haproxy.sock", PidFile: "/tmp/lh/haproxy.pid",
			BindAddress: "127.0.0.1", RestartInterval: 2 * time.Second,
			Defaults: []model.Line{{Text: "timeout connect 1s"}, {Text: "timeout client 5s"}, {Text: "timeout server 5s"}}},
		Discovery: map[string]model.Discovery{"zookeeper": {Name: "zookeeper", Hosts: []string{"127.0.0.1:2181"}, Path: "/lh"}},
		Clusters:  map[string]model.Cluster{},
	}
	for _, c := range clusters {
		cfg.Clusters[c.Name] = c
	}
	return cfg
}

func tcpCluster(name string, port int) model.Cluster {
	return model.Cluster{Name: name, Discovery: "zookeeper", HAProxy: model.ClusterHAProxy{Port: port, Backend: []model.Line{{Text: "mode tcp"}}, Frontend: []model.Line{{Text: "mode tcp"}}}}
}

func httpCluster(name string, port int) model.Cluster {
	return model.Cluster{Name: name, Discovery: "zookeeper", HAProxy: model.ClusterHAProxy{Port: port, Backend: []model.Line{{Text: "mode http"}}, Frontend: []model.Line{{Text: "mode http"}}}}
}

func node(host, ip string, port int) model.Node {
	return model.Node{Host: host, IP: ip, Port: port, Metadata: map[string]any{}}
}

func known(nodes ...model.Node) model.Members { return model.Members{Known: true, Nodes: nodes} }

// converged returns the observed state of an HAProxy that runs exactly what
// the plan for in renders.
func converged(t *testing.T, in Input) Observed {
	t.Helper()
	in.Observed = Observed{}
	p := Make(in)
	if !p.HasReload() {
		t.Fatalf("first plan does not start HAProxy:\n%s", p)
	}
	return Apply(Observed{}, p)
}

func kinds(p Plan) string {
	var k []string
	for _, s := range p.Steps {
		k = append(k, s.Action.Kind()+" "+s.Action.Target())
	}
	return strings.Join(k, "\n")
}

func TestStartWhenNotRunning(t *testing.T) {
	p := Make(Input{Config: testConfig(tcpCluster("cache", 9999)), Membership: model.Membership{"cache": known(node("c1.example", "10.0.0.1", 6379))}, Version: v26, Now: t0})
	want := "validate /tmp/lh/haproxy.cfg\nwrite_file /tmp/lh/haproxy.cfg\nstart haproxy"
	if got := kinds(p); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if len(p.Diagnostics) != 0 {
		t.Errorf("diagnostics: %s", p.Diagnostics)
	}
}

// A start waits for the first membership reads, until StartNotBefore:
// nothing is written meanwhile, and the wait shows in the plan.
func TestStartWaitsForFirstReads(t *testing.T) {
	in := Input{Config: testConfig(tcpCluster("cache", 9999), tcpCluster("web", 8000)),
		Membership: model.Membership{"cache": known(node("c1.example", "10.0.0.1", 6379))}, Version: v26, Now: t0,
		ReadsPending: 1, StartNotBefore: t0.Add(10 * time.Second)}
	p := Make(in)
	if got := kinds(p); got != "start haproxy" {
		t.Fatalf("waiting: got\n%s\nwant only the start", got)
	}
	if s := p.Steps[0]; s.Action.(Start).NotBefore != in.StartNotBefore || !strings.Contains(s.Reason, "1 to go") {
		t.Errorf("waiting start: %+v", s)
	}
	if got := p.String(); !strings.Contains(got, "haproxy not before 12:00:10.000") {
		t.Errorf("the plan does not show the wait:\n%s", got)
	}

	// The reads are done, or the wait is over: started at once.
	for _, change := range []func(*Input){
		func(in *Input) { in.ReadsPending = 0 },
		func(in *Input) { in.Now = in.StartNotBefore },
	} {
		next := in
		change(&next)
		if got := kinds(Make(next)); got != "validate /tmp/lh/haproxy.cfg\nwrite_file /tmp/lh/haproxy.cfg\nstart haproxy" {
			t.Errorf("after the wait: got\n%s", got)
		}
	}
	// A running HAProxy never waits.
	running := in
	running.Observed = converged(t, Input{Config: in.Config, Membership: in.Membership, Version: v26, Now: t0})
	for _, s := range Make(running).Steps {
		if _, ok := s.Action.(Start); ok {
			t.Errorf("a running HAProxy is started: %s", s.Reason)
		}
	}
}

func TestMembershipChangesWithoutReload(t *testing.T) {
	cfg := testConfig(tcpCluster("cache", 9999))
	in := Input{Config: cfg, Membership: model.Membership{"cache": known(node("c1.example", "10.0.0.1", 6379), node("c2.example", "10.0.0.2", 6379))}, Version: v26, Now: t0}
	in.Observed = converged(t, in)
	in.History.LastReload = t0

	// c2 leaves, c3 joins, c1 moves.
	in.Membership = model.Membership{"cache": known(node("c1.example", "10.0.0.9", 6379), node("c3.example", "10.0.0.3", 6379))}
	p := Make(in)
	want := "set_server_addr cache/c1.example:6379\n" +
		"add_server cache/c3.example:6379\nset_server_state cache/c3.example:6379\n" +
		"set_server_state cache/c2.example:6379\nremove_server cache/c2.example:6379\n" +
		"validate /tmp/lh/haproxy.cfg\nwrite_file /tmp/lh/haproxy.cfg"
	if got := kinds(p); got != want {
		t.Errorf("got\n%s\nwant\n%s\nplan:\n%s", got, want, p)
	}
	if p.HasReload() {
		t.Error("a membership-only change planned a reload")
	}
	after := Apply(in.Observed, p)
	in.Observed = after
	if again := Make(in); !again.Empty() {
		t.Errorf("plan after apply is not empty:\n%s", again)
	}
}

// Server cookies take effect only with a cookie directive in the backend;
// without one a new server of an http backend is added at runtime, without
// its (ignored) cookie.
func TestCookieWithoutDirectiveAddsAtRuntime(t *testing.T) {
	in := Input{Config: testConfig(httpCluster("web", 8000)), Membership: model.Membership{"web": known(node("a.example", "10.0.0.1", 80))}, Version: v26, Now: t0}
	in.Observed = converged(t, in)
	in.Membership = model.Membership{"web": known(node("a.example", "10.0.0.1", 80), node("b.example", "10.0.0.2", 80))}
	p := Make(in)
	if p.HasReload() {
		t.Fatalf("reload planned:\n%s", p)
	}
	if a, ok := p.Steps[0].Action.(AddServer); !ok || a.Options != "" {
		t.Errorf("first step %#v, want add_server without options", p.Steps[0].Action)
	}
	if !strings.Contains(Apply(in.Observed, p).File.String(), "server b.example:80 10.0.0.2:80 cookie b.example:80") {
		t.Errorf("the file lacks the cookie of b")
	}
}

func TestCookieServersNeedReload(t *testing.T) {
	web := httpCluster("web", 8000)
	web.HAProxy.Backend = append(web.HAProxy.Backend, model.Line{Text: "cookie SRV insert indirect nocache"})
	in := Input{Config: testConfig(web), Membership: model.Membership{"web": known(node("a.example", "10.0.0.1", 80))}, Version: v26, Now: t0.Add(time.Second), History: History{LastReload: t0}}
	in.Observed = converged(t, in)
	in.Membership = model.Membership{"web": known(node("a.example", "10.0.0.1", 80), node("b.example", "10.0.0.2", 80))}
	p := Make(in)
	if !p.HasReload() {
		t.Fatalf("no reload:\n%s", p)
	}
	last := p.Steps[len(p.Steps)-1]
	if r, ok := last.Action.(Reload); !ok || !r.NotBefore.Equal(t0.Add(2*time.Second)) {
		t.Errorf("last step %#v, want a reload not before %s", last, t0.Add(2*time.Second))
	}
	if !strings.Contains(last.Reason, `"cookie"`) {
		t.Errorf("reason %q does not name the cookie", last.Reason)
	}
	// Removing needs no reload even with cookies.
	in.Observed = Apply(in.Observed, p)
	in.Membership = model.Membership{"web": known(node("b.example", "10.0.0.2", 80))}
	if p := Make(in); p.HasReload() {
		t.Errorf("removal planned a reload:\n%s", p)
	}
}

func TestUnknownMembershipKeepsServers(t *testing.T) {
	in := Input{Config: testConfig(tcpCluster("cache", 9999)), Membership: model.Membership{"cache": known(node("c1.example", "10.0.0.1", 6379))}, Version: v26, Now: t0}
	in.Observed = converged(t, in)
	for _, m := range []model.Membership{{}, {"cache": {Known: false}}, {"cache": {Known: false, Nodes: []model.Node{node("c2.example", "10.0.0.2", 6379)}}}} {
		in.Membership = m
		p := Make(in)
		for _, s := range p.Steps {
			switch a := s.Action.(type) {
			case RemoveServer:
				t.Errorf("unknown membership %v removed %s", m, a.Target())
			case SetServerState:
				if a.State != model.ServerReady {
					t.Errorf("unknown membership %v set %s to %s", m, a.Target(), a.State)
				}
			}
		}
		if !strings.Contains(Apply(in.Observed, p).File.String(), "c1.example:6379") {
			t.Errorf("the file lost c1 while membership is unknown:\n%s", p)
		}
	}
}

func TestStructuralChangeReloads(t *testing.T) {
	in := Input{Config: testConfig(tcpCluster("cache", 9999)), Version: v26, Now: t0}
	in.Observed = converged(t, in)
	in.Config = testConfig(tcpCluster("cache", 9999), tcpCluster("db", 5432))
	in.History.LastReload = t0.Add(-10 * time.Second)
	p := Make(in)
	want := "validate /tmp/lh/haproxy.cfg\nwrite_file /tmp/lh/haproxy.cfg\nsave_state /tmp/lh/haproxy.cfg.state\nreload haproxy"
	if got := kinds(p); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if r := p.Steps[3].Action.(Reload); !r.NotBefore.IsZero() {
		t.Errorf("reload delayed to %s although the last one was long ago", r.NotBefore)
	}
	if !strings.Contains(p.Steps[3].Reason, "frontend fe:db") {
		t.Errorf("reason %q does not say what changed", p.Steps[3].Reason)
	}
}

func TestRejectedIsNotRetried(t *testing.T) {
	in := Input{Config: testConfig(tcpCluster("cache", 9999)), Version: v26, Now: t0}
	in.Observed = converged(t, in)
	in.Config = testConfig(tcpCluster("cache", 9999), tcpCluster("db", 5432))
	first := Make(in)
	in.History.Rejected = first.Steps[0].Action.(Validate).Fingerprint
	p := Make(in)
	if !p.Empty() {
		t.Errorf("rejected candidate planned again:\n%s", p)
	}
	if !strings.Contains(p.Diagnostics.String(), "haproxy -c rejected candidate") {
		t.Errorf("diagnostics: %s", p.Diagnostics)
	}
}

func TestOldHAProxyFallsBack(t *testing.T) {
	in := Input{Config: testConfig(tcpCluster("cache", 9999)), Membership: model.Membership{"cache": known(node("c1.example", "10.0.0.1", 6379))}, Version: v15, Now: t0}
	in.Observed = converged(t, in)
	in.Membership = model.Membership{"cache": known()}
	p := Make(in)
	if got, want := kinds(p), "set_server_state cache/c1.example:6379\nvalidate /tmp/lh/haproxy.cfg\nwrite_file /tmp/lh/haproxy.cfg"; got != want {
		t.Errorf("removal on 1.5: got\n%s\nwant\n%s", got, want)
	}
	in.Observed = Apply(in.Observed, p)
	if again := Make(in); !again.Empty() {
		t.Errorf("not converged:\n%s", again)
	}
	in.Membership = model.Membership{"cache": known(node("c2.example", "10.0.0.2", 6379))}
	if p := Make(in); !p.HasReload() {
		t.Errorf("a new server on 1.5 did not reload:\n%s", p)
	}
}

func TestPlanString(t *testing.T) {
	p := Plan{Steps: []Step{
		{Validate{Path: "/etc/haproxy.cfg", Fingerprint: "0123456789abcdef"}, "check first"},
		{WriteFile{Path: "/etc/haproxy.cfg", Data: configtext.Of("x"), Fingerprint: "0123456789abcdef"}, "changed"},
		{AddServer{Backend: "web", Server: "a:80", Addr: "::1", Port: 80, Options: "check"}, "joined"},
		{SetServerState{Backend: "web", Server: "a:80", State: model.ServerReady}, ""},
		{SetServerAddr{Backend: "web", Server: "b:80", Addr: "10.0.0.1", Port: 81}, "moved"},
		{SetWeight{Backend: "web", Server: "b:80", Weight: 0}, "drain"},
		{RemoveServer{Backend: "web", Server: "c:80"}, "left"},
		{SaveState{Path: "/etc/haproxy.cfg.state", NotBefore: t0}, "keep states"},
		{Reload{NotBefore: t0}, "structural"},
		{Start{}, "not running"},
	}}
	want := `? validate         /etc/haproxy.cfg (candidate 0123456789ab)  # check first
> write_file       /etc/haproxy.cfg (0123456789ab, 1 bytes)  # changed
+ add_server       web/a:80 [::1]:80 check  # joined
~ set_server_state web/a:80 ready
~ set_server_addr  web/b:80 10.0.0.1:81  # moved
~ set_weight       web/b:80 weight 0  # drain
- remove_server    web/c:80  # left
> save_state       /etc/haproxy.cfg.state not before 12:00:00.000  # keep states
! reload           haproxy not before 12:00:00.000  # structural
^ start            haproxy  # not running
`
	if diff := cmp.Diff(want, p.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if (Plan{}).String() != "No changes.\n" {
		t.Errorf("empty plan: %q", Plan{}.String())
	}
}

// The state machine: random membership and config changes. After applying
// a plan, planning again gives nothing; membership-only changes never reload;
// unknown membership never removes a server. The Planner, fed the outcome
// of each plan, plans what Make plans from the same History.
func TestPlanStateMachine(t *testing.T) {
	hosts := []string{"a.example", "b.example", "c.example", "d.example"}
	rapid.Check(t, func(t *rapid.T) {
		version := rapid.SampledFrom([]model.Version{v26, v15}).Draw(t, "version")
		web := httpCluster("web", 8000)
		web.HAProxy.Backend = append(web.HAProxy.Backend, model.Line{Text: "cookie SRV insert indirect nocache"})
		clusters := map[string]model.Cluster{"cache": tcpCluster("cache", 9999), "web": web, "api": httpCluster("api", 8080)}
		cfgOf := func() *model.Config {
			var cs []model.Cluster
			for _, c := range clusters {
				cs = append(cs, c)
			}
			return testConfig(cs...)
		}
		in := Input{Config: cfgOf(), Membership: model.Membership{}, Version: version, Now: t0}
		var pl Planner
		planBoth := func(in Input) Plan {
			p := Make(in)
			if a, b := describePlan(p), describePlan(pl.Plan(in)); a != b {
				t.Fatalf("the Planner's plan differs from Make's:\n%s", cmp.Diff(a, b))
			}
			return p
		}
		// carried records a plan carried out in full at now, in the
		// History and with the Planner.
		carried := func(p Plan, now time.Time) {
			var done []Action
			for _, s := range p.Steps {
				done = append(done, s.Action)
				switch s.Action.(type) {
				case Start, Reload:
					in.History.LastReload = now
				}
			}
			pl.Record(Outcome{At: now, Done: done})
		}
		p := planBoth(in)
		in.Observed = Apply(in.Observed, p)
		carried(p, t0)
		now := t0
		for step := 0; step < 20; step++ {
			now = now.Add(time.Duration(rapid.IntRange(0, 3000).Draw(t, "ms")) * time.Millisecond)
			in.Now = now
			structural := false
			prevMembership := in.Membership
			switch rapid.IntRange(0, 4).Draw(t, "change") {
			case 0, 1, 2: // membership of one cluster
				name := rapid.SampledFrom([]string{"cache", "web", "api"}).Draw(t, "cluster")
				mem := model.Members{Known: rapid.Float64Range(0, 1).Draw(t, "known") < 0.8}
				for i, h := range hosts {
					if rapid.Bool().Draw(t, fmt.Sprintf("has%d", i)) {
						ip := fmt.Sprintf("10.0.0.%d", i+1+10*rapid.IntRange(0, 1).Draw(t, "moved"))
						n := node(h, ip, 7000+i)
						if w := rapid.SampledFrom([]int64{0, 1, 3}).Draw(t, "weight"); w > 0 {
							n.Metadata[model.MetaWeight] = w
						}
						n.Metadata[model.MetaState] = rapid.SampledFrom([]string{model.StateReady, model.StateDrain}).Draw(t, "state")
						mem.Nodes = append(mem.Nodes, n)
					}
				}
				next := model.Membership{}
				for k, v := range in.Membership {
					next[k] = v
				}
				next[name] = mem
				in.Membership = next
			case 3: // a cluster port changes
				c := clusters["cache"]
				c.HAProxy.Port = rapid.SampledFrom([]int{9998, 9999}).Draw(t, "port")
				structural = c.HAProxy.Port != clusters["cache"].HAProxy.Port
				clusters["cache"] = c
				in.Config = cfgOf()
			case 4: // nothing changes
			}
			before := in.Observed
			p := planBoth(in)
			if !structural && in.Version == v26 && p.HasReload() && !addsCookieServer(p, before, in) {
				t.Fatalf("membership-only change planned a reload:\n%s", p)
			}
			for _, s := range p.Steps {
				a, ok := s.Action.(RemoveServer)
				var st SetServerState
				if !ok {
					if st, ok = s.Action.(SetServerState); !ok || st.State != model.ServerMaint {
						continue
					}
					a = RemoveServer{Backend: st.Backend, Server: st.Server}
				}
				if mem := in.Membership[a.Backend]; !mem.Known {
					t.Fatalf("unknown membership removed %s (previous %v):\n%s", a.Target(), prevMembership[a.Backend], p)
				}
			}
			in.Observed = Apply(before, p)
			carried(p, now)
			if again := planBoth(in); !again.Empty() {
				t.Fatalf("plan after apply is not empty:\n%s\nafter:\n%s", again, p)
			}
		}
	})
}

// describePlan is everything a plan says, as text.
func describePlan(p Plan) string {
	return fmt.Sprintf("%s%s", p, p.Diagnostics)
}

// addsCookieServer reports whether the plan's reload is for a new server of
// an http backend, which HAProxy cannot add at runtime (cookie).
func addsCookieServer(p Plan, before Observed, in Input) bool {
	for _, s := range p.Steps {
		if r, ok := s.Action.(Reload); ok {
			_ = r
			return strings.Contains(s.Reason, `"cookie"`)
		}
	}
	return false
}

// A writer that starts while ZooKeeper is down and HAProxy's socket does not
// answer keeps the servers of the config file.
func TestUnknownEverythingKeepsFileServers(t *testing.T) {
	in := Input{Config: testConfig(tcpCluster("cache", 9999)), Membership: model.Membership{"cache": known(node("c1.example", "10.0.0.1", 6379))}, Version: v26, Now: t0}
	running := converged(t, in)
	in.Observed = Observed{Running: true, File: running.File} // Loaded and Servers unknown
	in.Membership = model.Membership{}
	p := Make(in)
	if !p.HasReload() {
		t.Fatalf("an unknown loaded config should be reloaded once:\n%s", p)
	}
	if !strings.Contains(Apply(in.Observed, p).File.String(), "server c1.example:6379 10.0.0.1:6379") {
		t.Errorf("the reload drops the file's servers:\n%s", p)
	}
}

func TestSummary(t *testing.T) {
	var p Plan
	for i := 0; i < 25; i++ {
		p.Steps = append(p.Steps, Step{Action: SetServerState{Backend: "web", Server: fmt.Sprintf("app%02d:80", i), State: model.ServerMaint}, Reason: "node left cluster web"})
		if i%5 == 0 {
			p.Steps = append(p.Steps, Step{Action: RemoveServer{Backend: "web", Server: fmt.Sprintf("app%02d:80", i)}})
		}
	}
	got := p.Summary(20)
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 22 {
		t.Fatalf("Summary(20) has %d lines, want 22:\n%s", len(lines), got)
	}
	if want := "30 steps: 25 set_server_state, 5 remove_server"; lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}
	if full := strings.Split(p.String(), "\n"); strings.Join(lines[1:21], "\n") != strings.Join(full[:20], "\n") {
		t.Errorf("the first 20 steps differ from String's:\n%s", got)
	}
	if want := "... and 10 more steps"; lines[21] != want {
		t.Errorf("last line %q, want %q", lines[21], want)
	}
	short := Plan{Steps: p.Steps[:3]}
	if short.Summary(20) != short.String() {
		t.Errorf("a short plan's Summary is not its String")
	}
}

// A rejected candidate stops neither joins nor leaves in the backends it
// leaves as they are: they go through the runtime API, and planning again
// after they are applied is empty.
func TestRejectedCandidateKeepsMembershipMoving(t *testing.T) {
	in := Input{Config: testConfig(tcpCluster("cache", 9999)), Membership: model.Membership{"cache": known(node("c1.example", "10.0.0.1", 6379))}, Version: v26, Now: t0}
	in.Observed = converged(t, in)
	in.Config = testConfig(tcpCluster("cache", 9999), tcpCluster("db", 5432))
	in.Membership = model.Membership{"cache": known(node("c2.example", "10.0.0.2", 6379))}
	in.History.Rejected = candidate(t, Make(in))
	p := Make(in)
	want := "add_server cache/c2.example:6379\nset_server_state cache/c2.example:6379\nset_server_state cache/c1.example:6379\nremove_server cache/c1.example:6379"
	if got := kinds(p); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	in.Observed = Apply(in.Observed, p)
	if again := Make(in); !again.Empty() {
		t.Errorf("after the runtime steps, planned again:\n%s", again)
	}
}

// While the config file cannot be written, no candidate is installed, and
// membership goes on through the runtime API as for a rejected one.
func TestUnwritableKeepsMembershipMoving(t *testing.T) {
	in := Input{Config: testConfig(tcpCluster("cache", 9999)), Membership: model.Membership{"cache": known(node("c1.example", "10.0.0.1", 6379))}, Version: v26, Now: t0}
	in.Observed = converged(t, in)
	in.Config = testConfig(tcpCluster("cache", 9999), tcpCluster("db", 5432))
	in.Membership = model.Membership{"cache": known(node("c1.example", "10.0.0.1", 6379), node("c2.example", "10.0.0.2", 6379))}
	in.History.Unwritable = true
	p := Make(in)
	if got, want := kinds(p), "add_server cache/c2.example:6379\nset_server_state cache/c2.example:6379"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(p.Diagnostics.String(), "cannot be written") {
		t.Errorf("diagnostics: %s", p.Diagnostics)
	}
	in.History.Unwritable = false
	if got := kinds(Make(in)); !strings.Contains(got, "reload haproxy") {
		t.Errorf("once the file can be written, the structural change reloads:\n%s", got)
	}
}

// candidate is the fingerprint of the config p validates.
func candidate(t *testing.T, p Plan) string {
	t.Helper()
	for _, s := range p.Steps {
		if v, ok := s.Action.(Validate); ok {
			return v.Fingerprint
		}
	}
	t.Fatalf("the plan validates no candidate:\n%s", p)
	return ""
}
