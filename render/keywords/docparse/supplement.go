package docparse

import "fmt"

// Addition is a hand-maintained supplement entry: a keyword, or sections of a
// keyword, that the releases From to To accept but that the global keyword
// list (chapter 3) or the proxy keywords matrix (§4.1) of their
// configuration.txt omits. A name may have several entries whose ranges do
// not overlap.
type Addition struct {
	Name string
	// From is the first release the entry applies to; To is the last, or
	// zero for every release from From on.
	From, To Release
	In       Set // sections to add
	// Negatable holds the sections where "no <Name>" is accepted; each must
	// accept the keyword, from In or from the documentation.
	Negatable  Set
	Deprecated bool // the documentation marks the keyword deprecated
	// Build is the option of HAProxy's build (as in the "Feature list" of
	// haproxy -vv, e.g. "QUIC") without which HAProxy does not know the
	// keyword; "" when any build knows it.
	Build string
	// Example holds the lines that show the entry holds: any lines the
	// directive needs before it in the same section, then the directive
	// with real arguments (negated when the entry only adds Negatable). The
	// supplement test runs it through "haproxy -c" of every installed
	// release in the range, in each section the entry adds. Nil when no
	// installable release can check it; the comment says why.
	Example []string
}

// appliesTo reports whether the entry covers release r.
func (a Addition) appliesTo(r Release) bool {
	return !r.Before(a.From) && (a.To.IsZero() || !a.To.Before(r))
}

// supplement lists what the generator adds to the parsed documentation.
//
// "Verified" means: "haproxy -c -f <file>" of that release, on a minimal
// config holding the Example in each listed section, exits 0 without a
// warning about the line, and a proxy section left out gets an error or a
// "has no frontend/backend capability" warning. The releases checked are
// Debian's 2.6.12 and upstream builds of 2.8, 3.0, 3.2 and 3.4 (the test in
// supplement_test.go re-runs every Example). Other releases in a range rest
// on their documentation: the keyword is described in §3 (global keywords)
// or §4.2 (proxy keywords) of each one's configuration.txt. merge rejects
// an entry for a release whose lists already have it, so that the ranges
// end where the documentation catches up.
var supplement = []Addition{
	// Global keywords described in §3.1 to §3.3 but missing from the
	// keyword list at the start of chapter 3.
	{Name: "cpu-map", In: Global, From: Release{1, 5}, To: Release{1, 5}},                    // listed from 1.6
	{Name: "log-tag", In: Global, From: Release{1, 5}, To: Release{1, 5}},                    // listed from 1.6
	{Name: "maxzlibmem", In: Global, From: Release{1, 5}, To: Release{1, 5}},                 // listed from 1.6
	{Name: "ssl-default-bind-ciphers", In: Global, From: Release{1, 5}, To: Release{1, 5}},   // listed from 1.6
	{Name: "ssl-default-server-ciphers", In: Global, From: Release{1, 5}, To: Release{1, 5}}, // listed from 1.6
	{Name: "wurfl-patch-file", In: Global, From: Release{1, 7}, Build: "WURFL", Example: []string{"wurfl-patch-file /dev/null"}},
	{Name: "master-worker", In: Global, From: Release{1, 8}, To: Release{3, 2}, Example: []string{"master-worker"}},
	// 3.3 deprecates it (3.4 warns "deprecated in 3.3 and will be removed in 3.5").
	{Name: "master-worker", In: Global, From: Release{3, 3}, Deprecated: true, Example: []string{"master-worker"}},
	{Name: "tune.fail-alloc", In: Global, From: Release{2, 0}, To: Release{2, 7}, Example: []string{"tune.fail-alloc 0"}},
	{Name: "tune.h2.max-frame-size", In: Global, From: Release{2, 0}, To: Release{2, 8}, Example: []string{"tune.h2.max-frame-size 16384"}},
	{Name: "tune.listener.multi-queue", In: Global, From: Release{2, 0}, Example: []string{"tune.listener.multi-queue on"}},
	{Name: "tune.pool-high-fd-ratio", In: Global, From: Release{2, 0}, To: Release{2, 1}}, // listed from 2.2
	{Name: "tune.pool-low-fd-ratio", In: Global, From: Release{2, 0}, To: Release{2, 1}},  // listed from 2.2
	{Name: "ssl-load-extra-files", In: Global, From: Release{2, 2}, Example: []string{"ssl-load-extra-files none"}},
	{Name: "ssl-load-extra-del-ext", In: Global, From: Release{2, 3}, Example: []string{"ssl-load-extra-del-ext"}},
	{Name: "profiling.memory", In: Global, From: Release{2, 4}, To: Release{3, 1}, Build: "MEMORY_PROFILING", Example: []string{"profiling.memory on"}},
	{Name: "set-var-fmt", In: Global, From: Release{2, 5}, Example: []string{"set-var-fmt proc.x %[date]"}},
	{Name: "thread-group", In: Global, From: Release{2, 5}, Example: []string{"nbthread 2", "thread-groups 1", "thread-group 1 1-2"}},
	{Name: "thread-groups", In: Global, From: Release{2, 5}, Example: []string{"thread-groups 1"}},
	{Name: "close-spread-time", In: Global, From: Release{2, 6}, Example: []string{"close-spread-time 1s"}},
	{Name: "quick-exit", In: Global, From: Release{2, 7}, Example: []string{"quick-exit"}},
	// Experimental; from 3.2 on "trace" belongs to the "traces" section.
	{Name: "trace", In: Global, From: Release{2, 7}, To: Release{3, 1}, Example: []string{"expose-experimental-directives", "trace h2 sink stderr"}},
	{Name: "tune.h2.be.initial-window-size", In: Global, From: Release{2, 8}, To: Release{2, 8}, Example: []string{"tune.h2.be.initial-window-size 65536"}},
	{Name: "tune.h2.be.max-concurrent-streams", In: Global, From: Release{2, 8}, To: Release{2, 8}, Example: []string{"tune.h2.be.max-concurrent-streams 100"}},
	{Name: "tune.h2.fe.initial-window-size", In: Global, From: Release{2, 8}, To: Release{2, 8}, Example: []string{"tune.h2.fe.initial-window-size 65536"}},
	{Name: "tune.h2.fe.max-concurrent-streams", In: Global, From: Release{2, 8}, To: Release{2, 8}, Example: []string{"tune.h2.fe.max-concurrent-streams 100"}},
	{Name: "tune.listener.default-shards", In: Global, From: Release{2, 8}, Example: []string{"tune.listener.default-shards by-process"}},
	{Name: "tune.lua.burst-timeout", In: Global, From: Release{2, 8}, To: Release{3, 1}, Build: "LUA", Example: []string{"tune.lua.burst-timeout 1000"}},
	// 2.8 to 3.2 know it without QUIC support; 3.3 lists it.
	{Name: "no-quic", In: Global, From: Release{2, 8}, To: Release{3, 2}, Example: []string{"no-quic"}},
	{Name: "limited-quic", In: Global, From: Release{2, 9}, To: Release{3, 2}, Example: []string{"limited-quic"}},
	{Name: "setcap", In: Global, From: Release{2, 9}, Example: []string{"setcap cap_net_bind_service"}},
	{Name: "http-err-codes", In: Global, From: Release{3, 0}, Example: []string{"http-err-codes 400"}},
	{Name: "http-fail-codes", In: Global, From: Release{3, 0}, Example: []string{"http-fail-codes 500"}},
	{Name: "thread-hard-limit", In: Global, From: Release{3, 0}, Example: []string{"thread-hard-limit 64"}},
	{Name: "force-cfg-parser-pause", In: Global, From: Release{3, 1}, To: Release{3, 1}}, // experimental; listed from 3.2
	{Name: "tune.quic.cc.cubic.min-losses", In: Global, From: Release{3, 1}, To: Release{3, 2}, Build: "QUIC", Example: []string{"tune.quic.cc.cubic.min-losses 1"}},
	{Name: "acme.scheduler", In: Global, From: Release{3, 2}, Example: []string{"acme.scheduler auto"}},
	{Name: "stress-level", In: Global, From: Release{3, 2}, Example: []string{"stress-level 0"}},
	{Name: "tune.glitches.kill.cpu-usage", In: Global, From: Release{3, 2}, Example: []string{"tune.glitches.kill.cpu-usage 50"}},
	{Name: "tune.notsent-lowat.client", In: Global, From: Release{3, 2}, Example: []string{"tune.notsent-lowat.client 16384"}},
	{Name: "tune.notsent-lowat.server", In: Global, From: Release{3, 2}, Example: []string{"tune.notsent-lowat.server 16384"}},
	{Name: "shm-stats-file", In: Global, From: Release{3, 3}, Example: []string{"shm-stats-file /dev/shm/lighthouse-keywords-test"}},
	{Name: "shm-stats-file-max-objects", In: Global, From: Release{3, 3}, Example: []string{"shm-stats-file-max-objects 1000"}},
	{Name: "ssl-passphrase-cmd", In: Global, From: Release{3, 3}, Example: []string{"ssl-passphrase-cmd /bin/true"}},
	{Name: "tune.quic.frontend.glitches-threshold", In: Global, From: Release{3, 3}, Deprecated: true, Build: "QUIC", Example: []string{"tune.quic.frontend.glitches-threshold 10"}},
	{Name: "tune.h2.log-errors", In: Global, From: Release{3, 4}, Example: []string{"tune.h2.log-errors none"}},

	// Global keywords that HAProxy registers (listed by "haproxy -dKcfg")
	// but whose configuration.txt does not document them.
	// Undocumented in every release; releases before 2.6 are unchecked.
	{Name: "tune.vars.check-max-size", In: Global, From: Release{2, 6}, Example: []string{"tune.vars.check-max-size 100"}},
	// Documented by later 2.6.x releases; listed from 2.7.
	{Name: "tune.peers.max-updates-at-once", In: Global, From: Release{2, 6}, To: Release{2, 6}, Example: []string{"tune.peers.max-updates-at-once 200"}},

	// Global keywords that accept a leading "no". Every release that could
	// be checked (2.6 to 3.4) rejects "no" on any other global keyword with
	// "negation/default currently supported only for options, log,
	// busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and
	// numa-cpu-mapping"; each entry starts with the keyword.
	{Name: "log", Negatable: Global, From: Release{1, 5}, Example: []string{"no log"}},
	{Name: "busy-polling", In: Global, Negatable: Global, From: Release{1, 9}, To: Release{2, 0}}, // described in §3 of 1.9 and 2.0, listed from 2.1
	{Name: "busy-polling", Negatable: Global, From: Release{2, 1}, Example: []string{"no busy-polling"}},
	{Name: "set-dumpable", Negatable: Global, From: Release{2, 0}, Example: []string{"no set-dumpable"}},
	{Name: "strict-limits", Negatable: Global, From: Release{2, 1}, Example: []string{"no strict-limits"}},
	{Name: "insecure-fork-wanted", Negatable: Global, From: Release{2, 2}, Example: []string{"no insecure-fork-wanted"}},
	{Name: "numa-cpu-mapping", Negatable: Global, From: Release{2, 4}, Example: []string{"no numa-cpu-mapping"}},

	// Proxy keywords described in §4.2 but missing from the §4.1 matrix. The
	// sections are those of the keyword's "May be used in sections" line,
	// except where noted. Sections left out were checked to warn "has no
	// frontend/backend capability" (2.6 to 3.4).

	// 1.5's matrix omits them; 1.6's matrix gives these sections.
	{Name: "log-format", In: Defaults | Frontend | Listen, From: Release{1, 5}, To: Release{1, 5}},
	{Name: "option prefer-last-server", In: Defaults | Listen | Backend, Negatable: Defaults | Listen | Backend, From: Release{1, 5}, To: Release{1, 5}},
	// §4.2 says defaults and backend only; listen sections have the backend
	// capability and accept it. (A frontend accepts it silently, to no
	// effect.) In the matrix from 3.0.
	{Name: "hash-balance-factor", In: Defaults | Listen | Backend, From: Release{1, 7}, To: Release{2, 9}, Example: []string{"hash-balance-factor 150"}},
	{Name: "dynamic-cookie-key", In: Defaults | Listen | Backend, From: Release{1, 8}, Example: []string{"dynamic-cookie-key abc"}},
	// In the matrix from 2.9.
	{Name: "max-session-srv-conns", In: Defaults | Frontend | Listen, From: Release{1, 9}, To: Release{2, 8}, Example: []string{"max-session-srv-conns 10"}},
	{Name: "stats show-modules", In: Defaults | Frontend | Listen | Backend, From: Release{2, 3}, Example: []string{"stats show-modules"}},
	{Name: "http-check set-var-fmt", In: Defaults | Listen | Backend, From: Release{2, 5}, Example: []string{"option httpchk", "http-check set-var-fmt(check.x) %[src]"}},
	{Name: "tcp-check set-var-fmt", In: Defaults | Listen | Backend, From: Release{2, 5}, Example: []string{"option tcp-check", "tcp-check set-var-fmt(check.x) %[src]"}},
	// From 3.1 the matrix lists neither the old names (deprecated: 3.2 and
	// 3.4 warn, and reject "no option accept-invalid-http-request") nor the
	// new ones.
	{Name: "option accept-invalid-http-request", In: Defaults | Frontend | Listen, From: Release{3, 1}, Deprecated: true, Example: []string{"option accept-invalid-http-request"}},
	{Name: "option accept-invalid-http-response", In: Defaults | Listen | Backend, From: Release{3, 1}, Deprecated: true, Example: []string{"option accept-invalid-http-response"}},
	{Name: "option accept-unsafe-violations-in-http-request", In: Defaults | Frontend | Listen, Negatable: Defaults | Frontend | Listen, From: Release{3, 1},
		Example: []string{"option accept-unsafe-violations-in-http-request", "no option accept-unsafe-violations-in-http-request"}},
	{Name: "option accept-unsafe-violations-in-http-response", In: Defaults | Listen | Backend, Negatable: Defaults | Listen | Backend, From: Release{3, 1},
		Example: []string{"option accept-unsafe-violations-in-http-response", "no option accept-unsafe-violations-in-http-response"}},
	// 3.2 and 3.4 parse it in a frontend (the check fails only on the
	// certificate file); not run here for want of a certificate.
	{Name: "ssl-f-use", In: Frontend | Listen, From: Release{3, 2}},

	// Sections the matrix leaves out, though 3.2 and 3.4 accept them there
	// without a warning: listen sections have the backend capability, and
	// response trailers are dropped by a frontend.
	{Name: "option http-drop-request-trailers", In: Listen, Negatable: Listen, From: Release{3, 2}, Example: []string{"option http-drop-request-trailers", "no option http-drop-request-trailers"}},
	{Name: "option http-drop-response-trailers", In: Frontend, Negatable: Frontend, From: Release{3, 2}, Example: []string{"option http-drop-response-trailers", "no option http-drop-response-trailers"}},

	// Sections that the matrix leaves out but the keyword's own "May be
	// used in sections" line of §4.2 gives, until a later matrix has them.
	// stick-table in a frontend is the classic 1.5 per-client rate limit.
	{Name: "stick-table", In: Frontend, From: Release{1, 5}, To: Release{1, 7}},
	{Name: "http-check expect", In: Defaults, From: Release{1, 5}, To: Release{2, 1}},
	{Name: "http-send-name-header", In: Defaults, From: Release{1, 5}, To: Release{2, 7}, Example: []string{"http-send-name-header X-Server"}},
	// Missing from §4.2 too; 2.6.x's own documentation and 2.8's matrix have
	// these sections.
	{Name: "option spop-check", In: Defaults | Listen, From: Release{2, 6}, To: Release{2, 7}, Example: []string{"option spop-check"}},
}

// merge adds the supplement entries that apply to release r to byName. An
// entry that the documentation already covers is an error, so that the
// supplement shrinks when the documentation catches up.
func merge(byName map[string]*Entry, sup []Addition, r Release) error {
	seen := map[string]bool{}
	for _, a := range sup {
		if err := a.check(); err != nil {
			return err
		}
		if !a.appliesTo(r) {
			continue
		}
		if seen[a.Name] {
			return fmt.Errorf("supplement: %q has two entries for %s", a.Name, r)
		}
		seen[a.Name] = true
		e := entry(byName, a.Name)
		in := e.In | a.In
		if a.Negatable&^in != 0 {
			return fmt.Errorf("supplement: %q is negatable in a section that does not accept it in %s", a.Name, r)
		}
		if in == e.In && a.Negatable|e.Negatable == e.Negatable && (!a.Deprecated || e.Deprecated) {
			return fmt.Errorf("supplement: %q adds nothing the documentation of %s lacks; end its range earlier", a.Name, r)
		}
		e.In = in
		e.Negatable |= a.Negatable
		e.Deprecated = e.Deprecated || a.Deprecated
	}
	return nil
}

// check reports what is wrong with the entry itself, whatever the release.
func (a Addition) check() error {
	switch {
	case !keywordRe.MatchString(a.Name):
		return fmt.Errorf("supplement: malformed keyword %q", a.Name)
	case a.In&^(Global|Proxies) != 0 || a.Negatable&^(Global|Proxies) != 0:
		return fmt.Errorf("supplement: %q: unknown section bits", a.Name)
	case a.In == 0 && a.Negatable == 0:
		return fmt.Errorf("supplement: %q adds no section", a.Name)
	case a.From.IsZero():
		return fmt.Errorf("supplement: %q has no first release", a.Name)
	case !a.To.IsZero() && a.To.Before(a.From):
		return fmt.Errorf("supplement: %q ends (%s) before it starts (%s)", a.Name, a.To, a.From)
	}
	return nil
}
