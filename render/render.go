// Package render turns a config snapshot, the cluster membership and the
// HAProxy version into the complete haproxy.cfg, plus diagnostics.
//
// It is part of the pure core: Render reads only its Input and returns
// values. It never touches the filesystem, the network, a process or the
// clock, so identical inputs give identical bytes (unlike the original,
// the header carries no timestamp).
//
// The file keeps the original Lighthouse's layout and naming: backends are
// named after their cluster (frontends `fe:<cluster>`, see the README's
// HAProxy releases), servers after their node ("host:port"),
// meta-cluster frontends route with `acl is_<cluster>` and `use_backend`.
// It differs on purpose where the original produced configs that HAProxy 2.x
// rejects or that changed on every write: every cluster gets a backend even
// with no nodes, stats is a `listen stats` section with a `bind` line, server
// lines carry no trailing spaces, everything is sorted, and each item that
// cannot be rendered is left out with a located diagnostic, never silently.
package render

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"lighthouse/model"
	"lighthouse/model/configtext"
	"lighthouse/render/keywords"
)

// Input is everything a render depends on; nothing else is read.
type Input struct {
	// Config is the config snapshot; its Balancer must be set.
	Config *model.Config
	// Nodes holds the nodes of each cluster (a cluster without an entry has
	// none). Each node is checked with Validate again and sorted here: the
	// caller may pass them in any order. Which nodes to keep through a
	// discovery outage is the caller's decision (see model.Members.Known).
	// Clusters that are not configured are ignored with a warning.
	Nodes map[string][]model.Node
	// NodesSource names where Nodes came from ("membership.json",
	// "zookeeper"); it is the File of diagnostics about nodes.
	NodesSource string
	// Version is the HAProxy version the config is for; it decides the
	// peers sections and the keyword table directives are checked against
	// (see Render).
	Version model.Version
	// Running, when set, tells the address server (a node's name,
	// "host:port") of cluster's backend runs at in HAProxy now. It decides
	// between two nodes of one name with different addresses: the running
	// one is kept; when neither runs, neither is rendered. It is asked only
	// about such nodes.
	Running func(cluster, server string) (addr string, ok bool)
	// Memo, when set, is the Memo of an earlier render: the clusters whose
	// nodes did not change are not validated, sorted and written again, and
	// with the same Config and Version the structure of the file is not
	// written again either. The output does not depend on it.
	//
	// Render and its Memo keep Config and the node slices: neither may be
	// changed afterwards. A changed config is a new *model.Config, changed
	// nodes a new slice (as model.Load and the membership watcher make
	// them).
	Memo *Memo
}

// Result is one render.
type Result struct {
	// Config is the complete haproxy.cfg. It is empty only when there is
	// no balancer config to render from.
	Config configtext.Text
	// Skeleton is Config with the server lines of every cluster backend
	// replaced by one template line per backend
	// ("\t# servers: server NAME ADDR[ cookie NAME][ OPTIONS]"). Two renders
	// with equal skeletons differ at most in which servers the cluster
	// backends hold, which HAProxy's runtime API can change without a
	// reload; anything else (a directive, a peer, server_options, the cookie
	// setting) shows in the skeleton.
	Skeleton []byte
	// Backends maps each cluster backend in Config to its servers, in the
	// order of its server lines; a backend without servers maps to an empty
	// slice. Proxies (listen sections) and the stats listener are not
	// included: they do not depend on membership.
	Backends map[string][]Server
	// Diagnostics are the problems found, sorted. An item with an error was
	// left out of Config; everything else was rendered.
	Diagnostics model.Diagnostics
	// Memo is this render's work per cluster, for the next render's Input.
	Memo *Memo
}

// Server is one server line of a cluster backend:
// `server Name Addr:Port[ Options][ weight Weight]` (IPv6 addresses in
// brackets).
type Server struct {
	Name    string // "host:port" of the node
	Addr    string // IP address, without brackets
	Port    int
	Options string // what follows the address ("cookie NAME check ..."), but its weight; "" when nothing
	// Weight is the server's weight: the node's (metadata weight), else
	// the one server_options set, else 0 (unset: HAProxy's default, 1). It
	// ends the line, and HAProxy's runtime API changes it.
	Weight int
	// Drain: the node asks to take no new requests (metadata state:
	// drain). A config line cannot say so; the runtime API does.
	Drain bool
}

// SplitWeight takes the weight settings ("weight N", N an integer
// 1..256) out of server options: the options without them, the rest of the
// text as it was, and the last one's N (0 when none). Options without a
// weight come back unchanged.
func SplitWeight(options string) (rest string, weight int) {
	type token struct{ start, end int }
	var toks []token
	for i := 0; i < len(options); {
		for i < len(options) && (options[i] == ' ' || options[i] == '\t') {
			i++
		}
		if i == len(options) {
			break
		}
		j := i
		for j < len(options) && options[j] != ' ' && options[j] != '\t' {
			j++
		}
		toks = append(toks, token{i, j})
		i = j
	}
	drop := make([]bool, len(toks))
	for k := 0; k+1 < len(toks); k++ {
		t, v := toks[k], toks[k+1]
		if options[t.start:t.end] != "weight" {
			continue
		}
		w, err := strconv.Atoi(options[v.start:v.end])
		if err != nil || w < model.MinWeight || w > model.MaxWeight || options[v.start] == '+' {
			continue
		}
		weight, drop[k], drop[k+1] = w, true, true
		k++
	}
	if weight == 0 {
		return options, 0
	}
	// The tokens kept, each after the space that was before it.
	var b strings.Builder
	for k, t := range toks {
		if drop[k] {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(options[toks[k-1].end:t.start])
		}
		b.WriteString(options[t.start:t.end])
	}
	// Taking a pair out may make one ("weight weight 3 5"): take it too,
	// so that the rest holds none.
	rest, _ = SplitWeight(b.String())
	return rest, weight
}

// Section titles, as in the original.
const (
	titleHeader    = "Auto-generated by Lighthouse"
	titleMeta      = "Frontend stanzas for ACL meta clusters"
	titleFrontends = "Per-cluster frontend definitions"
	titleBackends  = "Per-cluster backend definitions"
	titlePeers     = "Per-cluster peer listings"
	titleProxies   = "Individual proxy definitions"
	titleStats     = "Listener for stats web interface"
)

// Render produces the HAProxy config for in.
//
// Order: global (the user's lines, then the admin stats socket), defaults,
// meta-cluster frontends, cluster frontends, cluster backends, peers,
// proxies, stats. Clusters, meta clusters and proxies are sorted by name;
// the servers of a backend by host, then port, then IP address; a node
// listed twice under the same name is rendered once (the first in that
// order) with a diagnostic. A node failing Validate is never rendered.
//
// Every directive line from the config is checked against the keywords of
// its section in the version's release (keywords.For; a version without a
// table of its own gets a warning naming the table used); an invalid one is
// left out with an error naming the keyword and the release.
//
// Peers sections (`peers <cluster>`, one `peer` line per distinct peer the
// cluster's nodes announce) depend on the version. Before 1.5 there are
// none. From 1.5 to 1.9 every cluster whose nodes announce peers gets one,
// as in the original. From 2.0 on a cluster gets one only when a
// `stick-table ... peers <cluster>` line refers to it: HAProxy 2.x drops a
// peers section that does not name the local host, with a warning, and one
// that does name it makes HAProxy listen on the peer port, so an
// unreferenced section is at best noise. A stick-table line that refers to a
// peers section the config does not have is left out with an error.
func Render(in Input) Result {
	r := &renderer{in: in}
	res := Result{}
	if in.Config == nil || in.Config.Balancer == nil {
		res.Diagnostics = model.Diagnostics{{Severity: model.Error, File: "balancers/haproxy.yaml", Message: "no valid balancer config: there is no HAProxy config to render"}}
		return res
	}
	r.cfg, r.b = in.Config, in.Config.Balancer
	r.clusterNames = r.cfg.ClusterNames()
	r.prepareMembers()
	res.Backends = make(map[string][]Server, len(r.clusterNames))
	if s := r.reusable(); s != nil {
		r.replay(s, res.Backends)
	} else {
		r.build(res.Backends)
	}

	r.diags.Sort()
	res.Config, res.Skeleton, res.Diagnostics, res.Memo = r.out.Text(), r.skel, r.diags, r.memo
	return res
}

// build renders everything, and keeps what depends on the config and the
// version alone in the memo's structure.
func (r *renderer) build(backends map[string][]Server) {
	s := &structure{config: r.cfg, version: r.in.Version}
	r.rec = s
	r.names = map[string]string{}
	r.peersUsed, r.peerDeps = map[string]bool{}, map[string]bool{}
	r.skel = make([]byte, 0, 4096+256*len(r.clusterNames))
	start := len(r.diags)
	r.keywords()

	if r.b.Stats != nil {
		r.claim("listen", "stats", "the stats listener", model.Pos{})
	}
	// Cluster backends are claimed first: frontends refer to them.
	r.backendOK = make(map[string]bool, len(r.clusterNames))
	for _, name := range r.clusterNames {
		r.backendOK[name] = r.claim("backend", name, "the backend of cluster "+name, r.cfg.Clusters[name].At("name"))
	}
	r.collectPeerRefs()
	r.global()
	r.defaults()
	r.metaFrontends()
	r.clusterFrontends()
	r.clusterBackends(backends)
	s.beforePeers, s.sections, s.skelHead = r.out.Cut(), r.sections, string(r.skel)
	s.diags = append(s.diags, r.diags[start:]...)
	r.peers()
	r.out.Cut()
	start, skelMid := len(r.diags), len(r.skel)
	r.proxies()
	r.stats()
	s.tail, s.skelTail = r.out.Cut(), string(r.skel[skelMid:])
	s.diags = append(s.diags, r.diags[start:]...)
	s.peersUsed, s.peerDeps = r.peersUsed, r.peerDeps
	r.memo.structure = s
}

// reusable returns the earlier render's structure when it holds for this
// one: the same config, the same version, and the same answer to whether
// each cluster a stick-table line refers to has peers.
func (r *renderer) reusable() *structure {
	if r.in.Memo == nil {
		return nil
	}
	s := r.in.Memo.structure
	if s == nil || s.config != r.cfg || s.version != r.in.Version {
		return nil
	}
	for name, had := range s.peerDeps {
		if m := r.members[name]; m == nil || (len(m.peers) > 0) != had {
			return nil
		}
	}
	return s
}

// replay renders with an earlier render's structure: only the server lines
// and the peers sections are written.
func (r *renderer) replay(s *structure, backends map[string][]Server) {
	r.peersUsed = s.peersUsed
	r.diags = append(r.diags, s.diags...)
	for _, b := range s.backends {
		r.out.Add(b.before)
		backends[b.cluster] = r.memoServers(b.cluster, b.cookie, b.opts)
	}
	r.out.Add(s.beforePeers)
	r.skel = make([]byte, 0, len(s.skelHead)+len(s.skelTail)+256)
	r.skel = append(r.skel, s.skelHead...)
	r.sections = s.sections
	r.peers()
	r.out.Cut()
	r.skel = append(r.skel, s.skelTail...)
	r.out.Add(s.tail)
	r.memo.structure = s
}

type renderer struct {
	in           Input
	cfg          *model.Config
	b            *model.Balancer
	clusterNames []string
	members      map[string]*members // every configured cluster
	memo         *Memo               // this render's, for the next one

	out      configtext.Builder // the config; server lines are shared with the memo
	skel     []byte
	rec      *structure // the structure being built (nil in a replay)
	buf      []byte     // scratch space for the server lines of one backend
	pending  string     // title of a section not written yet
	sections int        // sections written

	names     map[string]string // proxy names: name → what took it
	peersUsed map[string]bool   // peers sections a stick-table line refers to
	peerDeps  map[string]bool   // clusters noPeers asked about → whether they had peers
	backendOK map[string]bool   // clusters whose backend is rendered
	kw        *keywords.Table   // the directives of the version (set by keywords)
	diags     model.Diagnostics
}

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

// ---- membership ----------------------------------------------------------

func (r *renderer) prepareMembers() {
	src := r.in.NodesSource
	if src == "" {
		src = "membership"
	}
	r.members = make(map[string]*members, len(r.clusterNames))
	r.memo = &Memo{clusters: make(map[string]*memoEntry, len(r.clusterNames))}
	for _, name := range r.clusterNames {
		nodes := r.in.Nodes[name]
		var e *memoEntry
		if r.in.Memo != nil {
			if old := r.in.Memo.clusters[name]; old != nil && old.src == src && !old.members.askedRunning && sameNodes(old.nodes, nodes) {
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

// ---- output --------------------------------------------------------------

// section starts a section; its comment header is written with its first
// stanza, so a section without stanzas leaves no trace.
func (r *renderer) section(title string) { r.pending = title }

// stanza writes a stanza header ("backend web"), preceded by a blank line
// and, for the first stanza of a section, by the section's comment header.
func (r *renderer) stanza(header string) {
	if r.pending != "" {
		if r.sections > 0 {
			r.raw("\n\n")
		}
		r.raw("#\n# " + r.pending + "\n#\n")
		r.pending = ""
		r.sections++
	}
	r.raw("\n" + header + "\n")
}

// raw writes s to the config and the skeleton.
func (r *renderer) raw(s string) {
	r.out.WriteString(s)
	r.skel = append(r.skel, s...)
}

// line writes one directive line, its parts joined by single spaces.
func (r *renderer) line(parts ...string) {
	r.raw("\t")
	for i, p := range parts {
		if i > 0 {
			r.raw(" ")
		}
		r.raw(p)
	}
	r.raw("\n")
}

func (r *renderer) errorAt(pos model.Pos, format string, args ...any) {
	r.diags = append(r.diags, pos.Diag(model.Error, fmt.Sprintf(format, args...)))
}

// claim takes a proxy name. Every frontend, backend and listen section has
// a name of its own: HAProxy 3.3 and later refuse a frontend and a backend
// of the same name (3.2 warns), so no release gets one. It reports false,
// with an error at pos, when the name is taken.
func (r *renderer) claim(kind, name, what string, pos model.Pos) bool {
	if other := r.names[name]; other != "" {
		r.errorAt(pos, "%s %q is left out: HAProxy already has %s under that name", kind, name, other)
		return false
	}
	r.names[name] = what
	return true
}

// FrontendName is the name of the frontend of cluster name: the cluster's
// name after model.FrontendPrefix ("fe:web"). The backend keeps the
// cluster's name, which the runtime API, the stats page and dashboards key
// on; meta clusters' frontends keep theirs.
func FrontendName(cluster string) string { return model.FrontendPrefix + cluster }

// text checks a value from the config before it is written into a line.
func (r *renderer) text(pos model.Pos, what, s string) bool {
	if msg := checkText(s); msg != "" {
		r.errorAt(pos, "%s left out: %s", what, msg)
		return false
	}
	return true
}

// word checks a single-token value from the config (an address, a path).
func (r *renderer) word(pos model.Pos, what, s string) bool {
	if !r.text(pos, what, s) {
		return false
	}
	if strings.ContainsAny(s, " \t") {
		r.errorAt(pos, "%s left out: must not contain whitespace, got %q", what, s)
		return false
	}
	return true
}

// port checks a port from the config.
func (r *renderer) port(pos model.Pos, what string, p int) bool {
	if p < 1 || p > 65535 {
		r.errorAt(pos, "%s left out: port %d is out of range 1..65535", what, p)
		return false
	}
	return true
}

// keywords picks the keyword table of the version, with a warning when the
// version has none of its own (see keywords.For).
func (r *renderer) keywords() {
	var note string
	r.kw, note = keywords.For(r.in.Version)
	if note != "" {
		r.diags = append(r.diags, model.Diagnostic{Severity: model.Warning, File: "balancers/haproxy.yaml", Message: note})
	}
}

// directives writes the valid lines of a section and reports the others.
func (r *renderer) directives(sec keywords.Section, lines []model.Line) {
	for _, l := range lines {
		if r.directive(sec, l) {
			r.line(l.Text)
		}
	}
}

// directive reports whether a line from the config may be written into a
// section, with an error at the line when not.
func (r *renderer) directive(sec keywords.Section, l model.Line) bool {
	if msg := checkText(l.Text); msg != "" {
		r.errorAt(l.Pos, "%s", msg)
		return false
	}
	if msg := r.kw.Problem(sec, l.Text); msg != "" {
		r.errorAt(l.Pos, "%s", msg)
		return false
	}
	if msg := checkQuotes(l.Text); msg != "" {
		r.errorAt(l.Pos, "HAProxy cannot parse this line: %s", msg)
		return false
	}
	if name, ok := peersRef(l.Text); ok {
		if why := r.noPeers(name); why != "" {
			r.errorAt(l.Pos, "refers to peers section %q, which this config does not have: %s", name, why)
			return false
		}
	}
	return true
}

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

// bind writes `bind ADDR:PORT`; addr "" means all interfaces.
func (r *renderer) bind(pos model.Pos, addr string, port int) {
	if !r.word(pos, "bind", addr) || !r.port(pos, "bind", port) {
		return
	}
	r.line("bind " + addr + ":" + strconv.Itoa(port))
}

// ---- sections ------------------------------------------------------------

func (r *renderer) global() {
	r.section(titleHeader)
	r.stanza("global")
	keep := r.keepsState()
	for _, l := range r.b.Global {
		if keep && (l.Text == "server-state-file" || strings.HasPrefix(l.Text, "server-state-file ")) {
			r.errorAt(l.Pos, "the writer sets server-state-file itself (%s), to keep server states across reloads; remove this line", StateFile(r.b))
			continue
		}
		if r.directive(keywords.Global, l) {
			r.line(l.Text)
		}
	}
	if r.word(r.b.At("socket_file"), "stats socket", r.b.SocketFile) {
		r.line("stats socket", r.b.SocketFile, "mode 600 level admin")
	}
	r.line("stats timeout 2m")
	if keep && r.word(r.b.At("config_file"), "server-state-file", StateFile(r.b)) {
		r.line("server-state-file", StateFile(r.b))
	}
}

// keepsState reports whether the config keeps server states across
// reloads: HAProxy reads a server state file from 1.6 on.
func (r *renderer) keepsState() bool { return r.in.Version.AtLeast(1, 6) }

// StateFile is the server state file of a balancer config: the writer
// saves `show servers state` there before every reload, and HAProxy loads
// it when it starts.
func StateFile(b *model.Balancer) string { return b.ConfigFile + ".state" }

// loadStateLine is the defaults line that makes every backend load its
// servers' states from the global server state file. A defaults line of
// the user's that sets load-server-state-from-file takes its place.
const loadStateLine = "load-server-state-from-file global"

func (r *renderer) defaults() {
	load := r.keepsState() && !r.defaultsSet("load-server-state-from-file")
	if len(r.b.Defaults) == 0 && !load {
		return
	}
	r.stanza("defaults")
	r.directives(keywords.Defaults, r.b.Defaults)
	if load {
		r.line(loadStateLine)
	}
}

func (r *renderer) metaFrontends() {
	r.section(titleMeta)
	for _, meta := range r.b.MetaClusterNames() {
		mc := r.b.MetaClusters[meta]
		var members []string
		for _, name := range r.clusterNames {
			if c := r.cfg.Clusters[name]; c.MetaCluster == meta && r.backendOK[name] {
				if c.HAProxy.ACL == "" {
					r.errorAt(c.At("haproxy.acl"), "cluster %s is left out of meta cluster %s: it has no acl", name, meta)
					continue
				}
				if !r.text(c.At("haproxy.acl"), "acl", c.HAProxy.ACL) {
					continue
				}
				if msg := checkQuotes(c.HAProxy.ACL); msg != "" {
					r.errorAt(c.At("haproxy.acl"), "cluster %s is left out of meta cluster %s: HAProxy cannot parse its acl: %s", name, meta, msg)
					continue
				}
				members = append(members, name)
			}
		}
		if len(members) == 0 {
			r.diags = append(r.diags, mc.Pos.Diag(model.Warning, "no cluster is a member of this meta cluster: it gets no frontend"))
			continue
		}
		if !r.claim("frontend", meta, "the frontend of meta cluster "+meta, mc.Pos) {
			continue
		}
		r.stanza("frontend " + meta)
		r.bind(r.b.At("meta_clusters."+meta+".port"), r.b.BindAddress, mc.Port)
		r.directives(keywords.Frontend, mc.Frontend)
		for _, name := range members {
			r.line("acl", "is_"+name, r.cfg.Clusters[name].HAProxy.ACL)
			r.line("use_backend", name, "if", "is_"+name)
		}
	}
}

func (r *renderer) clusterFrontends() {
	r.section(titleFrontends)
	for _, name := range r.clusterNames {
		c := r.cfg.Clusters[name]
		if c.HAProxy.Port == 0 || !r.backendOK[name] || !r.claim("frontend", FrontendName(name), "the frontend of cluster "+name, c.At("name")) {
			continue
		}
		r.stanza("frontend " + FrontendName(name))
		r.directives(keywords.Frontend, c.HAProxy.Frontend)
		r.bind(c.At("haproxy.port"), r.b.BindAddress, c.HAProxy.Port)
		r.line("default_backend", name)
	}
}

func hasModeHTTP(lines []model.Line) bool {
	for _, l := range lines {
		if l.Text == "mode http" {
			return true
		}
	}
	return false
}

func (r *renderer) clusterBackends(backends map[string][]Server) {
	r.section(titleBackends)
	for _, name := range r.clusterNames {
		c := r.cfg.Clusters[name]
		if !r.backendOK[name] {
			continue
		}
		r.stanza("backend " + name)
		r.directives(keywords.Backend, c.HAProxy.Backend)

		cookie := hasModeHTTP(c.HAProxy.Backend)
		opts := c.HAProxy.ServerOptions
		if opts != "" {
			if msg := checkServerOptions(opts); msg != "" {
				r.errorAt(c.At("haproxy.server_options"), "left out of every server line: %s", msg)
				opts = ""
			}
		}
		// The skeleton's template line stands for all server lines.
		r.skel = append(r.skel, "\t# servers: server NAME ADDR"...)
		if cookie {
			r.skel = append(r.skel, " cookie NAME"...)
		}
		if opts != "" {
			r.skel = append(r.skel, ' ')
			r.skel = append(r.skel, opts...)
		}
		r.skel = append(r.skel, '\n')

		r.rec.backends = append(r.rec.backends, backendSlot{before: r.out.Cut(), cluster: name, cookie: cookie, opts: opts})
		backends[name] = r.memoServers(name, cookie, opts)
	}
}

// memoServers writes the server lines of a cluster's backend, taking them
// from the memo when its nodes and server settings are unchanged.
func (r *renderer) memoServers(name string, cookie bool, opts string) []Server {
	e := r.memo.clusters[name]
	if e.written && e.cookie == cookie && e.opts == opts {
		r.out.Add(e.text)
		return e.servers
	}
	servers, text := r.servers(e.members.nodes, cookie, opts)
	// A new entry: the old one may belong to a Memo someone still holds.
	ne := *e
	ne.written, ne.cookie, ne.opts, ne.text, ne.servers = true, cookie, opts, text, servers
	r.memo.clusters[name] = &ne
	return servers
}

// servers writes the server lines of a backend and returns them as
// Servers. The lines are built in one buffer and turned into one string, of
// which every Server's Name and Options are substrings: two allocations per
// backend instead of several per server.
func (r *renderer) servers(nodes []member, cookie bool, opts string) ([]Server, configtext.Part) {
	buf := r.buf[:0]
	type span struct{ name, opts [2]int }
	spans := make([]span, len(nodes))
	opts, optsWeight := SplitWeight(opts)
	weights := make([]int, len(nodes))
	for i, x := range nodes {
		// A node's own weight wins over the one of server_options.
		w := optsWeight
		if x.weight > 0 {
			w = x.weight
		}
		weights[i] = w
		var sp span
		buf = append(buf, "\tserver "...)
		sp.name[0] = len(buf)
		buf = append(buf, x.n.Host...)
		buf = append(buf, ':')
		buf = strconv.AppendInt(buf, int64(x.n.Port), 10)
		sp.name[1] = len(buf)
		buf = append(buf, ' ')
		buf = netip.AddrPortFrom(x.ip, uint16(x.n.Port)).AppendTo(buf)
		sp.opts[0] = len(buf) + 1
		if cookie {
			buf = append(buf, " cookie "...)
			buf = append(buf, buf[sp.name[0]:sp.name[1]]...)
		}
		if opts != "" {
			buf = append(buf, ' ')
			buf = append(buf, opts...)
		}
		sp.opts[1] = len(buf)
		if w := weights[i]; w > 0 {
			buf = append(buf, " weight "...)
			buf = strconv.AppendInt(buf, int64(w), 10)
		}
		buf = append(buf, '\n')
		spans[i] = sp
	}
	r.buf = buf
	part := configtext.PartOf(buf)
	text := part.String()
	r.out.Add(part)
	servers := make([]Server, len(nodes))
	for i, x := range nodes {
		sp := spans[i]
		s := Server{Name: text[sp.name[0]:sp.name[1]], Addr: x.n.IP, Port: x.n.Port, Weight: weights[i], Drain: x.drain}
		if sp.opts[0] <= sp.opts[1] {
			s.Options = text[sp.opts[0]:sp.opts[1]]
		}
		if !x.ip.Is4() {
			s.Addr = x.ip.String()
		}
		servers[i] = s
	}
	return servers, part
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

func (r *renderer) proxies() {
	r.section(titleProxies)
	for _, name := range r.b.ProxyNames() {
		p := r.b.Proxies[name]
		if !r.claim("listen", name, "proxy "+name, p.Pos) {
			continue
		}
		r.stanza("listen " + name)
		r.bind(r.b.At("proxies."+name+".port"), p.BindAddress, p.Port)
		r.directives(keywords.Listen, p.Options)
		seen := map[string]bool{}
		for i, u := range p.Upstreams {
			pos := r.b.At(fmt.Sprintf("proxies.%s.upstreams[%d]", name, i))
			host := strings.TrimSuffix(strings.TrimPrefix(u.Host, "["), "]")
			if !validUpstreamHost(host) {
				r.errorAt(pos, "upstream left out: host %q is not a host name or IP address", u.Host)
				continue
			}
			if !r.port(pos, "upstream", u.Port) {
				continue
			}
			server := host + ":" + strconv.Itoa(u.Port)
			addr := server
			if ip, err := netip.ParseAddr(host); err == nil && ip.Is6() {
				addr = netip.AddrPortFrom(ip, uint16(u.Port)).String()
			}
			if seen[server] {
				r.errorAt(pos, "upstream left out: server %s is already listed; HAProxy requires distinct server names", server)
				continue
			}
			seen[server] = true
			if u.MaxConn > 0 {
				r.line("server", server, addr, "maxconn", strconv.Itoa(u.MaxConn))
			} else {
				r.line("server", server, addr)
			}
		}
	}
}

// validName accepts cluster names as the model does (letters, digits and
// _ . -; the model also allows ':', which would read as a separator here).
func validName(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_')
	})
}

// validUpstreamHost accepts what HAProxy takes in a server name and address.
func validUpstreamHost(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == ':') {
			return false
		}
	}
	return true
}

func (r *renderer) stats() {
	s := r.b.Stats
	if s == nil {
		return
	}
	r.section(titleStats)
	r.stanza("listen stats")
	r.bind(r.b.At("stats.port"), s.BindAddress, s.Port)
	r.line("mode http")
	r.line("stats enable")
	if s.URI != "" && r.word(r.b.At("stats.uri"), "stats uri", s.URI) {
		r.line("stats uri", s.URI)
	}
	for _, t := range []struct{ key, val, def string }{{"client", s.TimeoutClient, "30s"}, {"connect", s.TimeoutConnect, "5s"}, {"server", s.TimeoutServer, "30s"}} {
		switch {
		case t.val != "":
			if r.word(r.b.At("stats.timeouts."+t.key), "timeout "+t.key, t.val) {
				r.line("timeout", t.key, t.val)
			}
		case !r.defaultsSet("timeout " + t.key):
			// Neither the stats config nor the defaults set it: every
			// release warns of a listener without it.
			r.line("timeout", t.key, t.def)
		}
	}
}

// defaultsSet reports whether the defaults section has a line starting
// with directive ("timeout client").
func (r *renderer) defaultsSet(directive string) bool {
	for _, l := range r.b.Defaults {
		if l.Text == directive || strings.HasPrefix(l.Text, directive+" ") {
			return true
		}
	}
	return false
}
