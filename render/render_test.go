package render_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lighthouse/model"
	"lighthouse/render"
)

var v26 = model.Version{Major: 2, Minor: 6, Patch: 12}

const (
	balancerYAML = "config_file: /tmp/h.cfg\nsocket_file: /tmp/h.sock\npid_file: /tmp/h.pid\n"
	zkYAML       = "hosts: [\"127.0.0.1:2181\"]\npath: /lighthouse/services\n"
)

// load builds a config from files (path → YAML); the base balancer and
// discovery files are added unless given. It fails on load errors.
func load(t testing.TB, files map[string]string) *model.Config {
	t.Helper()
	all := map[string]string{"balancers/haproxy.yaml": balancerYAML, "discovery/zookeeper.yaml": zkYAML}
	for k, v := range files {
		all[k] = v
	}
	var fs []model.File
	for p, d := range all {
		fs = append(fs, model.File{Path: p, Data: []byte(d)})
	}
	snap := model.Load(nil, fs)
	if snap.Diagnostics.HasErrors() {
		t.Fatalf("load: %s", snap.Diagnostics)
	}
	return &snap.Config
}

func node(host, ip string, port int) model.Node {
	return model.Node{Host: host, IP: ip, Port: port, Metadata: map[string]any{}}
}

func TestNoBalancer(t *testing.T) {
	res := render.Render(render.Input{Config: &model.Config{}, Version: v26})
	if res.Config.Len() != 0 || !res.Diagnostics.HasErrors() {
		t.Errorf("no balancer: config %q, diagnostics %v", res.Config, res.Diagnostics)
	}
	res = render.Render(render.Input{Version: v26})
	if res.Config.Len() != 0 || !res.Diagnostics.HasErrors() {
		t.Errorf("nil config: config %q, diagnostics %v", res.Config, res.Diagnostics)
	}
}

// Nodes that never went through model.DecodeNode are still checked: every
// one that fails Validate is dropped with an error naming it, and none of
// its text reaches the config.
func TestRenderDefendsAgainstBadNodes(t *testing.T) {
	cfg := load(t, map[string]string{"clusters/web.yaml": "discovery: zookeeper\nhaproxy:\n  port: 8000\n"})
	bad := []model.Node{
		node("evil\nbackend pwned", "10.0.0.1", 80),
		node("evil", "10.0.0.1\nlisten x", 80),
		node("sp ace", "10.0.0.1", 80),
		node("zoned", "fe80::1%eth0", 80),
		node("noport", "10.0.0.1", 0),
		node("bigport", "10.0.0.1", 65536),
		node("", "10.0.0.1", 80),
		node("-dash", "10.0.0.1", 80),
		{Host: "peer", IP: "10.0.0.1", Port: 80, Peer: &model.Peer{Name: "p\nq", IP: "10.0.0.1", Port: 1024}},
		{Host: "peer", IP: "10.0.0.1", Port: 81, Peer: &model.Peer{Name: "p", IP: "nope", Port: 1024}},
		{Host: "peer", IP: "10.0.0.1", Port: 82, Peer: &model.Peer{Name: "p", IP: "10.0.0.1", Port: 0}},
	}
	good := node("good", "10.0.0.2", 80)
	res := render.Render(render.Input{Config: cfg, Nodes: map[string][]model.Node{"web": append(bad, good)}, NodesSource: "zk", Version: v26})
	if got := len(res.Diagnostics.Errors()); got != len(bad) {
		t.Errorf("got %d errors, want %d:\n%s", got, len(bad), res.Diagnostics)
	}
	for _, d := range res.Diagnostics {
		if d.File != "zk" || d.Key != "web" || !strings.Contains(d.Message, "dropped") || strings.ContainsAny(d.String(), "\n\r") {
			t.Errorf("diagnostic %q: want zk: web: ...dropped..., on one line", d.String())
		}
	}
	want := []render.ServerLine{{Name: "good:80", Addr: "10.0.0.2", Port: 80}}
	if diff := cmp.Diff(want, res.Backends["web"]); diff != "" {
		t.Errorf("servers (-want +got):\n%s", diff)
	}
	for _, s := range []string{"evil", "pwned", "listen x", "zoned", "sp ace", "noport", "peer"} {
		if strings.Contains(res.Config.String(), s) {
			t.Errorf("config contains %q:\n%s", s, res.Config)
		}
	}
}

// Backends lists exactly the server lines of the config, and Skeleton is
// the config without them.
func TestBackendsAndSkeleton(t *testing.T) {
	cfg := load(t, map[string]string{
		"clusters/web.yaml":  "discovery: zookeeper\nhaproxy:\n  port: 8000\n  backend: [\"mode http\"]\n  server_options: \"check inter 2000\"\n",
		"clusters/tcp.yaml":  "discovery: zookeeper\nhaproxy:\n  port: 8001\n",
		"clusters/none.yaml": "discovery: zookeeper\nhaproxy:\n  port: 8002\n",
	})
	nodes := map[string][]model.Node{
		"web": {node("b", "10.0.0.2", 80), node("a", "2001:db8::1", 80)},
		"tcp": {node("t", "10.0.0.3", 70)},
	}
	res := render.Render(render.Input{Config: cfg, Nodes: nodes, Version: v26})
	want := map[string][]render.ServerLine{
		"web":  {{Name: "a:80", Addr: "2001:db8::1", Port: 80, Options: "cookie a:80 check inter 2000"}, {Name: "b:80", Addr: "10.0.0.2", Port: 80, Options: "cookie b:80 check inter 2000"}},
		"tcp":  {{Name: "t:70", Addr: "10.0.0.3", Port: 70}},
		"none": {},
	}
	if diff := cmp.Diff(want, res.Backends); diff != "" {
		t.Errorf("Backends (-want +got):\n%s", diff)
	}
	for _, line := range []string{
		"\tserver a:80 [2001:db8::1]:80 cookie a:80 check inter 2000\n",
		"\tserver b:80 10.0.0.2:80 cookie b:80 check inter 2000\n",
		"\tserver t:70 10.0.0.3:70\n",
	} {
		if !strings.Contains(res.Config.String(), line) {
			t.Errorf("config lacks %q", line)
		}
		if bytes.Contains(res.Skeleton, []byte(line)) {
			t.Errorf("skeleton has server line %q", line)
		}
	}
	for _, line := range []string{"\t# servers: server NAME ADDR cookie NAME check inter 2000\n", "\t# servers: server NAME ADDR\n"} {
		if !bytes.Contains(res.Skeleton, []byte(line)) {
			t.Errorf("skeleton lacks %q:\n%s", line, res.Skeleton)
		}
	}

	// Membership alone never changes the skeleton...
	other := render.Render(render.Input{Config: cfg, Nodes: map[string][]model.Node{"none": {node("n", "10.0.0.9", 1)}}, Version: v26})
	if !bytes.Equal(res.Skeleton, other.Skeleton) {
		t.Errorf("membership changed the skeleton:\n%s", cmp.Diff(string(res.Skeleton), string(other.Skeleton)))
	}
	// ...while server_options does, even though no directive line changed.
	cfg2 := load(t, map[string]string{
		"clusters/web.yaml":  "discovery: zookeeper\nhaproxy:\n  port: 8000\n  backend: [\"mode http\"]\n  server_options: \"check inter 3000\"\n",
		"clusters/tcp.yaml":  "discovery: zookeeper\nhaproxy:\n  port: 8001\n",
		"clusters/none.yaml": "discovery: zookeeper\nhaproxy:\n  port: 8002\n",
	})
	if bytes.Equal(res.Skeleton, render.Render(render.Input{Config: cfg2, Nodes: nodes, Version: v26}).Skeleton) {
		t.Error("server_options change left the skeleton unchanged")
	}
}

// A peer change is structural: it shows in the skeleton.
func TestSkeletonHasPeers(t *testing.T) {
	cfg := load(t, map[string]string{"clusters/web.yaml": "discovery: zookeeper\nhaproxy:\n  port: 8000\n"})
	v15 := model.Version{Major: 1, Minor: 5, Patch: 12}
	a := node("a", "10.0.0.1", 80)
	b := a
	b.Peer = &model.Peer{Name: "a", IP: "10.0.0.1", Port: 1024}
	ra := render.Render(render.Input{Config: cfg, Nodes: map[string][]model.Node{"web": {a}}, Version: v15})
	rb := render.Render(render.Input{Config: cfg, Nodes: map[string][]model.Node{"web": {b}}, Version: v15})
	if bytes.Equal(ra.Skeleton, rb.Skeleton) || !bytes.Contains(rb.Skeleton, []byte("\tpeer a 10.0.0.1:1024\n")) {
		t.Errorf("peers not in skeleton:\n%s", rb.Skeleton)
	}
}

// Directive diagnostics are located at the line and name keyword and
// section.
func TestInvalidDirectiveDiagnostic(t *testing.T) {
	cfg := load(t, map[string]string{"clusters/web.yaml": "discovery: zookeeper\nhaproxy:\n  port: 8000\n  backend:\n    - \"balance roundrobin\"\n    - \"bogus directive\"\n"})
	res := render.Render(render.Input{Config: cfg, Version: v26})
	want := "clusters/web.yaml:6: haproxy.backend[1]: \"bogus\" is not a valid directive in a backend section of HAProxy 2.6\n"
	if got := res.Diagnostics.String(); got != want {
		t.Errorf("diagnostics:\n got %q\nwant %q", got, want)
	}
	if strings.Contains(res.Config.String(), "bogus") {
		t.Errorf("invalid line rendered:\n%s", res.Config)
	}
}

// Directives are checked against the table of the version's release: a
// keyword of a later release is an error that says from which release on it
// is accepted, and a version without a table of its own gets a warning naming
// the table used instead.
func TestDirectivesFollowTheVersion(t *testing.T) {
	cfg := load(t, map[string]string{"clusters/web.yaml": "discovery: zookeeper\nhaproxy:\n  port: 8000\n  backend:\n    - \"http-after-response set-header X-A b\"\n"})
	for _, tt := range []struct {
		v    model.Version
		want string
	}{
		{model.Version{Major: 2, Minor: 6, Patch: 12}, ""},
		{model.Version{Major: 2, Minor: 0, Patch: 1}, "clusters/web.yaml:5: haproxy.backend[0]: \"http-after-response\" is not a valid directive in a backend section of HAProxy 2.0 (it is accepted from 2.2 on)\n"},
		{model.Version{Major: 3, Minor: 6}, "balancers/haproxy.yaml: warning: HAProxy 3.6 is newer than the newest keyword table (3.4): directives are checked against 3.4's\n"},
	} {
		res := render.Render(render.Input{Config: cfg, Version: tt.v})
		if got := res.Diagnostics.String(); got != tt.want {
			t.Errorf("%s: diagnostics:\n got %q\nwant %q", tt.v, got, tt.want)
		}
	}
}

// Identical input, identical bytes, whatever the order of nodes.
func TestDeterministic(t *testing.T) {
	cfg := load(t, map[string]string{"clusters/web.yaml": "discovery: zookeeper\nhaproxy:\n  port: 8000\n"})
	var nodes []model.Node
	for i := 0; i < 20; i++ {
		nodes = append(nodes, node(fmt.Sprintf("h%d", i%7), fmt.Sprintf("10.0.0.%d", i), 80+i%3))
	}
	first := render.Render(render.Input{Config: cfg, Nodes: map[string][]model.Node{"web": nodes}, Version: v26})
	for i := 0; i < 10; i++ {
		rev := append([]model.Node(nil), nodes...)
		for j := range rev {
			k := (j*7 + i) % len(rev)
			rev[j], rev[k] = rev[k], rev[j]
		}
		again := render.Render(render.Input{Config: cfg, Nodes: map[string][]model.Node{"web": rev}, Version: v26})
		if first.Config.String() != again.Config.String() || first.Diagnostics.String() != again.Diagnostics.String() {
			t.Fatalf("order changed the output:\n%s", cmp.Diff(first.Config.String(), again.Config.String()))
		}
	}
}

// Render does not modify its input (the caller's node slices stay in their
// order).
func TestInputUntouched(t *testing.T) {
	cfg := load(t, map[string]string{"clusters/web.yaml": "discovery: zookeeper\nhaproxy:\n  port: 8000\n"})
	nodes := []model.Node{node("b", "10.0.0.2", 80), node("a", "10.0.0.1", 80), node("a", "10.0.0.1", 80)}
	keep := append([]model.Node(nil), nodes...)
	render.Render(render.Input{Config: cfg, Nodes: map[string][]model.Node{"web": nodes}, Version: v26})
	if diff := cmp.Diff(keep, nodes); diff != "" {
		t.Errorf("input nodes modified (-before +after):\n%s", diff)
	}
}

func TestLocateAlertNamesNoLine(t *testing.T) {
	if _, ok := render.LocateAlert(nil, "global\n", "config : Fatal errors found in configuration."); ok {
		t.Error("an alert that names no line is located")
	}
}
