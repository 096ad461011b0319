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
