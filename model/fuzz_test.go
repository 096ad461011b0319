package model

import (
	"strings"
	"testing"
)

// FuzzLoad: Load never panics, and no accepted string that reaches HAProxy
// holds a control character.
func FuzzLoad(f *testing.F) {
	f.Add("balancers/haproxy.yaml", balancerYAML+"global: [\"maxconn 1\"]\nstats: {port: 9}\n")
	f.Add("clusters/web.yaml", "discovery: zookeeper\nhaproxy: {port: 8000, backend: [\"mode http\"], server_options: check}\n")
	f.Add("services/s.yaml", "ports: [1, 2]\ndiscovery: zookeeper\nchecks: {interval: 1, tcp: {query: a, response: b, rise: 1, fall: 1}}\n")
	f.Add("logging.yaml", "version: 1\nroot: {level: DEBUG}\n")
	f.Add("services/a.yaml", "port: 80\ndiscovery: zookeeper\nchecks: {interval: 1}\nmetadata:\n  a: &a [x, x, x]\n  b: &b [*a, *a, *a]\n  c: [*b, *b]\n")
	f.Add("services/c.yaml", "port: 80\ndiscovery: zookeeper\nchecks: {interval: 1}\nmetadata: &m {self: *m}\n")
	f.Add("clusters/a.yaml", "x: &x {port: 8000}\ndiscovery: zookeeper\nhaproxy: *x\n")
	f.Fuzz(func(t *testing.T, path, data string) {
		s := Load(nil, []File{
			{Path: "discovery/zookeeper.yaml", Data: []byte(zkYAML)},
			{Path: path, Data: []byte(data)},
		})
		check := func(what, v string) {
			if checkText(v) != "" {
				t.Fatalf("%s accepted with a control character: %q", what, v)
			}
		}
		checkLines := func(ls []Line) {
			for _, l := range ls {
				check(l.Pos.Key, l.Text)
			}
		}
		if b := s.Config.Balancer; b != nil {
			checkLines(b.Global)
			checkLines(b.Defaults)
			for _, p := range b.Proxies {
				checkLines(p.Options)
				for _, u := range p.Upstreams {
					check("upstream", u.Host)
				}
			}
			check("socket_file", b.SocketFile)
			check("bind_address", b.BindAddress)
		}
		for name, c := range s.Config.Clusters {
			check("cluster name", name)
			if strings.ContainsAny(name, " \t") {
				t.Fatalf("cluster name with whitespace: %q", name)
			}
			checkLines(c.HAProxy.Frontend)
			checkLines(c.HAProxy.Backend)
			check("acl", c.HAProxy.ACL)
			check("server_options", c.HAProxy.ServerOptions)
		}
	})
}

// FuzzDecodeNode: a decoded node is always valid, and encodes back to the
// same node.
func FuzzDecodeNode(f *testing.F) {
	f.Add(originalNode)
	f.Add(`{"host":"h","ip":"::1","port":"80","peer":{"name":"p","ip":"1.1.1.1"}}`)
	f.Fuzz(func(t *testing.T, data string) {
		n, err := DecodeNode([]byte(data))
		if err != nil {
			return
		}
		if err := n.Validate(); err != nil {
			t.Fatalf("decoded an invalid node: %v", err)
		}
		if _, err := DecodeNode(n.Encode()); err != nil {
			t.Fatalf("re-decoding %s: %v", n.Encode(), err)
		}
	})
}

// FuzzLoadNewcomer: adding a file, or changing the balancer or discovery
// file, never takes anything from the clusters in force: each keeps its
// name, its file and its port (stable ownership).
func FuzzLoadNewcomer(f *testing.F) {
	f.Add("clusters/aaa.yaml", "discovery: zookeeper\nhaproxy: {port: 8000}\n")
	f.Add("clusters/aaa.yaml", "name: web\ndiscovery: zookeeper\nhaproxy: {port: 8001}\n")
	f.Add("clusters/zzz.yml", "p: &p 8001\nname: api\ndiscovery: zookeeper\nhaproxy: {port: *p}\n")
	f.Add("clusters/web.yml", "discovery: zookeeper\nhaproxy: {port: 9000}\n")
	f.Add("balancers/haproxy.yaml", balancerYAML+"stats: {port: 8001}\n")
	f.Add("balancers/haproxy.yaml", balancerYAML+"proxies: {web: {port: 7000, upstreams: [{host: h, port: 1}]}}\n")
	base := files(
		"balancers/haproxy.yaml", balancerYAML,
		"discovery/zookeeper.yaml", zkYAML,
		"clusters/web.yaml", "discovery: zookeeper\nhaproxy: {port: 8000}\n",
		"clusters/api.yaml", "discovery: zookeeper\nhaproxy: {port: 8001}\n",
	)
	first := Load(nil, base)
	if first.Diagnostics.HasErrors() {
		f.Fatal(first.Diagnostics)
	}
	f.Fuzz(func(t *testing.T, path, data string) {
		in := append(files(path, data), base...)
		for i, b := range base {
			if b.Path == path {
				if strings.HasPrefix(path, "clusters/") {
					return // a cluster's own change may change what it holds
				}
				in = append(files(path, data), append(base[:i:i], base[i+1:]...)...)
			}
		}
		s := Load(first, in)
		for name, c := range first.Config.Clusters {
			got, ok := s.Config.Clusters[name]
			if !ok || got.Pos.File != c.Pos.File || got.HAProxy.Port != c.HAProxy.Port {
				t.Fatalf("adding %s took cluster %s (%s, port %d): now %+v\n%s", path, name, c.Pos.File, c.HAProxy.Port, got, s.Diagnostics)
			}
		}
	})
}
