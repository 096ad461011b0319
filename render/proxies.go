package render

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"lighthouse/render/keywords"
)

// proxies writes a listen section per proxy, its upstreams as servers.
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

// stats writes the stats listener, when the config has one.
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
