package model

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Issue #13, hostile and careless input: each case is refused with a
// located error, and never crashes or runs away.

// loadOne loads the discovery config and one more file, and returns the
// diagnostics.
func loadOne(path, data string) *Snapshot {
	return Load(nil, files("discovery/zookeeper.yaml", zkYAML, "balancers/haproxy.yaml", balancerYAML, path, data))
}

func wantDiags(t *testing.T, s *Snapshot, want string) {
	t.Helper()
	if diff := cmp.Diff(want, s.Diagnostics.String()); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

// A few hundred bytes of nested aliases are refused before they expand.
func TestLoadAliasBomb(t *testing.T) {
	start := time.Now()
	s := loadOne("services/bomb.yaml", aliasBomb(8))
	wantDiags(t, s, "services/bomb.yaml:9: metadata.a4[0]: aliases expand this file beyond 10000 values (10× its 110 own, at least 10000); YAML alias expansion is capped\n")
	if _, ok := s.Config.Services["bomb"]; ok {
		t.Error("the bomb was accepted")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("loading the bomb took %s", d)
	}
	// Aliases within the cap still work.
	s = loadOne("services/ok.yaml", "port: 80\ndiscovery: zookeeper\nchecks: {interval: 1}\nmetadata:\n  a: &a {x: 1, y: [1, 2]}\n  b: *a\n")
	wantDiags(t, s, "services/ok.yaml:3: warning: checks: no checks defined: the service counts as up whenever it is configured\n")
	if got := s.Config.Services["ok"].Metadata["b"]; !cmp.Equal(got, map[string]any{"x": int64(1), "y": []any{int64(1), int64(2)}}) {
		t.Errorf("metadata.b = %#v", got)
	}
}

// An alias inside the value it names is refused, not followed forever.
func TestLoadAliasCycle(t *testing.T) {
	s := loadOne("services/s.yaml", "port: 80\ndiscovery: zookeeper\nchecks: {interval: 1}\nmetadata: &m\n  self: *m\n")
	wantDiags(t, s, "services/s.yaml:5: metadata.self: alias *m refers to a value that contains it\n")
}

func TestLoadCheckIntervalRange(t *testing.T) {
	s := loadOne("services/s.yaml", "port: 80\ndiscovery: zookeeper\nchecks:\n  interval: 1ns\n  tcp: {rise: 1, fall: 1}\n")
	wantDiags(t, s, "services/s.yaml:4: checks.interval: must be at least 100ms, got 1ns\n")
	s = loadOne("services/s.yaml", "port: 80\ndiscovery: zookeeper\nchecks:\n  interval: 0.1\n  tcp: {rise: 1, fall: 1, timeout: 1ms}\n  http: {uri: /, rise: 1, fall: 1, timeout: 1}\n")
	wantDiags(t, s, "services/s.yaml:5: checks.tcp.timeout: must be at least 10ms, got 1ms\n"+
		"services/s.yaml:6: checks.http.timeout: must not be longer than checks.interval (100ms), got 1s\n")
	s = loadOne("services/s.yaml", "port: 80\ndiscovery: zookeeper\nchecks:\n  interval: 100ms\n  tcp: {rise: 1, fall: 1, timeout: 10ms}\n")
	wantDiags(t, s, "")
}

func TestLoadMetadataFinite(t *testing.T) {
	s := loadOne("services/s.yaml", "port: 80\ndiscovery: zookeeper\nchecks: {interval: 1, tcp: {rise: 1, fall: 1}}\nmetadata:\n  weight: .inf\n  low: [1, -.Inf]\n  odd: {x: .nan}\n  ok: 1.5\n")
	wantDiags(t, s, "services/s.yaml:5: metadata.weight: must be a finite number, got \".inf\"\n"+
		"services/s.yaml:6: metadata.low[1]: must be a finite number, got \"-.Inf\"\n"+
		"services/s.yaml:7: metadata.odd.x: must be a finite number, got \".nan\"\n")
	if _, ok := s.Config.Services["s"]; ok {
		t.Error("a service with infinite metadata was accepted")
	}
}

// HAProxy refuses the master socket "<socket_file>.master" beyond 97
// characters.
func TestLoadSocketFileLength(t *testing.T) {
	bal := func(n int) string {
		return "config_file: /tmp/h.cfg\nsocket_file: /" + strings.Repeat("s", n-1) + "\npid_file: /tmp/h.pid\n"
	}
	s := Load(nil, files("balancers/haproxy.yaml", bal(90)))
	wantDiags(t, s, "")
	s = Load(nil, files("balancers/haproxy.yaml", bal(91)))
	wantDiags(t, s, "balancers/haproxy.yaml:2: socket_file: must be at most 90 characters (HAProxy accepts socket paths of at most 97, and the master socket adds \".master\"), this one has 91\n")
}

func TestLoadNamesZnodeSafe(t *testing.T) {
	for _, name := range []string{".", ".."} {
		s := loadOne("services/s.yaml", "name: \""+name+"\"\nport: 80\ndiscovery: zookeeper\nchecks: {interval: 1, tcp: {rise: 1, fall: 1}}\n")
		wantDiags(t, s, "services/s.yaml:1: name: service name \""+name+"\" may hold only letters, digits and _ . : -, may not be . or .., and has at most 200 characters\n")
		s = loadOne("clusters/c.yaml", "name: \""+name+"\"\ndiscovery: zookeeper\nhaproxy: {port: 80}\n")
		wantDiags(t, s, "clusters/c.yaml:1: name: cluster name \""+name+"\" may hold only letters, digits and _ . : -, may not be . or .., and has at most 200 characters\n")
	}
	s := loadOne("services/s.yaml", "name: a..b\nport: 80\ndiscovery: zookeeper\nchecks: {interval: 1, tcp: {rise: 1, fall: 1}}\n")
	wantDiags(t, s, "")
	m, ds := DecodeMembershipFile("m.json", []byte(`{"..": [], "ok": []}`))
	if len(ds) != 1 || !strings.HasPrefix(ds[0].Message, `cluster name ".." may`) || len(m) != 1 {
		t.Errorf("membership: %v %v", m, ds)
	}
}

// A diagnostic repeats at most MaxEcho bytes of a value and says how long
// it was.
func TestDiagnosticsClipValues(t *testing.T) {
	long := strings.Repeat("x", 10<<20)
	s := loadOne("services/s.yaml", "host: \"a b"+long+"\"\nport: 80\ndiscovery: zookeeper\nchecks: {interval: 1, tcp: {rise: 1, fall: 1}}\n? "+long+"\n: 1\n")
	got := s.Diagnostics.String()
	want := "services/s.yaml:1: host: must not contain whitespace, got \"a b" + strings.Repeat("x", MaxEcho-3) + "\"…(10485763 bytes)\n" +
		"services/s.yaml:5: warning: " + strings.Repeat("x", MaxEcho) + "…(10485760 bytes): unknown key, ignored\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	_, err := DecodeNode([]byte(`{"host": "` + strings.Repeat("é", 1000) + `", "ip": "::1", "port": 1}`))
	if err == nil || len(err.Error()) > 200 || !strings.Contains(err.Error(), "(2000 bytes)") {
		t.Errorf("DecodeNode error: %v", err)
	}
}

// Node data over MaxNodeData is refused unread, and a service whose
// metadata would make a larger node is refused by Load.
func TestNodeDataCap(t *testing.T) {
	big := `{"host": "h", "ip": "::1", "port": 1, "metadata": {"x": "` + strings.Repeat("y", MaxNodeData) + `"}}`
	if _, err := DecodeNode([]byte(big)); err == nil || !strings.Contains(err.Error(), "over the limit of 524288") {
		t.Errorf("DecodeNode: %v", err)
	}
	_, ds := DecodeMembershipFile("m.json", []byte(`{"web": [`+big+`]}`))
	if want := "m.json: web[0]: node dropped: node data of 524348 bytes is over the limit of 524288\n"; ds.String() != want {
		t.Errorf("membership: got %q, want %q", ds.String(), want)
	}
	s := loadOne("services/s.yaml", "port: 80\ndiscovery: zookeeper\nchecks: {interval: 1, tcp: {rise: 1, fall: 1}}\nmetadata: {x: "+strings.Repeat("y", MaxNodeData)+"}\n")
	wantDiags(t, s, "services/s.yaml:4: metadata: too large: a node with this metadata takes up to 525009 bytes in ZooKeeper, over the limit of 524288\n")
}

// A new file that claims a serving cluster's port or name is refused; the
// serving cluster keeps serving. On a first load the path order decides.
func TestLoadStableOwnership(t *testing.T) {
	base := []string{
		"balancers/haproxy.yaml", balancerYAML,
		"discovery/zookeeper.yaml", zkYAML,
		"clusters/web.yaml", "discovery: zookeeper\nhaproxy: {port: 8000}\n",
	}
	with := func(kv ...string) []File { return files(append(append([]string(nil), base...), kv...)...) }
	first := Load(nil, with())
	wantDiags(t, first, "")

	for _, tc := range []struct{ name, file, want string }{
		{"same port", "discovery: zookeeper\nhaproxy: {port: 8000}\n",
			"clusters/aaa.yaml:2: haproxy.port: *:8000 is already bound by cluster web (clusters/web.yaml); that file was in force before and keeps it, this one is refused\n"},
		{"same name", "name: web\ndiscovery: zookeeper\nhaproxy: {port: 8001}\n",
			"clusters/aaa.yaml:1: name: cluster \"web\" is already defined by clusters/web.yaml; that file was in force before and keeps it, this one is refused\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Load(first, with("clusters/aaa.yaml", tc.file))
			wantDiags(t, s, tc.want)
			if c := s.Config.Clusters["web"]; c.Pos.File != "clusters/web.yaml" || c.HAProxy.Port != 8000 {
				t.Errorf("web = %+v, want clusters/web.yaml on 8000", c)
			}
			if _, ok := s.Config.Clusters["aaa"]; ok {
				t.Error("aaa was accepted")
			}
			// It stays so on the next load, and when the serving file is
			// edited but still claims the same.
			s = Load(s, with("clusters/aaa.yaml", tc.file))
			wantDiags(t, s, tc.want)
			s = Load(s, files("balancers/haproxy.yaml", balancerYAML, "discovery/zookeeper.yaml", zkYAML,
				"clusters/web.yaml", "discovery: zookeeper\nhaproxy: {port: 8000, backend: [\"mode http\"]}\n",
				"clusters/aaa.yaml", tc.file))
			if c := s.Config.Clusters["web"]; len(c.HAProxy.Backend) != 1 {
				t.Errorf("web = %+v, want its edited version", c)
			}
			if _, ok := s.Config.Clusters["aaa"]; ok {
				t.Error("aaa was accepted")
			}
		})
	}

	// A serving file edited to take another serving file's port is refused
	// and keeps its last good version; the other keeps its port.
	two := Load(nil, with("clusters/zzz.yaml", "discovery: zookeeper\nhaproxy: {port: 9000}\n"))
	wantDiags(t, two, "")
	s := Load(two, files("balancers/haproxy.yaml", balancerYAML, "discovery/zookeeper.yaml", zkYAML,
		"clusters/web.yaml", "discovery: zookeeper\nhaproxy: {port: 9000}\n",
		"clusters/zzz.yaml", "discovery: zookeeper\nhaproxy: {port: 9000}\n"))
	wantDiags(t, s, "clusters/web.yaml: warning: keeping the last good version of this file\n"+
		"clusters/web.yaml:2: haproxy.port: *:9000 is already bound by cluster zzz (clusters/zzz.yaml); that file was in force before and keeps it, this one is refused\n")
	if s.Config.Clusters["web"].HAProxy.Port != 8000 || s.Config.Clusters["zzz"].HAProxy.Port != 9000 {
		t.Errorf("clusters = %+v", s.Config.Clusters)
	}

	// First load: the path order decides, and the message says so.
	s = Load(nil, with("clusters/aaa.yaml", "discovery: zookeeper\nhaproxy: {port: 8000}\n"))
	wantDiags(t, s, "clusters/web.yaml:2: haproxy.port: *:8000 is already bound by cluster aaa (clusters/aaa.yaml); on a first load the file whose path sorts first keeps it, this one is refused\n")
}

// A changed balancer that takes a port or a name from a cluster in force is
// refused and keeps its last good version; on a first load the balancer
// comes first.
func TestLoadStableOwnershipBalancer(t *testing.T) {
	web := "discovery: zookeeper\nhaproxy: {port: 8000}\n"
	first := Load(nil, files("balancers/haproxy.yaml", balancerYAML, "discovery/zookeeper.yaml", zkYAML, "clusters/web.yaml", web))
	wantDiags(t, first, "")
	for _, tc := range []struct{ name, balancer, want string }{
		{"same port", balancerYAML + "stats: {port: 9000}\nproxies:\n  partner:\n    port: 8000\n    upstreams: [{host: b2b.example.com, port: 88}]\n",
			"balancers/haproxy.yaml: warning: keeping the last good version of this file\n" +
				"balancers/haproxy.yaml:7: proxies.partner.port: clashes with cluster web (clusters/web.yaml), which was in force before and keeps what it holds: this version of the file is refused\n"},
		{"same name", balancerYAML + "proxies:\n  web:\n    port: 7000\n    upstreams: [{host: b2b.example.com, port: 88}]\n",
			"balancers/haproxy.yaml: warning: keeping the last good version of this file\n" +
				"balancers/haproxy.yaml:5: proxies.web: clashes with cluster web (clusters/web.yaml), which was in force before and keeps what it holds: this version of the file is refused\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Load(first, files("balancers/haproxy.yaml", tc.balancer, "discovery/zookeeper.yaml", zkYAML, "clusters/web.yaml", web))
			wantDiags(t, s, tc.want)
			if c, ok := s.Config.Clusters["web"]; !ok || c.HAProxy.Port != 8000 {
				t.Errorf("web = %+v, want it on 8000", c)
			}
			if b := s.Config.Balancer; b == nil || len(b.Proxies) != 0 {
				t.Errorf("balancer = %+v, want the last good one", b)
			}
			// Removing the cluster lets the new balancer in.
			s = Load(s, files("balancers/haproxy.yaml", tc.balancer, "discovery/zookeeper.yaml", zkYAML))
			wantDiags(t, s, "")
			if len(s.Config.Balancer.Proxies) != 1 {
				t.Errorf("balancer = %+v, want the new one", s.Config.Balancer)
			}
		})
	}
	s := Load(nil, files("balancers/haproxy.yaml", balancerYAML+"stats: {port: 8000}\n", "discovery/zookeeper.yaml", zkYAML, "clusters/web.yaml", web))
	wantDiags(t, s, "clusters/web.yaml:2: haproxy.port: *:8000 is already bound by stats (balancers/haproxy.yaml)\n")
}

// A new web.yaml beside the web.yml in force is the one ignored; on a
// first load the path order decides.
func TestLoadStableOwnershipSameStem(t *testing.T) {
	base := files("balancers/haproxy.yaml", balancerYAML, "discovery/zookeeper.yaml", zkYAML)
	yml := files("clusters/web.yml", "discovery: zookeeper\nhaproxy: {port: 8000}\n")
	yaml := files("clusters/web.yaml", "discovery: zookeeper\nhaproxy: {port: 9000}\n")
	first := Load(nil, append(append([]File(nil), base...), yml...))
	wantDiags(t, first, "")
	s := Load(first, append(append(append([]File(nil), base...), yml...), yaml...))
	wantDiags(t, s, "clusters/web.yaml: clusters/web.yml defines the same item; this file is ignored\n")
	if c := s.Config.Clusters["web"]; c.Pos.File != "clusters/web.yml" || c.HAProxy.Port != 8000 {
		t.Errorf("web = %+v", c)
	}
	s = Load(nil, append(append(append([]File(nil), base...), yml...), yaml...))
	wantDiags(t, s, "clusters/web.yml: clusters/web.yaml defines the same item; this file is ignored\n")
}

// ZooKeeper refuses a path with an element . or .. or an empty one; the
// reporter would retry forever.
func TestLoadDiscoveryPathZnodeSafe(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"/lighthouse/../x", "must not hold an element . or .., got \"/lighthouse/../x\""},
		{"/a/./b/", "must not hold an element . or .., got \"/a/./b/\""},
		{"/a//b", "must not hold an empty element (//), got \"/a//b\""},
	} {
		s := Load(nil, files("discovery/zookeeper.yaml", "hosts: [\"127.0.0.1:2181\"]\npath: "+tc.path+"\n"))
		wantDiags(t, s, "discovery/zookeeper.yaml:2: path: "+tc.want+"\n")
	}
	for _, ok := range []string{"/", "/lighthouse/services/", "/a.b/..c"} {
		s := Load(nil, files("discovery/zookeeper.yaml", "hosts: [\"127.0.0.1:2181\"]\npath: "+ok+"\n"))
		wantDiags(t, s, "")
	}
}
