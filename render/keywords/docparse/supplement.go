package docparse

// Addition is a hand-maintained supplement entry: a keyword, or sections of a
// keyword, that HAProxy 2.6 accepts but that the global keyword list (chapter
// 3) or the proxy keywords matrix (§4.1) of configuration.txt omits.
type Addition struct {
	Name      string
	In        Set // sections to add
	Negatable Set // sections where "no <Name>" is accepted
}

// supplement lists what the generator adds to the parsed documentation.
//
// Every entry was verified against HAProxy 2.6.12 (Debian 2.6.12-1+deb12u4)
// with "haproxy -c -dW -f <file>" on a minimal config holding the directive
// with real arguments: exit 0 in each listed section, and an error or a
// "has no frontend/backend capability" warning in the proxy sections left out.
// merge rejects entries that the documentation already covers.
var supplement = []Addition{
	// Global keywords described in §3.1 / §3.2 but missing from the keyword
	// list at the start of chapter 3.
	{Name: "close-spread-time", In: Global},         // verified with haproxy -c: "close-spread-time 1s"
	{Name: "master-worker", In: Global},             // verified with haproxy -c: "master-worker", "master-worker no-exit-on-failure"
	{Name: "set-var-fmt", In: Global},               // verified with haproxy -c: "set-var-fmt proc.x %[date]"
	{Name: "ssl-load-extra-del-ext", In: Global},    // verified with haproxy -c: "ssl-load-extra-del-ext"
	{Name: "ssl-load-extra-files", In: Global},      // verified with haproxy -c: "ssl-load-extra-files none"
	{Name: "thread-group", In: Global},              // verified with haproxy -c: "thread-groups 1" + "thread-group 1 1-2" with "nbthread 2"
	{Name: "thread-groups", In: Global},             // verified with haproxy -c: "thread-groups 1"
	{Name: "tune.h2.max-frame-size", In: Global},    // verified with haproxy -c: "tune.h2.max-frame-size 16384"
	{Name: "tune.listener.multi-queue", In: Global}, // verified with haproxy -c: "tune.listener.multi-queue on"

	// Global keyword registered by HAProxy 2.6 (listed by "haproxy -dKcfg")
	// but not documented in its configuration.txt.
	{Name: "tune.vars.check-max-size", In: Global}, // verified with haproxy -c: "tune.vars.check-max-size 100"

	// Global keywords that accept a leading "no". HAProxy 2.6 rejects "no"
	// on any other global keyword with "negation/default currently supported
	// only for options, log, busy-polling, set-dumpable, strict-limits,
	// insecure-fork-wanted and numa-cpu-mapping".
	{Name: "busy-polling", Negatable: Global},         // verified with haproxy -c: "no busy-polling"
	{Name: "insecure-fork-wanted", Negatable: Global}, // verified with haproxy -c: "no insecure-fork-wanted"
	{Name: "log", Negatable: Global},                  // verified with haproxy -c: "no log"
	{Name: "numa-cpu-mapping", Negatable: Global},     // verified with haproxy -c: "no numa-cpu-mapping"
	{Name: "set-dumpable", Negatable: Global},         // verified with haproxy -c: "no set-dumpable"
	{Name: "strict-limits", Negatable: Global},        // verified with haproxy -c: "no strict-limits"

	// Proxy keywords described in §4.2 but missing from the §4.1 matrix. The
	// sections are those of the keyword's "May be used in sections" line,
	// except where noted.

	// verified with haproxy -c: "dynamic-cookie-key abc"; a frontend warns
	// "ignored because frontend 'f' has no backend capability".
	{Name: "dynamic-cookie-key", In: Defaults | Listen | Backend},
	// verified with haproxy -c: "hash-balance-factor 150". §4.2 says
	// defaults and backend only; listen is added because listen sections
	// have the backend capability and 2.6 accepts it there. (2.6 also
	// accepts it silently in a frontend, where it has no effect.)
	{Name: "hash-balance-factor", In: Defaults | Listen | Backend},
	// verified with haproxy -c: "option httpchk" + "http-check
	// set-var-fmt(check.x) %[src]"; a frontend warns "no backend capability".
	{Name: "http-check set-var-fmt", In: Defaults | Listen | Backend},
	// verified with haproxy -c: "max-session-srv-conns 10"; a backend warns
	// "ignored because backend 'b' has no frontend capability".
	{Name: "max-session-srv-conns", In: Defaults | Frontend | Listen},
	// verified with haproxy -c: "stats show-modules".
	{Name: "stats show-modules", In: Defaults | Frontend | Listen | Backend},
	// verified with haproxy -c: "option tcp-check" + "tcp-check
	// set-var-fmt(check.x) %[src]"; a frontend warns "no backend capability".
	{Name: "tcp-check set-var-fmt", In: Defaults | Listen | Backend},
}
