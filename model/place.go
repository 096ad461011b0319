package model

import (
	"fmt"
	"strings"
)

// placement is where the clusters go with one balancer.
type placement struct {
	diags    Diagnostics
	keep     []parsed           // the version of each cluster file in force
	kept     map[string]bool    // by file
	clusters map[string]Cluster // by file, as kept
}

// place puts clusters, in order, into cfg's discovery and balancer b: a
// cluster that clashes with the ones placed before falls back to its last
// good version when that one does not, and is left out otherwise. cfg is
// not changed.
func place(cfg *Config, b *Balancer, clusters []parsed, rounds map[string]int, prevGood map[string]parsed) placement {
	pl := placement{kept: map[string]bool{}, clusters: map[string]Cluster{}}
	c := *cfg
	c.Balancer = b
	c.Clusters = map[string]Cluster{}
	l := newListeners(b)
	first := prevGood == nil
	owner := func(file string) string { return ownerNote(first, rounds[file]) }
	take := func(p parsed) {
		c.Clusters[p.cluster.Name] = p.cluster
		l.add(p.cluster)
		pl.keep = append(pl.keep, p)
		pl.kept[p.file] = true
		pl.clusters[p.file] = p.cluster
	}
	for _, p := range clusters {
		check := func(cl Cluster) Diagnostics { return checkCluster(&c, cl, l, owner) }
		diags := check(p.cluster)
		pl.diags = append(pl.diags, diags...)
		if !diags.HasErrors() {
			take(p)
			continue
		}
		if old, ok := prevGood[p.file]; ok && old.data != p.data && !check(old.cluster).HasErrors() {
			pl.diags = append(pl.diags, Diagnostic{Severity: Warning, File: p.file, Message: "keeping the last good version of this file"})
			take(old)
		}
	}
	return pl
}

// balancerClash locates what in b clashes with cluster c: a proxy or meta
// cluster of its name, a listener on its port, or a meta cluster it is a
// member of that has no port; the file when none of these.
func balancerClash(b *Balancer, c Cluster) Pos {
	if _, ok := b.Proxies[c.Name]; ok {
		return b.At("proxies." + c.Name)
	}
	if c.Name == "stats" && b.Stats != nil {
		return b.At("stats")
	}
	if _, ok := b.MetaClusters[c.Name]; ok && c.HAProxy.Port != 0 {
		return b.At("meta_clusters." + c.Name)
	}
	if p := c.HAProxy.Port; p != 0 {
		for _, name := range b.MetaClusterNames() {
			if b.MetaClusters[name].Port == p {
				return b.At("meta_clusters." + name + ".port")
			}
		}
		for _, name := range b.ProxyNames() {
			if px := b.Proxies[name]; px.Port == p && sameAddr(px.BindAddress, b.BindAddress) {
				return b.At("proxies." + name + ".port")
			}
		}
		if st := b.Stats; st != nil && st.Port == p && sameAddr(st.BindAddress, b.BindAddress) {
			return b.At("stats.port")
		}
	}
	if c.MetaCluster != "" {
		return b.At("meta_clusters")
	}
	return Pos{File: b.Pos.File, Line: b.Pos.Line}
}

// The rounds in which assemble places clusters.
const (
	roundUnchanged = iota // in force, unchanged since prev
	roundChanged          // in force, changed since prev
	roundNew              // not in force before, or a first load
)

// ownerNote tells, in a clash, why the file of the given round keeps what
// both claim.
func ownerNote(first bool, round int) string {
	switch {
	case first:
		return "; on a first load the file whose path sorts first keeps it, this one is refused"
	case round == roundNew:
		return "; of two new files the one whose path sorts first keeps it, this one is refused"
	}
	return "; that file was in force before and keeps it, this one is refused"
}

func unknownDiscovery(cfg *Config, name string) string {
	known := sortedKeys(cfg.Discovery)
	if len(known) == 0 {
		return fmt.Sprintf("unknown discovery %s: there is no valid discovery config (discovery/%s.yaml)", quote(name), clip(name))
	}
	return fmt.Sprintf("unknown discovery %s; configured: %s", quote(name), strings.Join(known, ", "))
}

// checkCluster checks c against the config assembled so far; owner words
// why the file already in it keeps what c also claims.
func checkCluster(cfg *Config, c Cluster, l *listeners, owner func(file string) string) Diagnostics {
	var ds Diagnostics
	at := c.At
	if _, ok := cfg.Discovery[c.Discovery]; !ok {
		ds = append(ds, at("discovery").Diag(Error, unknownDiscovery(cfg, c.Discovery)))
	}
	if prev, ok := cfg.Clusters[c.Name]; ok {
		ds = append(ds, at("name").Diag(Error, fmt.Sprintf("cluster %s is already defined by %s%s", quote(c.Name), prev.Pos.File, owner(prev.Pos.File))))
	}
	if c.MetaCluster != "" {
		if cfg.Balancer == nil || cfg.Balancer.MetaClusters[c.MetaCluster].Port == 0 {
			ds = append(ds, at("meta_cluster").Diag(Error, fmt.Sprintf("meta cluster %s has no port: add meta_clusters.%s.port to balancers/haproxy.yaml", quote(c.MetaCluster), clip(c.MetaCluster))))
		}
		if c.HAProxy.ACL == "" {
			ds = append(ds, at("haproxy.acl").Diag(Error, fmt.Sprintf("required for a member of meta cluster %s: the condition that routes requests to this cluster", quote(c.MetaCluster))))
		}
	} else if c.HAProxy.ACL != "" {
		ds = append(ds, at("haproxy.acl").Diag(Error, "an acl routes within a meta cluster, but this cluster sets no meta_cluster"))
	}
	if c.MetaCluster == "" && c.HAProxy.Port == 0 && c.HAProxy.ACL == "" {
		ds = append(ds, at("haproxy.port").Diag(Warning, "no port and no meta_cluster: no frontend sends traffic to this cluster"))
	}
	if b := cfg.Balancer; b != nil {
		if _, ok := b.Proxies[c.Name]; ok || c.Name == "stats" {
			ds = append(ds, at("name").Diag(Error, fmt.Sprintf("cluster name %s is also the name of a proxy section in balancers/haproxy.yaml", quote(c.Name))))
		}
		if _, ok := b.MetaClusters[c.Name]; ok && c.HAProxy.Port != 0 {
			ds = append(ds, at("name").Diag(Error, fmt.Sprintf("cluster name %s is also the name of a meta cluster, whose frontend would clash with this cluster's", quote(c.Name))))
		}
		if c.HAProxy.Port != 0 {
			if other := l.clash(b.BindAddress, c.HAProxy.Port); other != nil {
				note := ""
				if other.file != "" {
					note = owner(other.file)
				}
				ds = append(ds, at("haproxy.port").Diag(Error, fmt.Sprintf("%s:%d is already bound by %s%s", showAddr(b.BindAddress), c.HAProxy.Port, other.who, note)))
			}
		}
	}
	return ds
}

// listeners tracks which address and port each HAProxy listener binds.
type listeners struct {
	clusterAddr string // where cluster frontends bind
	bind        []listener
}

type listener struct {
	addr string
	port int
	who  string
	file string // of the cluster that binds it; "" for the balancer's own
}

func newListeners(b *Balancer) *listeners {
	l := &listeners{}
	if b == nil {
		return l
	}
	l.clusterAddr = b.BindAddress
	for _, name := range b.MetaClusterNames() {
		l.bind = append(l.bind, listener{b.BindAddress, b.MetaClusters[name].Port, fmt.Sprintf("meta cluster %s (balancers/haproxy.yaml)", name), ""})
	}
	for _, name := range b.ProxyNames() {
		p := b.Proxies[name]
		l.bind = append(l.bind, listener{p.BindAddress, p.Port, fmt.Sprintf("proxy %s (balancers/haproxy.yaml)", name), ""})
	}
	if b.Stats != nil {
		l.bind = append(l.bind, listener{b.Stats.BindAddress, b.Stats.Port, "stats (balancers/haproxy.yaml)", ""})
	}
	return l
}

func (l *listeners) add(c Cluster) {
	if c.HAProxy.Port != 0 {
		l.bind = append(l.bind, listener{l.clusterAddr, c.HAProxy.Port, "cluster " + c.Name + " (" + c.Pos.File + ")", c.Pos.File})
	}
}

// clash returns the listener that already binds addr:port, or nil.
func (l *listeners) clash(addr string, port int) *listener {
	for i, x := range l.bind {
		if x.port == port && sameAddr(x.addr, addr) {
			return &l.bind[i]
		}
	}
	return nil
}

func isWildcard(a string) bool { return a == "" || a == "*" || a == "0.0.0.0" || a == "::" }

func sameAddr(a, b string) bool { return a == b || isWildcard(a) || isWildcard(b) }

func showAddr(a string) string {
	if a == "" {
		return "*"
	}
	return a
}

// checkBalancerListeners reports two listeners of the balancer file itself
// that bind the same address and port.
func checkBalancerListeners(d *decoder, b *Balancer) {
	seen := &listeners{}
	try := func(addr string, port int, who string, pos Pos) {
		if port == 0 {
			return
		}
		if other := seen.clash(addr, port); other != nil {
			d.diags = append(d.diags, pos.Diag(Error, fmt.Sprintf("%s:%d is already bound by %s", showAddr(addr), port, other.who)))
			return
		}
		seen.bind = append(seen.bind, listener{addr, port, who, ""})
	}
	for _, name := range b.MetaClusterNames() {
		try(b.BindAddress, b.MetaClusters[name].Port, "meta cluster "+name, b.At("meta_clusters."+name+".port"))
	}
	for _, name := range b.ProxyNames() {
		p := b.Proxies[name]
		try(p.BindAddress, p.Port, "proxy "+name, b.At("proxies."+name+".port"))
	}
	if s := b.Stats; s != nil {
		try(s.BindAddress, s.Port, "stats", b.At("stats.port"))
	}
}
