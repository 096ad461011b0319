package render

import "strings"

// serverKeywords are the settings HAProxy 2.6 accepts on a server line
// (configuration.txt §5.2, "Server and default-server options"). Only the
// first word of a cluster's server_options is looked up: the rest are
// values and further settings, which `haproxy -c` checks.
var serverKeywords = wordSet(`
		addr agent-addr agent-check agent-inter agent-port agent-send allow-0rtt alpn
		backup ca-file check check-alpn check-proto check-send-proxy check-sni check-ssl
		check-via-socks4 ciphers ciphersuites cookie crl-file crt disabled downinter enabled
		error-limit fall fastinter force-sslv3 force-tlsv10 force-tlsv11 force-tlsv12
		force-tlsv13 id init-addr inter log-proto max-reuse maxconn maxqueue minconn
		namespace no-agent-check no-backup no-check no-check-ssl no-send-proxy
		no-send-proxy-v2 no-send-proxy-v2-ssl no-send-proxy-v2-ssl-cn no-ssl no-ssl-reuse
		no-sslv3 no-tfo no-tls-tickets no-tlsv10 no-tlsv11 no-tlsv12 no-tlsv13
		no-verifyhost non-stick npn observe on-error on-marked-down on-marked-up
		pool-low-conn pool-max-conn pool-purge-delay port proto proxy-v2-options redir
		resolve-net resolve-opts resolve-prefer resolvers rise send-proxy send-proxy-v2
		send-proxy-v2-ssl send-proxy-v2-ssl-cn slowstart sni socks4 source ssl ssl-max-ver
		ssl-min-ver ssl-reuse stick tcp-ut tfo tls-tickets track verify verifyhost weight ws`)

// wordSet is the set of the words of a text.
func wordSet(text string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.Fields(text) {
		set[w] = true
	}
	return set
}

// checkServerOptions returns why a cluster's server_options cannot be
// appended to its server lines, or "".
func checkServerOptions(opts string) string {
	if msg := checkText(opts); msg != "" {
		return msg
	}
	if msg := checkQuotes(opts); msg != "" {
		return msg
	}
	first, _, _ := strings.Cut(opts, " ")
	if !serverKeywords[first] {
		return "\"" + first + "\" is not a server setting of HAProxy 2.6 (such as check, inter, weight, maxconn, backup)"
	}
	return ""
}
