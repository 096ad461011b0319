package render

import (
	"net/netip"
	"strconv"
	"strings"

	"lighthouse/model"
	"lighthouse/model/configtext"
	"lighthouse/render/keywords"
)

// ServerLine is one server line of a cluster backend:
// `server Name Addr:Port[ Options][ weight Weight]` (IPv6 addresses in
// brackets).
type ServerLine struct {
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

func hasModeHTTP(lines []model.Line) bool {
	for _, l := range lines {
		if l.Text == "mode http" {
			return true
		}
	}
	return false
}

func (r *renderer) clusterBackends(backends map[string][]ServerLine) {
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
func (r *renderer) memoServers(name string, cookie bool, opts string) []ServerLine {
	e := r.memo.clusters[name]
	if e.written && e.cookie == cookie && e.opts == opts {
		r.out.Add(e.text)
		return e.servers
	}
	servers, text := r.servers(e.members.nodes, cookie, opts)
	// A new entry: the old one may belong to a memo a Renderer still holds.
	ne := *e
	ne.written, ne.cookie, ne.opts, ne.text, ne.servers = true, cookie, opts, text, servers
	r.memo.clusters[name] = &ne
	return servers
}

// servers writes the server lines of a backend and returns them as
// Servers. The lines are built in one buffer and turned into one string, of
// which every ServerLine's Name and Options are substrings: two allocations per
// backend instead of several per server.
func (r *renderer) servers(nodes []member, cookie bool, opts string) ([]ServerLine, configtext.Part) {
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
	servers := make([]ServerLine, len(nodes))
	for i, x := range nodes {
		sp := spans[i]
		s := ServerLine{Name: text[sp.name[0]:sp.name[1]], Addr: x.n.IP, Port: x.n.Port, Weight: weights[i], Drain: x.drain}
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
