package cluster

import (
	"net"
	"strconv"
	"strings"

	"lighthouse/model"
)

// listener is one HAProxy listener of a balancer config.
type listener struct {
	name, bind string
	port       int
	uri        string // stats only
	to         string // proxies only: " → upstreams"
}

func (l listener) addr() string {
	b := l.bind
	if b == "" || b == "*" {
		b = "0.0.0.0"
	}
	return net.JoinHostPort(b, strconv.Itoa(l.port))
}

// listeners lists a balancer's listeners: clusters with a port, meta
// clusters, proxies, stats.
func listeners(cfg *model.Config) []listener {
	b := cfg.Balancer
	var out []listener
	for _, n := range cfg.ClusterNames() {
		if p := cfg.Clusters[n].HAProxy.Port; p != 0 {
			out = append(out, listener{name: n, bind: b.BindAddress, port: p})
		}
	}
	for _, n := range b.MetaClusterNames() {
		var routes []string
		for _, cn := range cfg.ClusterNames() {
			if cl := cfg.Clusters[cn]; cl.MetaCluster == n {
				routes = append(routes, cn)
			}
		}
		out = append(out, listener{name: n + " (" + strings.Join(routes, ", ") + ")", bind: b.BindAddress, port: b.MetaClusters[n].Port})
	}
	for _, n := range b.ProxyNames() {
		p := b.Proxies[n]
		var ups []string
		for _, u := range p.Upstreams {
			ups = append(ups, net.JoinHostPort(u.Host, strconv.Itoa(u.Port)))
		}
		out = append(out, listener{name: n, bind: p.BindAddress, port: p.Port, to: " → " + strings.Join(ups, ", ")})
	}
	if s := b.Stats; s != nil {
		out = append(out, listener{name: "stats", bind: s.BindAddress, port: s.Port, uri: s.URI})
	}
	return out
}
