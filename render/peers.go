package render

import (
	"fmt"
	"strings"

	"lighthouse/model"
	"lighthouse/render/keywords"
)

// collectPeerRefs finds the peers sections that stick-table lines refer
// to. It runs before anything is written, since the listen sections of
// proxies come after the peers sections. A line that directive will reject
// refers to nothing.
func (r *renderer) collectPeerRefs() {
	scan := func(sec keywords.Section, lines []model.Line) {
		for _, l := range lines {
			name, ok := peersRef(l.Text)
			if !ok || checkText(l.Text) != "" || checkQuotes(l.Text) != "" || r.noPeers(name) != "" {
				continue
			}
			if _, ok := r.kw.Match(sec, l.Text); ok {
				r.peersUsed[name] = true
			}
		}
	}
	for _, meta := range r.b.MetaClusterNames() {
		scan(keywords.Frontend, r.b.MetaClusters[meta].Frontend)
	}
	for _, name := range r.clusterNames {
		c := r.cfg.Clusters[name]
		scan(keywords.Frontend, c.HAProxy.Frontend)
		scan(keywords.Backend, c.HAProxy.Backend)
	}
	for _, name := range r.b.ProxyNames() {
		scan(keywords.Listen, r.b.Proxies[name].Options)
	}
}

// peersRef returns the peers section a `stick-table ... peers NAME` line
// refers to.
func peersRef(text string) (string, bool) {
	if !strings.HasPrefix(text, "stick-table") {
		return "", false
	}
	f := strings.Fields(text)
	if f[0] != "stick-table" {
		return "", false
	}
	for i := 1; i+1 < len(f); i++ {
		if f[i] == "peers" {
			return f[i+1], true
		}
	}
	return "", false
}

// noPeers says why the config has no peers section name, or "".
func (r *renderer) noPeers(name string) string {
	m, ok := r.members[name]
	if ok && r.peerDeps != nil {
		r.peerDeps[name] = len(m.peers) > 0
	}
	switch {
	case !r.in.Version.AtLeast(1, 5):
		return fmt.Sprintf("HAProxy %s has no peers sections (they exist from 1.5 on)", r.in.Version)
	case !ok:
		return "peers sections are named after clusters, and there is no such cluster"
	case len(m.peers) == 0:
		return "no node of cluster " + name + " announces a peer"
	}
	return ""
}

func (r *renderer) peers() {
	if !r.in.Version.AtLeast(1, 5) {
		return
	}
	r.section(titlePeers)
	all := !r.in.Version.AtLeast(2, 0)
	for _, name := range r.clusterNames {
		m := r.members[name]
		if len(m.peers) == 0 || !all && !r.peersUsed[name] {
			continue
		}
		r.stanza("peers " + name)
		r.diags = append(r.diags, m.conflicts...)
		for _, p := range m.peers {
			r.line("peer", p.Name, peerAddr(p))
		}
	}
}
