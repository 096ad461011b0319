package haproxyapi

import (
	"slices"
	"strconv"
	"strings"

	"lighthouse/model"
)

// release is the data of one release; releases lists them oldest first.
type release struct {
	name      string
	v         model.Version
	addServer []string        // `add server` settings, "a/b/c" expanded to a, b, c
	set       map[string]bool // the same, to look up
}

// newRelease is the data of release major.minor, whose `add server`
// accepts the settings addServer.
func newRelease(major, minor int, addServer []string) release {
	set := make(map[string]bool, len(addServer))
	for _, k := range addServer {
		set[k] = true
	}
	return release{name: strconv.Itoa(major) + "." + strconv.Itoa(minor), v: model.Version{Major: major, Minor: minor}, addServer: addServer, set: set}
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
	newRelease(2, 6, addServer26),
	newRelease(2, 8, addServer26),
	newRelease(3, 0, append(slices.DeleteFunc(slices.Clone(addServer26),
		func(kw string) bool { return kw == "enabled" }), "cookie")),
	newRelease(3, 2, fields(`
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
		check-via-socks4 rise fall inter fastinter downinter port`)),
	newRelease(3, 4, fields(`
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
		check-send-proxy check-via-socks4 rise fall inter fastinter downinter port`)),
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
