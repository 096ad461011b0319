// Package synth builds large synthetic inputs for benchmarks and timing
// runs: a config directory with many clusters and a membership file with
// many nodes per cluster. It is pure (it returns bytes); golden/genbig
// writes them to disk.
package synth

import (
	"fmt"
	"strings"

	"lighthouse/model"
)

// Files returns a config directory with the given number of clusters:
// balancers/haproxy.yaml (global and defaults lines, a meta cluster, two
// proxies, stats), discovery/zookeeper.yaml and clusters/svcNNNN.yaml.
// Every tenth cluster is a member of the meta cluster "api"; the others
// have a port of their own. Backends use "mode http" (so server lines carry
// cookies) and server_options.
func Files(clusters int) []model.File {
	files := []model.File{
		{Path: "balancers/haproxy.yaml", Data: []byte(`config_file: /tmp/lighthouse-big/haproxy.cfg
socket_file: /tmp/lighthouse-big/haproxy.sock
pid_file: /tmp/lighthouse-big/haproxy.pid
bind_address: 127.0.0.1
global:
  - "maxconn 100000"
defaults:
  - "mode http"
  - "balance roundrobin"
  - "timeout connect 5s"
  - "timeout client 30s"
  - "timeout server 30s"
meta_clusters:
  api:
    port: 8080
    frontend: ["option httplog"]
proxies:
  partner:
    port: 7000
    upstreams: [{host: "10.255.0.1", port: 80, max_conn: 100}, {host: "10.255.0.2", port: 80}]
  db:
    port: 7001
    options: ["mode tcp"]
    upstreams: [{host: "10.255.0.3", port: 5432}]
stats:
  port: 9009
  uri: /stats
  timeouts: {connect: 4000, server: 30000}
`)},
		{Path: "discovery/zookeeper.yaml", Data: []byte("hosts: [\"127.0.0.1:2181\"]\npath: /lighthouse/services\n")},
	}
	for i := 0; i < clusters; i++ {
		var b strings.Builder
		b.WriteString("discovery: zookeeper\n")
		if i%10 == 0 {
			fmt.Fprintf(&b, "meta_cluster: api\nhaproxy:\n  acl: \"path_beg /api/%s\"\n", ClusterName(i))
		} else {
			fmt.Fprintf(&b, "haproxy:\n  port: %d\n  frontend: [\"option httplog\"]\n", 10000+i)
		}
		b.WriteString("  backend:\n    - \"mode http\"\n    - \"option httpchk GET /health\"\n    - \"http-check expect status 200\"\n")
		b.WriteString("  server_options: \"check inter 2000 rise 2 fall 3\"\n")
		files = append(files, model.File{Path: "clusters/" + ClusterName(i) + ".yaml", Data: []byte(b.String())})
	}
	return files
}

// ClusterName is the name of cluster i.
func ClusterName(i int) string { return fmt.Sprintf("svc%04d", i) }

// Membership returns a membership file (cluster name → nodes) for Files'
// clusters with nodes nodes each, in the original's wire format (peer and
// metadata as JSON strings), listed in reverse order so that the renderer
// has to sort. Node j of cluster i runs on host hostNNNN-JJ at a distinct
// 10.x.y.z address.
func Membership(clusters, nodes int) []byte {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < clusters; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n%q: [", ClusterName(i))
		for j := nodes - 1; j >= 0; j-- {
			k := i*nodes + j
			host := fmt.Sprintf("host%04d-%02d.example.com", i, j)
			ip := fmt.Sprintf("10.%d.%d.%d", k>>16&0xff, k>>8&0xff, k&0xff)
			peer := fmt.Sprintf(`{"ip": "%s", "name": "%s", "port": 1024}`, ip, host)
			fmt.Fprintf(&b, "\n  {\"host\": %q, \"ip\": %q, \"metadata\": %q, \"peer\": %q, \"port\": %d}", host, ip, `{"version": "1.0"}`, peer, 8000+j%100)
			if j > 0 {
				b.WriteString(",")
			}
		}
		b.WriteString("]")
	}
	b.WriteString("\n}\n")
	return []byte(b.String())
}
