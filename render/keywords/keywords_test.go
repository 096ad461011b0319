package keywords

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lighthouse/render/keywords/docparse"
)

const docPath = "/usr/share/doc/haproxy/configuration.txt.gz"

func TestMatch(t *testing.T) {
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
		got, ok := Match(tt.section, tt.line)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Match(%v, %q) = %q, %v; want %q, %v", tt.section, tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMatchEveryKeyword(t *testing.T) {
	for _, s := range Sections() {
		for _, kw := range Keywords(s) {
			if got, ok := Match(s, kw+" arg"); !ok || got != kw {
				t.Errorf("Match(%v, %q) = %q, %v; want %q, true", s, kw+" arg", got, ok, kw)
			}
			info, ok := Lookup(s, kw)
			if !ok || info.Keyword != kw {
				t.Errorf("Lookup(%v, %q) = %+v, %v", s, kw, info, ok)
			}
			got, ok := Match(s, "no "+kw)
			if info.Negatable != ok {
				t.Errorf("Match(%v, %q) ok = %v, but Lookup says Negatable = %v", s, "no "+kw, ok, info.Negatable)
			}
			if ok && got != kw {
				t.Errorf("Match(%v, %q) = %q; want %q", s, "no "+kw, got, kw)
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
	for _, s := range Sections() {
		kws := Keywords(s)
		if len(kws) < 100 {
			t.Errorf("Keywords(%v) has only %d entries", s, len(kws))
		}
		if !sort.StringsAreSorted(kws) {
			t.Errorf("Keywords(%v) is not sorted", s)
		}
		kws[0] = "changed"
		if Keywords(s)[0] == "changed" {
			t.Errorf("Keywords(%v) returns shared storage", s)
		}
	}
	if Keywords(Section(0)) != nil {
		t.Error("Keywords(Section(0)) != nil")
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
	for _, tt := range tests {
		got, ok := Lookup(tt.section, tt.keyword)
		if ok != tt.ok || got != tt.want {
			t.Errorf("Lookup(%v, %q) = %+v, %v; want %+v, %v", tt.section, tt.keyword, got, ok, tt.want, tt.ok)
		}
	}
}

// TestTableUpToDate re-runs the generator's parser on the installed
// configuration.txt and checks that table_gen.go is what it would write.
func TestTableUpToDate(t *testing.T) {
	f, err := os.Open(docPath)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s not installed", docPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	text, err := docparse.Read(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	d, err := docparse.Build(text)
	if err != nil {
		t.Fatal(err)
	}

	bits := map[docparse.Set]sectionSet{
		docparse.Global: inGlobal, docparse.Defaults: inDefaults, docparse.Frontend: inFrontend,
		docparse.Listen: inListen, docparse.Backend: inBackend,
	}
	conv := func(s docparse.Set) sectionSet {
		var out sectionSet
		for b, o := range bits {
			if s&b != 0 {
				out |= o
			}
		}
		return out
	}
	var want []spec
	for _, e := range d.Entries {
		want = append(want, spec{
			name: e.Name, in: conv(e.In), neg: conv(e.Negatable), paren: e.Paren,
			namedDefaultsOnly: e.NamedDefaultsOnly, deprecated: e.Deprecated,
		})
	}
	if diff := cmp.Diff(want, table[:], cmp.AllowUnexported(spec{})); diff != "" {
		t.Errorf("table_gen.go is stale; run go generate ./render/keywords (-doc +table):\n%s", diff)
	}
	if d.Version != DocVersion {
		t.Errorf("DocVersion = %q, document says %q", DocVersion, d.Version)
	}

	src, err := docparse.Generate(d)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("table_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, committed) {
		t.Errorf("table_gen.go differs from the generator's output; run go generate ./render/keywords:\n%s",
			cmp.Diff(string(src), string(committed)))
	}
}

// TestMatchAgreesWithHAProxy checks Match's verdict against "haproxy -c" for
// directives with real arguments. Zero-warning mode (-dW) is used because
// HAProxy 2.6 accepts many misplaced proxy keywords with only a "has no
// backend capability" warning; the baseline config below has no warnings.
func TestMatchAgreesWithHAProxy(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy not on PATH")
	}
	tests := []struct {
		section Section
		pre     []string // lines the directive needs before it in the same section
		line    string
		valid   bool
	}{
		{section: Global, line: "nbthread 2", valid: true},
		{section: Global, line: "tune.bufsize 32768", valid: true},
		{section: Global, line: "master-worker", valid: true},
		{section: Global, line: "no busy-polling", valid: true},
		{section: Global, line: "no daemon", valid: false},
		{section: Global, line: "stats timeout 10s", valid: true},
		{section: Global, line: "log-send-hostname", valid: true},
		{section: Global, line: "tune.vars.check-max-size 100", valid: true},
		{section: Global, line: "option httplog", valid: false},
		{section: Global, line: "timeout client 1s", valid: false},
		{section: Defaults, line: "no option http-server-close", valid: true},
		{section: Defaults, line: "no option httplog", valid: false},
		{section: Defaults, line: "option httpchk GET /", valid: true},
		{section: Defaults, line: "http-request set-header X-A b", valid: true},
		{section: Defaults, line: "stick-table type ip size 1k", valid: false},
		{section: Defaults, line: "server-template s 1-3 127.0.0.1:80", valid: false},
		{section: Defaults, line: "stats show-modules", valid: true},
		{section: Frontend, line: "maxconn 100", valid: true},
		{section: Frontend, line: "timeout server 1s", valid: false},
		{section: Frontend, line: "option httpchk GET /", valid: false},
		{section: Frontend, line: "http-request deny if { path /x }", valid: true},
		{section: Frontend, line: "tcp-response content accept", valid: false},
		{section: Frontend, line: "stick-table type ip size 1k", valid: true},
		{section: Frontend, line: "max-session-srv-conns 10", valid: true},
		{section: Frontend, line: "default-server inter 2s", valid: false},
		{section: Listen, line: "default-server inter 2s", valid: true},
		{section: Listen, line: "option http-keep-alive", valid: true},
		{section: Listen, line: "filter compression", valid: true},
		{section: Listen, pre: []string{"option tcp-check"}, line: "tcp-check set-var-fmt(check.x) %[src]", valid: true},
		{section: Backend, line: "maxconn 100", valid: false},
		{section: Backend, line: "timeout server-fin 1s", valid: true},
		{section: Backend, line: "server-template s 1-3 127.0.0.1:80", valid: true},
		{section: Backend, line: "tcp-request connection accept", valid: false},
		{section: Backend, line: "dynamic-cookie-key abc", valid: true},
		{section: Backend, line: "hash-balance-factor 150", valid: true},
		{section: Backend, line: "persist rdp-cookie(foo)", valid: true},
		{section: Backend, line: "no option http-keep-alive", valid: true},
		{section: Backend, line: "log-format %ci", valid: false},
		{section: Backend, pre: []string{"stick-table type ip size 1k"}, line: "stick on src", valid: true},
		{section: Backend, pre: []string{"option httpchk"}, line: "http-check set-var-fmt(check.x) %[src]", valid: true},
		{section: Backend, line: "use_backend b", valid: false},
	}
	dir, err := os.MkdirTemp("", "kw")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for i, tt := range tests {
		kw, ok := Match(tt.section, tt.line)
		if ok != tt.valid {
			t.Errorf("Match(%v, %q) = %q, %v; want ok = %v", tt.section, tt.line, kw, ok, tt.valid)
		}
		path := filepath.Join(dir, "c"+strconv.Itoa(i)+".cfg")
		if err := os.WriteFile(path, []byte(testConfig(tt.section, tt.pre, tt.line)), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "-c", "-q", "-dW", "-f", path).CombinedOutput()
		var exitErr *exec.ExitError
		haValid := err == nil
		if err != nil && (!errors.As(err, &exitErr) || exitErr.ExitCode() != 1) {
			t.Fatalf("haproxy -c on %v %q: %v\n%s", tt.section, tt.line, err, out)
		}
		if haValid != tt.valid {
			t.Errorf("haproxy -c on %v %q: valid = %v; want %v\n%s", tt.section, tt.line, haValid, tt.valid, out)
		}
	}
}

// testConfig returns a warning-free configuration with line (preceded by
// pre) in a section of kind s. A defaults line goes into a named defaults
// section that no proxy uses, so that rules it defines do not clash with
// proxies inheriting from it.
func testConfig(s Section, pre []string, line string) string {
	var b strings.Builder
	put := func(sec Section) {
		if sec != s {
			return
		}
		for _, l := range append(pre, line) {
			b.WriteString("    " + l + "\n")
		}
	}
	b.WriteString("global\n")
	put(Global)
	b.WriteString("defaults d\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n")
	if s == Defaults {
		b.WriteString("defaults t\n")
		put(Defaults)
	}
	b.WriteString("frontend f from d\n    bind 127.0.0.1:18080\n")
	put(Frontend)
	b.WriteString("    default_backend b\n")
	b.WriteString("backend b from d\n")
	put(Backend)
	if s == Listen {
		b.WriteString("listen l from d\n    bind 127.0.0.1:18081\n")
		put(Listen)
	}
	return b.String()
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
	for i := 0; i < b.N; i++ {
		Match(Backend, lines[i%len(lines)])
	}
}
