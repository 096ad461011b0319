package keywords

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"lighthouse/internal/testenv"
)

// TestMatchAgreesWithHAProxy checks Match's verdict against "haproxy -c" of
// every installed release, each with its own table, for directives with
// real arguments. Zero-warning mode (-dW) is used because HAProxy accepts
// many misplaced proxy keywords with only a "has no backend capability"
// warning; the baseline config below has no warnings. Skipped under -short.
func TestMatchAgreesWithHAProxy(t *testing.T) {
	tests := []struct {
		section Section
		pre     []string // lines the directive needs before it in the same section
		line    string
	}{
		{section: Global, line: "nbthread 2"},
		{section: Global, line: "nbproc 2"},
		{section: Global, line: "tune.bufsize 32768"},
		{section: Global, line: "no busy-polling"},
		{section: Global, line: "no daemon"},
		{section: Global, line: "stats timeout 10s"},
		{section: Global, line: "log-send-hostname"},
		{section: Global, line: "tune.vars.check-max-size 100"},
		{section: Global, line: "tune.h2.be.initial-window-size 65536"},
		{section: Global, line: "http-err-codes 400"},
		{section: Global, line: "option httplog"},
		{section: Global, line: "timeout client 1s"},
		{section: Defaults, line: "no option http-server-close"},
		{section: Defaults, line: "no option httplog"},
		{section: Defaults, line: "option httpchk GET /"},
		{section: Defaults, line: "http-request set-header X-A b"},
		{section: Defaults, line: "stick-table type ip size 1k"},
		{section: Defaults, line: "server-template s 1-3 127.0.0.1:80"},
		{section: Defaults, line: "stats show-modules"},
		{section: Frontend, line: "maxconn 100"},
		{section: Frontend, line: "timeout server 1s"},
		{section: Frontend, line: "option httpchk GET /"},
		{section: Frontend, line: "http-request deny if { path /x }"},
		{section: Frontend, line: "tcp-response content accept"},
		{section: Frontend, line: "stick-table type ip size 1k"},
		{section: Frontend, line: "max-session-srv-conns 10"},
		{section: Frontend, line: "default-server inter 2s"},
		{section: Frontend, line: "option accept-unsafe-violations-in-http-request"},
		{section: Listen, line: "default-server inter 2s"},
		{section: Listen, line: "option http-keep-alive"},
		{section: Listen, line: "filter compression"},
		{section: Listen, pre: []string{"option tcp-check"}, line: "tcp-check set-var-fmt(check.x) %[src]"},
		{section: Backend, line: "maxconn 100"},
		{section: Backend, line: "timeout server-fin 1s"},
		{section: Backend, line: "server-template s 1-3 127.0.0.1:80"},
		{section: Backend, line: "tcp-request connection accept"},
		{section: Backend, line: "dynamic-cookie-key abc"},
		{section: Backend, line: "hash-balance-factor 150"},
		{section: Backend, line: "persist rdp-cookie(foo)"},
		{section: Backend, line: "no option http-keep-alive"},
		{section: Backend, line: "log-format %ci"},
		{section: Backend, line: "guid be-web"},
		{section: Backend, line: "http-after-response set-header X-A b"},
		{section: Backend, pre: []string{"stick-table type ip size 1k"}, line: "stick on src"},
		{section: Backend, pre: []string{"option httpchk"}, line: "http-check set-var-fmt(check.x) %[src]"},
		{section: Backend, line: "use_backend b"},
	}
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		tab, note := For(r.Version)
		if note != "" {
			t.Fatalf("HAProxy %s: %s", r.Version, note)
		}
		dir := t.TempDir()
		for i, tt := range tests {
			kw, ok := tab.Match(tt.section, tt.line)
			path := filepath.Join(dir, "c"+strconv.Itoa(i)+".cfg")
			if err := os.WriteFile(path, []byte(testConfig(tt.section, tt.pre, tt.line)), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(r.Binary, "-c", "-q", "-dW", "-f", path).CombinedOutput()
			var exitErr *exec.ExitError
			haValid := err == nil
			if err != nil && (!errors.As(err, &exitErr) || exitErr.ExitCode() != 1) {
				t.Fatalf("haproxy -c on %v %q: %v\n%s", tt.section, tt.line, err, out)
			}
			if haValid != ok {
				t.Errorf("%v %q: table says %q, %v; haproxy -c says valid = %v\n%s", tt.section, tt.line, kw, ok, haValid, out)
			}
		}
	})
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
