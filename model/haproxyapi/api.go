// Package haproxyapi holds, as data, what HAProxy's runtime API can do in
// each supported release: whether servers can be added and deleted at run
// time, which server settings `add server` accepts (and so whether a server
// cookie can be set without a reload), and which balance algorithms take
// servers at run time. The planner reads it to choose between the runtime
// API and a reload; the shell reads it (answers.go, and proc.go for the
// master CLI's `show proc`) to understand what the running HAProxy says; so
// do the test helpers, through the same code. The values the shell and the runtime exchange about
// the local HAProxy are here too, so that neither imports the other: what
// the shell saw of it (Observation) and the changes it makes on its admin
// socket (Change).
//
// It is part of the pure core: data and functions of it, no I/O.
package haproxyapi

import (
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
