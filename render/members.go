package render

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"lighthouse/model"
)

// members is the validated, sorted, distinct membership of one cluster.
type members struct {
	nodes        []member
	askedRunning bool              // nodes depend on Input.Running, not only on the input nodes
	peers        []model.Peer      // distinct by name, sorted
	conflicts    model.Diagnostics // about peers, reported when the peers section is written
}

type member struct {
	n      *model.Node
	ip     netip.Addr
	weight int  // from the node's metadata; 0 when unset
	drain  bool // the node's metadata says state: drain
}

func (r *renderer) prepareMembers() {
	src := r.in.NodesSource
	if src == "" {
		src = "membership"
	}
	r.members = make(map[string]*members, len(r.clusterNames))
	r.memo = &renderMemo{clusters: make(map[string]*memoEntry, len(r.clusterNames))}
	for _, name := range r.clusterNames {
		nodes := r.in.Nodes[name]
		var e *memoEntry
		if r.prev != nil {
			if old := r.prev.clusters[name]; old != nil && old.src == src && !old.members.askedRunning && sameNodes(old.nodes, nodes) {
				e = old
			}
		}
		if e == nil {
			e = &memoEntry{src: src, nodes: nodes}
			start := len(r.diags)
			e.members = r.clusterMembers(src, name, e.nodes)
			e.diags = append(model.Diagnostics(nil), r.diags[start:]...)
		} else {
			r.diags = append(r.diags, e.diags...)
		}
		r.memo.clusters[name] = e
		r.members[name] = e.members
	}
	var unknown []string
	for name := range r.in.Nodes {
		if _, ok := r.cfg.Clusters[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		key := name
		if !validName(name) {
			key = strconv.Quote(name) // never spread a diagnostic over lines, nor fake a key path
		}
		r.diags = append(r.diags, model.Diagnostic{Severity: model.Warning, File: src, Key: key,
			Message: fmt.Sprintf("not a configured cluster; its %d node(s) are ignored", len(r.in.Nodes[name]))})
	}
}

func (r *renderer) clusterMembers(src, cluster string, nodes []model.Node) *members {
	m := &members{nodes: make([]member, 0, len(nodes))}
	for i := range nodes {
		n := &nodes[i]
		if err := n.Validate(); err != nil {
			r.diags = append(r.diags, model.Diagnostic{Severity: model.Error, File: src, Key: cluster,
				Message: fmt.Sprintf("node %q dropped: %v", n.Name(), err)})
			continue
		}
		ip, _ := netip.ParseAddr(n.IP) // Validate checked it
		x := member{n: n, ip: ip}
		var err error
		if x.weight, err = n.Weight(); err != nil {
			r.diags = append(r.diags, model.Diagnostic{Severity: model.Warning, File: src, Key: cluster,
				Message: fmt.Sprintf("node %q: %v; its weight is left unset", n.Name(), err)})
		}
		if x.drain, err = n.Draining(); err != nil {
			r.diags = append(r.diags, model.Diagnostic{Severity: model.Warning, File: src, Key: cluster,
				Message: fmt.Sprintf("node %q: %v; it counts as ready", n.Name(), err)})
		}
		m.nodes = append(m.nodes, x)
	}
	slices.SortFunc(m.nodes, compareMembers)
	kept := m.nodes[:0]
	for i := 0; i < len(m.nodes); {
		// m.nodes[i:j] is the group of nodes named like m.nodes[i].
		x, j, distinct := m.nodes[i], i+1, []netip.Addr{m.nodes[i].ip}
		for ; j < len(m.nodes) && m.nodes[j].n.Host == x.n.Host && m.nodes[j].n.Port == x.n.Port; j++ {
			if ip := m.nodes[j].ip; ip != distinct[len(distinct)-1] {
				distinct = append(distinct, ip)
			}
		}
		group := m.nodes[i:j]
		i = j
		switch {
		case len(group) == 1:
			kept = append(kept, x)
		case len(distinct) == 1:
			r.diags = append(r.diags, model.Diagnostic{Severity: model.Warning, File: src, Key: cluster,
				Message: fmt.Sprintf("node %s is listed more than once; rendered once", x.n.Name())})
			kept = append(kept, x)
		default:
			// Two addresses for one server: never choose by order. The one
			// that runs stays; when neither runs, neither is rendered.
			m.askedRunning = true
			addrs := make([]string, len(distinct))
			for k, ip := range distinct {
				addrs[k] = ip.String()
			}
			list := strings.Join(addrs, " and ")
			var run netip.Addr
			if r.in.Running != nil {
				if a, ok := r.in.Running(cluster, x.n.Name()); ok {
					run, _ = netip.ParseAddr(a)
				}
			}
			if k := slices.IndexFunc(group, func(y member) bool { return y.ip == run }); k >= 0 {
				r.diags = append(r.diags, model.Diagnostic{Severity: model.Warning, File: src, Key: cluster,
					Message: fmt.Sprintf("node %s is listed with %d addresses, %s; %s runs and is kept", x.n.Name(), len(distinct), list, run)})
				kept = append(kept, group[k])
				continue
			}
			r.diags = append(r.diags, model.Diagnostic{Severity: model.Error, File: src, Key: cluster,
				Message: fmt.Sprintf("node %s is listed with %d addresses, %s; none of them runs, so none is rendered", x.n.Name(), len(distinct), list)})
		}
	}
	m.nodes = kept

	npeers := 0
	for _, x := range m.nodes {
		if x.n.Peer != nil {
			npeers++
		}
	}
	if npeers > 0 {
		m.peers = make([]model.Peer, 0, npeers)
	}
	for _, x := range m.nodes {
		if p := x.n.Peer; p != nil {
			if ip, _ := netip.ParseAddr(p.IP); !ip.Is4() {
				cp := *p
				cp.IP = ip.String() // one spelling per address (IPv4 has only one)
				p = &cp
			}
			m.peers = append(m.peers, *p)
		}
	}
	slices.SortFunc(m.peers, comparePeers)
	peers := m.peers[:0]
	for _, p := range m.peers {
		if len(peers) > 0 {
			if prev := peers[len(peers)-1]; prev.Name == p.Name {
				if prev != p {
					m.conflicts = append(m.conflicts, model.Diagnostic{Severity: model.Warning, File: src, Key: cluster,
						Message: fmt.Sprintf("peer %s is announced with two addresses, %s and %s; only %s is rendered", p.Name, peerAddr(prev), peerAddr(p), peerAddr(prev))})
				}
				continue
			}
		}
		peers = append(peers, p)
	}
	m.peers = peers
	return m
}

// compareMembers orders nodes by host, port and IP; ties (equal names and
// addresses) are broken on the peer so that the one kept does not depend on
// the input order.
func compareMembers(a, b member) int {
	if c := strings.Compare(a.n.Host, b.n.Host); c != 0 {
		return c
	}
	if c := cmp.Compare(a.n.Port, b.n.Port); c != 0 {
		return c
	}
	if c := a.ip.Compare(b.ip); c != 0 {
		return c
	}
	switch pa, pb := a.n.Peer, b.n.Peer; {
	case pa == nil && pb == nil:
		return 0
	case pa == nil:
		return -1
	case pb == nil:
		return 1
	default:
		return comparePeers(*pa, *pb)
	}
}

func comparePeers(a, b model.Peer) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if c := strings.Compare(a.IP, b.IP); c != 0 {
		return c
	}
	return cmp.Compare(a.Port, b.Port)
}

func peerAddr(p model.Peer) string {
	ip, err := netip.ParseAddr(p.IP)
	if err != nil {
		return p.IP + ":" + strconv.Itoa(p.Port)
	}
	return netip.AddrPortFrom(ip, uint16(p.Port)).String()
}
