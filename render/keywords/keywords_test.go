package keywords

import (
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lighthouse/model"
)

// tableOf returns the table of HAProxy major.minor, failing the test when it
// has none of its own.
func tableOf(tb testing.TB, major, minor int) *Table {
	tb.Helper()
	t, note := For(model.Version{Major: major, Minor: minor, Patch: 1})
	if note != "" {
		tb.Fatalf("For(%d.%d.1): note %q", major, minor, note)
	}
	return t
}

// TestMatch checks the 2.6 table, which the Debian package's HAProxy can
// confirm (TestMatchAgreesWithHAProxy).
func TestMatch(t *testing.T) {
	t26 := tableOf(t, 2, 6)
	tests := []struct {
		section Section
		line    string
		want    string
		ok      bool
	}{
		// global
		{Global, "tune.bufsize 32768", "tune.bufsize", true},
		{Global, "nbthread 4", "nbthread", true},
		{Global, "daemon", "daemon", true},
		{Global, "master-worker", "master-worker", true}, // supplement
		{Global, "stats socket /run/haproxy.sock mode 600 level admin", "stats", true},
		{Global, "stats timeout 30s", "stats", true},
		{Global, "log 127.0.0.1 local0", "log", true},
		{Global, "log-send-hostname", "log-send-hostname", true},
		{Global, "no log", "log", true},
		{Global, "no busy-polling", "busy-polling", true},
		{Global, "no daemon", "no daemon", false},
		{Global, "tune.bufsiz 1", "tune.bufsiz", false},
		{Global, "Daemon", "Daemon", false},
		{Global, "option httplog", "option httplog", false},
		{Global, "timeout client 1s", "timeout client", false},
		{Global, "mode http", "mode", false},
		{Global, "no option httplog", "no option httplog", false},

		// defaults
		{Defaults, "mode http", "mode", true},
		{Defaults, "no option http-server-close", "option http-server-close", true},
		{Defaults, "option http-server-close", "option http-server-close", true},
		{Defaults, "no option httplog", "no option httplog", false},
		{Defaults, "option httplog", "option httplog", true},
		{Defaults, "option httpchk GET /", "option httpchk", true},
		{Defaults, "timeout server-fin 1s", "timeout server-fin", true},
		{Defaults, "http-request set-header X-A b", "http-request", true},
		{Defaults, "stick-table type ip size 1k", "stick-table", false},
		{Defaults, "server-template s 1-3 127.0.0.1:80", "server-template", false},
		{Defaults, "bind :80", "bind", false},
		{Defaults, "option bogus", "option bogus", false},
		{Defaults, "no transparent", "no transparent", false},
		{Defaults, "tune.bufsize 1", "tune.bufsize", false},
		{Defaults, "stats show-modules", "stats show-modules", true}, // supplement

		// frontend
		{Frontend, "bind :80", "bind", true},
		{Frontend, "maxconn 100", "maxconn", true},
		{Frontend, "log-format %ci", "log-format", true},
		{Frontend, "log global", "log", true},
		{Frontend, "use_backend b if { path /x }", "use_backend", true},
		{Frontend, "timeout client 1s", "timeout client", true},
		{Frontend, "timeout server 1s", "timeout server", false},
		{Frontend, "timeout server-fin 1s", "timeout server-fin", false},
		{Frontend, "option httpchk GET /", "option httpchk", false},
		{Frontend, "tcp-request connection accept", "tcp-request connection", true},
		{Frontend, "tcp-response content accept", "tcp-response content", false},
		{Frontend, "capture request header Host len 32", "capture request header", true},
		{Frontend, "capture request cookie", "capture request", false},
		{Frontend, "max-session-srv-conns 10", "max-session-srv-conns", true}, // supplement
		{Frontend, "stick on src", "stick on", false},
		{Frontend, "default-server inter 2s", "default-server", false},

		// listen
		{Listen, "server s1 127.0.0.1:80 check", "server", true},
		{Listen, "stick on src", "stick on", true},
		{Listen, "persist rdp-cookie", "persist rdp-cookie", true},
		{Listen, "persist rdp-cookie(mstshash)", "persist rdp-cookie", true},
		{Listen, "persist rdp-cookiex", "persist rdp-cookiex", false},
		{Listen, "http-check set-var(check.x) str(a)", "http-check set-var", true},
		{Listen, "http-check set-var-fmt(check.x) %[src]", "http-check set-var-fmt", true},
		{Listen, "http-check unset-var(check.x)", "http-check unset-var", true},
		{Listen, "http-check sendx", "http-check sendx", false},
		{Listen, "http-check bogus(check.x)", "http-check bogus", false},
		{Listen, "option(x)", "option(x)", false},
		{Listen, "log(x) global", "log(x)", false},

		// backend
		{Backend, "maxconn 100", "maxconn", false},
		{Backend, "fullconn 100", "fullconn", true},
		{Backend, "server-template s 1-3 127.0.0.1:80", "server-template", true},
		{Backend, "timeout server 1s", "timeout server", true},
		{Backend, "timeout server-fin 1s", "timeout server-fin", true},
		{Backend, "timeout client 1s", "timeout client", false},
		{Backend, "tcp-request connection accept", "tcp-request connection", false},
		{Backend, "tcp-request content accept", "tcp-request content", true},
		{Backend, "http-check expect status 200", "http-check expect", true},
		{Backend, "http-check send meth GET", "http-check send", true},
		{Backend, "http-check send-state", "http-check send-state", true},
		{Backend, "no option http-keep-alive", "option http-keep-alive", true},
		{Backend, "dynamic-cookie-key abc", "dynamic-cookie-key", true},   // supplement
		{Backend, "hash-balance-factor 150", "hash-balance-factor", true}, // supplement
		{Backend, "log-format %ci", "log-format", false},
		{Backend, "log global", "log", true},
		{Backend, "use_backend b", "use_backend", false},
		{Backend, "bind :80", "bind", false},

		// whitespace, blank lines, word boundaries
		{Backend, "", "", false},
		{Backend, "   \t ", "", false},
		{Backend, "  \tbalance roundrobin  ", "balance", true},
		{Backend, "timeout\tserver\t1s", "timeout server", true},
		{Backend, "timeout   server-fin    1s", "timeout server-fin", true},
		{Backend, "no", "no", false},
		{Backend, "no   option   redispatch", "option redispatch", true},
		{Backend, "option", "option", false},
		{Backend, "balanceroundrobin", "balanceroundrobin", false},
		{Backend, "Balance roundrobin", "Balance", false},
		{Backend, "option HTTPCHK", "option HTTPCHK", false},
		{Backend, "timeout", "timeout", false},
		{Backend, "timeout serverfin 1s", "timeout serverfin", false},

		// invalid section
		{Section(0), "log global", "log", false},
		{Section(99), "option httplog", "option httplog", false},
	}
	for _, tt := range tests {
		got, ok := t26.Match(tt.section, tt.line)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Match(%v, %q) = %q, %v; want %q, %v", tt.section, tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMatchEveryKeyword(t *testing.T) {
	for _, v := range Releases() {
		tab, _ := For(v)
		for _, s := range Sections() {
			for _, kw := range tab.Keywords(s) {
				if got, ok := tab.Match(s, kw+" arg"); !ok || got != kw {
					t.Errorf("%s: Match(%v, %q) = %q, %v; want %q, true", v, s, kw+" arg", got, ok, kw)
				}
				info, ok := tab.Lookup(s, kw)
				if !ok || info.Keyword != kw {
					t.Errorf("%s: Lookup(%v, %q) = %+v, %v", v, s, kw, info, ok)
				}
				got, ok := tab.Match(s, "no "+kw)
				if info.Negatable != ok {
					t.Errorf("%s: Match(%v, %q) ok = %v, but Lookup says Negatable = %v", v, s, "no "+kw, ok, info.Negatable)
				}
				if ok && got != kw {
					t.Errorf("%s: Match(%v, %q) = %q; want %q", v, s, "no "+kw, got, kw)
				}
				if p := tab.Problem(s, kw+" arg"); p != "" {
					t.Errorf("%s: Problem(%v, %q) = %q", v, s, kw+" arg", p)
				}
			}
		}
	}
}

func TestSections(t *testing.T) {
	want := []string{"global", "defaults", "frontend", "listen", "backend"}
	var got []string
	for _, s := range Sections() {
		got = append(got, s.String())
		if p, ok := ParseSection(s.String()); !ok || p != s {
			t.Errorf("ParseSection(%q) = %v, %v", s.String(), p, ok)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("section names (-want +got):\n%s", diff)
	}
	if s := Section(0).String(); s != "Section(0)" {
		t.Errorf("Section(0).String() = %q", s)
	}
	if _, ok := ParseSection("peers"); ok {
		t.Error(`ParseSection("peers") succeeded`)
	}
}

func TestKeywords(t *testing.T) {
	for _, v := range Releases() {
		tab, _ := For(v)
		for _, s := range Sections() {
			kws := tab.Keywords(s)
			if len(kws) < 50 {
				t.Errorf("%s: Keywords(%v) has only %d entries", v, s, len(kws))
			}
			if !sort.StringsAreSorted(kws) {
				t.Errorf("%s: Keywords(%v) is not sorted", v, s)
			}
			kws[0] = "changed"
			if tab.Keywords(s)[0] == "changed" {
				t.Errorf("%s: Keywords(%v) returns shared storage", v, s)
			}
		}
		if tab.Keywords(Section(0)) != nil {
			t.Errorf("%s: Keywords(Section(0)) != nil", v)
		}
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		section Section
		keyword string
		want    Info
		ok      bool
	}{
		{Defaults, "http-request", Info{Keyword: "http-request", NamedDefaultsOnly: true}, true},
		{Frontend, "http-request", Info{Keyword: "http-request"}, true},
		{Backend, "transparent", Info{Keyword: "transparent", Deprecated: true}, true},
		{Defaults, "option redispatch", Info{Keyword: "option redispatch", Negatable: true}, true},
		{Global, "log", Info{Keyword: "log", Negatable: true}, true},
		{Global, "nbthread", Info{Keyword: "nbthread"}, true},
		{Frontend, "option redispatch", Info{}, false},
		{Backend, "option", Info{}, false},
	}
	t26 := tableOf(t, 2, 6)
	for _, tt := range tests {
		got, ok := t26.Lookup(tt.section, tt.keyword)
		if ok != tt.ok || got != tt.want {
			t.Errorf("Lookup(%v, %q) = %+v, %v; want %+v, %v", tt.section, tt.keyword, got, ok, tt.want, tt.ok)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	lines := []string{
		"timeout server-fin 1s",
		"option httpchk GET /health",
		"http-request set-header X-Forwarded-Proto https if { ssl_fc }",
		"log-format %ci:%cp",
		"no option http-server-close",
		"bogus directive",
	}
	t26, _ := For(model.Version{Major: 2, Minor: 6, Patch: 12})
	for i := 0; i < b.N; i++ {
		t26.Match(Backend, lines[i%len(lines)])
	}
}

func TestFor(t *testing.T) {
	v := func(major, minor, patch int) model.Version {
		return model.Version{Major: major, Minor: minor, Patch: patch}
	}
	tests := []struct {
		v     model.Version
		table model.Version
		note  string
	}{
		{v(2, 6, 12), v(2, 6, 0), ""},
		{v(2, 6, 0), v(2, 6, 0), ""},
		{v(1, 5, 12), v(1, 5, 0), ""},
		{v(3, 4, 7), v(3, 4, 0), ""},
		{v(3, 5, 0), v(3, 4, 0), "HAProxy 3.5 is newer than the newest keyword table (3.4): directives are checked against 3.4's"},
		{v(3, 6, 1), v(3, 4, 0), "HAProxy 3.6 is newer than the newest keyword table (3.4): directives are checked against 3.4's"},
		{v(4, 0, 0), v(3, 4, 0), "HAProxy 4.0 is newer than the newest keyword table (3.4): directives are checked against 3.4's"},
		{v(1, 4, 24), v(1, 5, 0), "HAProxy 1.4 is older than the oldest keyword table (1.5): directives are checked against 1.5's"},
		{v(1, 3, 0), v(1, 5, 0), "HAProxy 1.3 is older than the oldest keyword table (1.5): directives are checked against 1.5's"},
		{v(2, 10, 0), v(2, 9, 0), "HAProxy 2.10 has no keyword table: directives are checked against 2.9's"},
		{model.Version{}, v(3, 4, 0), "the HAProxy version is unknown: directives are checked against the newest keyword table (3.4)"},
	}
	for _, tt := range tests {
		tab, note := For(tt.v)
		if tab.Release() != tt.table || note != tt.note {
			t.Errorf("For(%v) = %v, %q; want %v, %q", tt.v, tab.Release(), note, tt.table, tt.note)
		}
	}
}

// TestReleasesDiffer checks keywords that some releases have and others do
// not, against the documents: "guid" (proxies) from 3.0, "nbproc" until
// 2.4, "http-after-response" from 2.2, the req*/rsp* family until 2.0.
func TestReleasesDiffer(t *testing.T) {
	tests := []struct {
		section  Section
		line     string
		accepted []string // minor releases that accept line; all others reject it
	}{
		{Backend, "guid be-web", []string{"3.0", "3.1", "3.2", "3.3", "3.4"}},
		{Global, "nbproc 2", []string{"1.5", "1.6", "1.7", "1.8", "1.9", "2.0", "2.1", "2.2", "2.3", "2.4"}},
		{Backend, "http-after-response set-header X-A b", []string{"2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "3.0", "3.1", "3.2", "3.3", "3.4"}},
		{Frontend, "reqadd X-A:\\ b", []string{"1.5", "1.6", "1.7", "1.8", "1.9", "2.0"}},
		{Frontend, "stick-table type ip size 1k", []string{"1.5", "1.6", "1.7", "1.8", "1.9", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "3.0", "3.1", "3.2", "3.3", "3.4"}},
	}
	for _, tt := range tests {
		want := map[string]bool{}
		for _, r := range tt.accepted {
			want[r] = true
		}
		for _, v := range Releases() {
			tab, _ := For(v)
			r := minor(v)
			if _, ok := tab.Match(tt.section, tt.line); ok != want[r] {
				t.Errorf("%s: Match(%v, %q) ok = %v, want %v", r, tt.section, tt.line, ok, want[r])
			}
		}
	}
}

func TestProblem(t *testing.T) {
	tests := []struct {
		major, minor int
		section      Section
		line         string
		want         string
	}{
		{2, 6, Backend, "guid be-web", `"guid" is not a valid directive in a backend section of HAProxy 2.6 (it is accepted from 3.0 on)`},
		{3, 0, Backend, "guid be-web", ``},
		{2, 0, Backend, "http-after-response set-header X-A b", `"http-after-response" is not a valid directive in a backend section of HAProxy 2.0 (it is accepted from 2.2 on)`},
		{2, 4, Global, "nbproc 2", ``},
		{2, 5, Global, "nbproc 2", `"nbproc" is not a valid directive in a global section of HAProxy 2.5 (it was removed in 2.5)`},
		{3, 4, Global, "nbproc 2", `"nbproc" is not a valid directive in a global section of HAProxy 3.4 (it was removed in 2.5)`},
		{2, 6, Backend, "bind :80", `"bind" is not a valid directive in a backend section of HAProxy 2.6 (it is accepted in frontend and listen sections)`},
		{2, 6, Global, "mode http", `"mode" is not a valid directive in a global section of HAProxy 2.6 (it is accepted in defaults, frontend, listen and backend sections)`},
		{2, 6, Global, "no daemon", `"no daemon" is not a valid directive in a global section of HAProxy 2.6 (it cannot be negated)`},
		{2, 0, Global, "no strict-limits", `"no strict-limits" is not a valid directive in a global section of HAProxy 2.0 (it is accepted from 2.1 on)`},
		{2, 2, Defaults, "http-after-response set-header X-A b", `"http-after-response" is not a valid directive in a defaults section of HAProxy 2.2 (it is accepted from 2.5 on; HAProxy 2.2 accepts it in frontend, listen and backend sections)`},
		{2, 6, Backend, "option http-drop-request-trailers", `"option http-drop-request-trailers" is not a valid directive in a backend section of HAProxy 2.6 (it is accepted from 3.2 on)`},
		{2, 8, Global, "tune.h2.be.initial-window-size 65536", ``},
		{2, 6, Global, "tune.h2.be.initial-window-size 65536", `"tune.h2.be.initial-window-size" is not a valid directive in a global section of HAProxy 2.6 (it is accepted from 2.8 on)`},
		{2, 7, Global, "trace h2 sink stderr", ``},
		{3, 2, Global, "trace h2 sink stderr", `"trace" is not a valid directive in a global section of HAProxy 3.2 (it was removed in 3.2)`},
		{1, 5, Global, "tune.h2.max-frame-size 16384", `"tune.h2.max-frame-size" is not a valid directive in a global section of HAProxy 1.5 (it is accepted from 2.0 on)`},
		{1, 5, Global, "appsession JSESSIONID len 52 timeout 3h", `"appsession" is not a valid directive in a global section of HAProxy 1.5 (it is accepted in listen and backend sections)`},
		{2, 6, Listen, "appsession JSESSIONID len 52 timeout 3h", `"appsession" is not a valid directive in a listen section of HAProxy 2.6 (it was removed in 1.6)`},
		{2, 6, Backend, "bogus", `"bogus" is not a valid directive in a backend section of HAProxy 2.6`},
		{2, 6, Backend, "option bogus", `"option bogus" is not a valid directive in a backend section of HAProxy 2.6`},
	}
	for _, tt := range tests {
		tab := tableOf(t, tt.major, tt.minor)
		if got := tab.Problem(tt.section, tt.line); got != tt.want {
			t.Errorf("%d.%d: Problem(%v, %q) =\n %s\nwant\n %s", tt.major, tt.minor, tt.section, tt.line, got, tt.want)
		}
	}
}
