// Package haproxyapi holds, as data, what HAProxy's runtime API can do in
// each supported release: whether servers can be added and deleted at run
// time, which server settings `add server` accepts (and so whether a server
// cookie can be set without a reload), and which balance algorithms take
// servers at run time. The planner reads it to choose between the runtime
// API and a reload; the shell reads it (answers.go) to understand what the
// running HAProxy says. The values the shell and the runtime exchange about
// the local HAProxy are here too, so that neither imports the other: what
// the shell saw of it (Observation) and the changes it makes on its admin
// socket (Change).
//
// It is part of the pure core: data and functions of it, no I/O.
package haproxyapi

import (
	"slices"
	"strconv"
	"strings"

	"lighthouse/model"
)

// API is what one HAProxy release's runtime API can do.
type API struct {
	// Release is the release whose data applies ("2.6", "3.4"), "" when
	// the version has no runtime server API at all (before 2.4).
	Release string
	// Note says why the data of another release stands for the version
	// asked about, or "" when the version has data of its own.
	Note string
	// DynamicServers is whether `add server` and `del server` exist.
	DynamicServers bool

	addServer map[string]bool // settings `add server` accepts; shared, never changed
}

// release is the data of one release; releases lists them oldest first.
type release struct {
	name      string
	v         model.Version
	addServer []string // `add server` settings, "a/b/c" expanded to a, b, c
	set       map[string]bool
}

func init() {
	for i := range releases {
		r := &releases[i]
		r.set = make(map[string]bool, len(r.addServer))
		for _, k := range r.addServer {
			r.set[k] = true
		}
	}
}

// addServer26 is the list of 2.6's management.txt, "add server".
var addServer26 = fields(`
		agent-addr agent-check agent-inter agent-port agent-send allow-0rtt alpn
		addr backup ca-file check check-alpn check-proto check-send-proxy check-sni
		check-ssl check-via-socks4 ciphers ciphersuites crl-file crt disabled
		downinter enabled error-limit fall fastinter
		force-sslv3/tlsv10/tlsv11/tlsv12/tlsv13 id inter maxconn maxqueue minconn
		no-ssl-reuse no-sslv3/tlsv10/tlsv11/tlsv12/tlsv13 no-tls-tickets npn observe
		on-error on-marked-down on-marked-up pool-low-conn pool-max-conn
		pool-purge-delay port proto proxy-v2-options rise send-proxy send-proxy-v2
		send-proxy-v2-ssl send-proxy-v2-ssl-cn slowstart sni source ssl ssl-max-ver
		ssl-min-ver tfo tls-tickets track usesrc verify verifyhost weight ws`)

// The settings `add server` accepts, release by release. Up to 3.0 they are
// the list in the release's own management.txt ("add server"); from 3.2 on
// that document defers to the CLI, and the lists are what `add server help`
// answers in the release's .0 build (model/haproxyapi/api_live_test.go asks
// the installed releases again). 2.8 lists the same as 2.6; 3.0 adds
// `cookie` and drops `enabled`.
var releases = []release{
	{name: "2.6", v: model.Version{Major: 2, Minor: 6}, addServer: addServer26},
	{name: "2.8", v: model.Version{Major: 2, Minor: 8}, addServer: addServer26},
	{name: "3.0", v: model.Version{Major: 3, Minor: 0}, addServer: append(slices.DeleteFunc(slices.Clone(addServer26),
		func(kw string) bool { return kw == "enabled" }), "cookie")},
	{name: "3.2", v: model.Version{Major: 3, Minor: 2}, addServer: fields(`
		allow-0rtt alpn ca-file check-alpn check-sni check-ssl ciphers ciphersuites
		client-sigalgs crl-file curves crt force-sslv3 force-tlsv10 force-tlsv11
		force-tlsv12 force-tlsv13 no-ssl-reuse no-sslv3 no-tlsv10 no-tlsv11 no-tlsv12
		no-tlsv13 no-tls-tickets npn send-proxy-v2-ssl send-proxy-v2-ssl-cn sigalgs
		sni ssl ssl-min-ver ssl-max-ver tls-tickets verify verifyhost backup cookie
		disabled error-limit guid ws hash-key id idle-ping init-state maxconn maxqueue
		minconn no-backup no-send-proxy no-send-proxy-v2 no-tfo observe on-error
		on-marked-down on-marked-up pool-conn-name pool-low-conn pool-max-conn
		pool-purge-delay proto proxy-v2-options send-proxy send-proxy-v2
		set-proxy-v2-tlv-fmt shard slowstart source strict-maxconn tfo track usesrc
		weight addr agent-addr agent-check agent-inter agent-port agent-send check
		check-pool-conn-name check-proto check-reuse-pool check-send-proxy
		check-via-socks4 rise fall inter fastinter downinter port`)},
	{name: "3.4", v: model.Version{Major: 3, Minor: 4}, addServer: fields(`
		allow-0rtt alpn ca-file check-alpn check-sni check-ssl ciphers ciphersuites
		client-sigalgs crl-file curves crt force-sslv3 force-tlsv10 force-tlsv11
		force-tlsv12 force-tlsv13 ktls no-check-sni-auto no-renegotiate no-sni-auto
		no-ssl-reuse no-sslv3 no-tlsv10 no-tlsv11 no-tlsv12 no-tlsv13 no-tls-tickets
		npn renegotiate send-proxy-v2-ssl send-proxy-v2-ssl-cn sigalgs sni ssl
		ssl-min-ver ssl-max-ver tls-tickets verify verifyhost backup cookie disabled
		error-limit guid ws hash-key id idle-ping init-state maxconn maxqueue minconn
		no-backup no-send-proxy no-send-proxy-v2 no-tfo observe on-error
		on-marked-down on-marked-up pool-conn-name pool-low-conn pool-max-conn
		pool-purge-delay proto proxy-v2-options send-proxy send-proxy-v2
		set-proxy-v2-tlv-fmt shard slowstart source strict-maxconn tfo track usesrc
		weight healthcheck addr agent-addr agent-check agent-inter agent-port
		agent-send check check-pool-conn-name check-proto check-reuse-pool
		check-send-proxy check-via-socks4 rise fall inter fastinter downinter port`)},
}

// fields splits a keyword list; "a-b/c/d" stands for a-b, a-c and a-d (the
// documentation's "force-sslv3/tlsv10/..." shorthand).
func fields(s string) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		parts := strings.Split(w, "/")
		out = append(out, parts[0])
		if len(parts) > 1 {
			stem := parts[0][:strings.LastIndexByte(parts[0], '-')+1]
			for _, p := range parts[1:] {
				out = append(out, stem+p)
			}
		}
	}
	return out
}

// Releases returns the releases that have data of their own, oldest first
// ("2.6", "2.8", "3.0", "3.2", "3.4").
func Releases() []string {
	out := make([]string, len(releases))
	for i, r := range releases {
		out[i] = r.name
	}
	return out
}

// For returns the runtime API of HAProxy v. Before 2.4 there are no
// dynamic servers. 2.4 and 2.5 are taken as 2.6; a release between two with
// data (2.7, 2.9, 3.1, 3.3) as the older one; a release newer than the
// newest as the newest, and Note says so. The zero Version (unknown) is
// taken as having no dynamic servers, which is always safe: a reload does
// what the runtime API would.
func For(v model.Version) API {
	if !v.AtLeast(2, 4) {
		return API{}
	}
	r := releases[0]
	for _, x := range releases {
		if v.AtLeast(x.v.Major, x.v.Minor) {
			r = x
		}
	}
	a := API{Release: r.name, DynamicServers: true, addServer: r.set}
	minor := strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor)
	switch {
	case minor == r.name:
	case !v.AtLeast(r.v.Major, r.v.Minor):
		a.Note = "HAProxy " + minor + "'s runtime API is taken as " + r.name + "'s"
	case r.name == releases[len(releases)-1].name:
		a.Note = "HAProxy " + minor + " is newer than " + r.name + ", the newest release whose runtime API is known: " + r.name + "'s is used"
	}
	return a
}

// AddServerAccepts reports whether `add server` accepts the setting kw.
func (a API) AddServerAccepts(kw string) bool { return a.addServer[kw] }

// CookieAtRuntime reports whether a server cookie can be given to
// `add server` (3.0 on); before that a server whose cookie matters needs a
// reload.
func (a API) CookieAtRuntime() bool { return a.addServer["cookie"] }

// Refused returns the first setting in a server's options that `add
// server` refuses, or "" when it accepts them all. Settings are the words
// that are not the value of the setting before them.
func (a API) Refused(options string) string {
	f := strings.Fields(options)
	for i, w := range f {
		if a.addServer[w] {
			continue
		}
		if i > 0 && a.addServer[f[i-1]] && !isFlag(f[i-1]) {
			continue // the value of the setting before
		}
		return w
	}
	return ""
}

// isFlag reports whether a server setting stands alone, without a value.
func isFlag(kw string) bool {
	switch kw {
	case "backup", "check", "check-send-proxy", "check-ssl", "check-via-socks4", "disabled", "enabled",
		"no-ssl-reuse", "no-sslv3", "no-tlsv10", "no-tlsv11", "no-tlsv12", "no-tlsv13", "no-tls-tickets",
		"send-proxy", "send-proxy-v2", "send-proxy-v2-ssl", "send-proxy-v2-ssl-cn", "ssl", "tfo", "tls-tickets",
		"force-sslv3", "force-tlsv10", "force-tlsv11", "force-tlsv12", "force-tlsv13",
		"no-backup", "no-send-proxy", "no-send-proxy-v2", "no-tfo", "no-check-sni-auto", "no-sni-auto",
		"no-renegotiate", "renegotiate", "check-reuse-pool", "strict-maxconn":
		return true
	}
	return false
}

// DynamicBalance reports whether a backend balancing with algo (the first
// word after `balance`) takes servers at run time: `add server` needs a
// dynamic algorithm. static-rr is static, and so are the hashing ones
// unless `hash-type consistent` is set; the same in every supported
// release (configuration.txt, "balance").
func (a API) DynamicBalance(algo string, consistentHash bool) bool {
	if !a.DynamicServers {
		return false
	}
	switch {
	case algo == "static-rr":
		return false
	case consistentHash:
		return true
	}
	for _, p := range []string{"source", "uri", "url_param", "hdr", "rdp-cookie", "hash"} {
		if algo == p || strings.HasPrefix(algo, p+"(") {
			return false
		}
	}
	return true
}

// Keywords returns the settings `add server` accepts in release ("3.4"),
// as listed; nil for a release without data of its own.
func Keywords(release string) []string {
	for _, r := range releases {
		if r.name == release {
			return slices.Clone(r.addServer)
		}
	}
	return nil
}
