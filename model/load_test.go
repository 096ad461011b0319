package model

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

const (
	balancerYAML = "config_file: /tmp/h.cfg\nsocket_file: /tmp/h.sock\npid_file: /tmp/h.pid\n"
	zkYAML       = "hosts: [\"127.0.0.1:2181\"]\npath: /lighthouse/services/\n"
)

func files(kv ...string) []File {
	var out []File
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, File{Path: kv[i], Data: []byte(kv[i+1])})
	}
	return out
}

func TestLoadFull(t *testing.T) {
	s := Load(nil, files(
		"logging.yaml", "level: debug\nformat: json\nstream: stdout\n",
		"balancers/haproxy.yaml", balancerYAML+`bind_address: 127.0.0.1
global: ["maxconn 4000", "  log stderr local0  "]
defaults: ["mode http"]
restart_interval: 5
meta_clusters:
  webapi: {port: 8888, frontend: ["mode http"]}
proxies:
  partner:
    port: 7777
    bind_address: 0.0.0.0
    options: ["mode http"]
    upstreams: [{host: b2b.partner.com, port: 88, max_conn: 400}, {host: 10.9.9.9, port: "89"}]
stats: {port: 9009, uri: /haproxy, timeouts: {connect: 4000, server: 30s}}
`,
		"discovery/zookeeper.yaml", zkYAML,
		"clusters/web.yaml", "discovery: zookeeper\nhaproxy:\n  port: 8000\n  backend: [\"mode http\"]\n  server_options: check inter 2000\n",
		"clusters/widgets.yml", "discovery: zookeeper\nmeta_cluster: webapi\nhaproxy:\n  acl: path_beg /api/widgets\n",
		"services/multiapp.yml", "name: webapp\nports: [8002, 8001, 8001]\ndiscovery: zookeeper\nmetadata: {role: primary, weight: 2}\nchecks:\n  interval: 0.5\n  http: {uri: /health, rise: 2, fall: 3, method: post}\n  tcp: {query: ruok, response: imok, rise: 1, fall: 1, timeout: 250ms}\n",
		"services/README.txt", "not yaml",
		"other.yaml", "ignored: true",
	))
	if len(s.Diagnostics) != 0 {
		t.Fatalf("unexpected diagnostics:\n%s", s.Diagnostics)
	}
	c := s.Config
	if c.Logging != (Logging{Level: "debug", Format: "json", Stream: "stdout"}) {
		t.Errorf("logging = %+v", c.Logging)
	}
	b := c.Balancer
	if b.BindAddress != "127.0.0.1" || b.RestartInterval.Seconds() != 5 || len(b.Global) != 2 || b.Global[1].Text != "log stderr local0" || b.Global[1].Pos.Line != 5 || b.Global[1].Pos.Key != "global[1]" {
		t.Errorf("balancer = %+v", b)
	}
	if got := b.Proxies["partner"]; got.Port != 7777 || len(got.Upstreams) != 2 || got.Upstreams[0].MaxConn != 400 || got.Upstreams[1].Port != 89 {
		t.Errorf("proxy = %+v", got)
	}
	if st := b.Stats; st.URI != "/haproxy" || st.TimeoutConnect != "4000" || st.TimeoutServer != "30s" || st.TimeoutClient != "" {
		t.Errorf("stats = %+v", st)
	}
	if d := c.Discovery["zookeeper"]; d.Path != "/lighthouse/services" || len(d.Hosts) != 1 {
		t.Errorf("discovery = %+v", d)
	}
	if w := c.Clusters["widgets"]; w.MetaCluster != "webapi" || w.HAProxy.ACL != "path_beg /api/widgets" {
		t.Errorf("widgets = %+v", w)
	}
	sv := c.Services["multiapp"]
	if sv.Name != "webapp" || !cmp.Equal(sv.Ports, []int{8001, 8002}) || sv.Host != "127.0.0.1" || sv.Interval.Milliseconds() != 500 {
		t.Errorf("service = %+v", sv)
	}
	if len(sv.Checks) != 2 || sv.Checks[0].Type != "http" || sv.Checks[0].Method != "POST" || sv.Checks[0].Timeout.Milliseconds() != 500 || sv.Checks[1].Timeout.Milliseconds() != 250 {
		t.Errorf("checks = %+v", sv.Checks)
	}
	if sv.Metadata["role"] != "primary" || sv.Metadata["weight"] != int64(2) {
		t.Errorf("metadata = %#v", sv.Metadata)
	}
}

// A file that breaks keeps its last good version; the others move on.
func TestLoadKeepsLastGood(t *testing.T) {
	first := Load(nil, files(
		"balancers/haproxy.yaml", balancerYAML,
		"discovery/zookeeper.yaml", zkYAML,
		"clusters/web.yaml", "discovery: zookeeper\nhaproxy: {port: 8000}\n",
		"clusters/api.yaml", "discovery: zookeeper\nhaproxy: {port: 8001}\n",
	))
	if len(first.Diagnostics) != 0 {
		t.Fatal(first.Diagnostics)
	}
	second := Load(first, files(
		"balancers/haproxy.yaml", balancerYAML,
		"discovery/zookeeper.yaml", zkYAML,
		"clusters/web.yaml", "discovery: zookeeper\nhaproxy: {port: eighty}\n",
		"clusters/api.yaml", "discovery: zookeeper\nhaproxy: {port: 9001}\n",
	))
	want := "clusters/web.yaml: warning: keeping the last good version of this file\n" +
		"clusters/web.yaml:2: haproxy.port: must be an integer 1..65535, got \"eighty\"\n"
	if diff := cmp.Diff(want, second.Diagnostics.String()); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if p := second.Config.Clusters["web"].HAProxy.Port; p != 8000 {
		t.Errorf("web port = %d, want the last good 8000", p)
	}
	if p := second.Config.Clusters["api"].HAProxy.Port; p != 9001 {
		t.Errorf("api port = %d, want the new 9001", p)
	}
	// Fixing the file takes the new version.
	third := Load(second, files(
		"balancers/haproxy.yaml", balancerYAML,
		"discovery/zookeeper.yaml", zkYAML,
		"clusters/web.yaml", "discovery: zookeeper\nhaproxy: {port: 8080}\n",
	))
	if len(third.Diagnostics) != 0 || third.Config.Clusters["web"].HAProxy.Port != 8080 {
		t.Errorf("third: %v %+v", third.Diagnostics, third.Config.Clusters)
	}
	if _, ok := third.Config.Clusters["api"]; ok {
		t.Errorf("removed file api.yaml is still configured")
	}
	// A broken balancer keeps the last good one.
	fourth := Load(third, files(
		"balancers/haproxy.yaml", "config_file: [\n",
		"discovery/zookeeper.yaml", zkYAML,
		"clusters/web.yaml", "discovery: zookeeper\nhaproxy: {port: 8080}\n",
	))
	if fourth.Config.Balancer == nil || fourth.Config.Balancer.ConfigFile != "/tmp/h.cfg" || !fourth.Diagnostics.HasErrors() {
		t.Errorf("fourth: balancer %+v, diags %v", fourth.Config.Balancer, fourth.Diagnostics)
	}
}

// A file that fails a check across files (here a port clash) falls back too.
func TestLoadCrossFileFallback(t *testing.T) {
	first := Load(nil, files(
		"balancers/haproxy.yaml", balancerYAML,
		"discovery/zookeeper.yaml", zkYAML,
		"clusters/a.yaml", "discovery: zookeeper\nhaproxy: {port: 8000}\n",
		"clusters/b.yaml", "discovery: zookeeper\nhaproxy: {port: 8001}\n",
	))
	second := Load(first, files(
		"balancers/haproxy.yaml", balancerYAML,
		"discovery/zookeeper.yaml", zkYAML,
		"clusters/a.yaml", "discovery: zookeeper\nhaproxy: {port: 8000}\n",
		"clusters/b.yaml", "discovery: zookeeper\nhaproxy: {port: 8000}\n",
	))
	if got := second.Config.Clusters["b"].HAProxy.Port; got != 8001 {
		t.Errorf("b port = %d, want last good 8001; %s", got, second.Diagnostics)
	}
	if !strings.Contains(second.Diagnostics.String(), "clusters/b.yaml:2: haproxy.port: *:8000 is already bound by cluster a") {
		t.Errorf("diagnostics: %s", second.Diagnostics)
	}
}

func TestLoadDuplicateStem(t *testing.T) {
	s := Load(nil, files(
		"discovery/zookeeper.yaml", zkYAML,
		"services/web.yaml", "port: 80\ndiscovery: zookeeper\nchecks: {interval: 1}\n",
		"services/web.yml", "port: 81\ndiscovery: zookeeper\nchecks: {interval: 1}\n",
	))
	if !strings.Contains(s.Diagnostics.String(), "services/web.yml: services/web.yaml defines the same item; this file is ignored") {
		t.Errorf("diagnostics: %s", s.Diagnostics)
	}
	if s.Config.Services["web"].Ports[0] != 80 {
		t.Errorf("services: %+v", s.Config.Services)
	}
}

func TestLoadDictConfigLogging(t *testing.T) {
	s := Load(nil, files("logging.yaml", `version: 1
disable_existing_loggers: False
filters:
  context:
    "()": lighthouse.log.ContextFilter
formatters:
  syslog:
    format: 'lighthouse: [%(program)s] %(message)s'
handlers:
  cli:
    class: 'lighthouse.log.cli.CLIHandler'
    stream: "ext://sys.stdout"
  syslog:
    class: 'logging.handlers.SysLogHandler'
    address: '/dev/log'
root:
  handlers: ['syslog', 'cli']
  level: "DEBUG"
`))
	if s.Config.Logging != (Logging{Level: "debug", Format: "text", Stream: "stdout"}) {
		t.Errorf("logging = %+v", s.Config.Logging)
	}
	want := "logging.yaml:3: warning: filters: not supported by log/slog; ignored\n" +
		"logging.yaml:6: warning: formatters: not supported by log/slog; ignored\n" +
		"logging.yaml:13: warning: handlers.syslog: only stream handlers are supported; this handler is ignored (logs go to stdout)\n"
	if diff := cmp.Diff(want, s.Diagnostics.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// Every string that would reach HAProxy rejects line breaks and control
// characters, wherever it sits.
func TestLoadRejectsControlCharacters(t *testing.T) {
	for _, bad := range []string{"\\n", "\\r", "\\t", "\\x00", "\\x1b", "\\u0085", "\\u2028x\\n"} {
		docs := map[string]string{
			"balancers/haproxy.yaml":   balancerYAML + "global: [\"maxconn 1" + bad + "\"]\n",
			"clusters/web.yaml":        "discovery: zookeeper\nhaproxy: {port: 8000, server_options: \"check" + bad + "\"}\n",
			"clusters/api.yaml":        "discovery: zookeeper\nmeta_cluster: api\nhaproxy: {acl: \"path_beg /a" + bad + "\"}\n",
			"discovery/zookeeper.yaml": "hosts: [\"127.0.0.1:2181\"]\npath: \"/x" + bad + "\"\n",
		}
		for path, doc := range docs {
			s := Load(nil, files(path, doc))
			if !s.Diagnostics.HasErrors() {
				t.Errorf("%s with %s: accepted", path, bad)
			}
		}
	}
}

// Load does not depend on the order of its files.
func TestLoadOrderIndependent(t *testing.T) {
	all := files(
		"balancers/haproxy.yaml", balancerYAML+"meta_clusters: {api: {port: 9000}}\n",
		"discovery/zookeeper.yaml", zkYAML,
		"clusters/a.yaml", "discovery: zookeeper\nhaproxy: {port: 8000}\n",
		"clusters/b.yaml", "discovery: zookeeper\nhaproxy: {port: 8000}\n",
		"clusters/c.yml", "discovery: zookeeper\nmeta_cluster: api\nhaproxy: {acl: path_beg /c}\n",
		"clusters/c.yaml", "discovery: zookeeper\nhaproxy: {port: 8002}\n",
		"services/s.yaml", "port: 1\ndiscovery: nope\nchecks: {interval: 1}\n",
	)
	want := Load(nil, all)
	rapid.Check(t, func(t *rapid.T) {
		perm := rapid.Permutation(all).Draw(t, "files")
		got := Load(nil, perm)
		if diff := cmp.Diff(want.Diagnostics, got.Diagnostics); diff != "" {
			t.Fatalf("diagnostics differ (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want.Config, got.Config); diff != "" {
			t.Fatalf("config differs (-want +got):\n%s", diff)
		}
	})
}
