package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lighthouse/internal/testenv"
)

// writeDir writes files (relative path → content) into a new temp dir.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	goodBalancer = "config_file: /tmp/h.cfg\nsocket_file: /tmp/h.sock\npid_file: /tmp/h.pid\n"
	goodZK       = "hosts: [\"127.0.0.1:2181\"]\npath: /lighthouse/services\n"
	goodCluster  = "discovery: zookeeper\nhaproxy:\n  port: 8000\n"
)

func base(extra map[string]string) map[string]string {
	files := map[string]string{
		"balancers/haproxy.yaml":   goodBalancer,
		"discovery/zookeeper.yaml": goodZK,
		"clusters/web.yaml":        goodCluster,
	}
	for k, v := range extra {
		files[k] = v
	}
	return files
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"lighthouse"}, args...), env{stdout: &out, stderr: &errb})
	return code, out.String(), errb.String()
}

// cliCase is a command line, its exit code, and what its stdout and
// stderr hold.
type cliCase struct {
	args     []string
	code     int
	inStdout string
	inStderr string
}

// runCases runs each command line and checks its exit code and output.
func runCases(t *testing.T, cases []cliCase) {
	t.Helper()
	for _, c := range cases {
		code, stdout, stderr := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(stdout, c.inStdout) || !strings.Contains(stderr, c.inStderr) {
			t.Errorf("%v: code %d stdout %q stderr %q; want code %d, %q in stdout, %q in stderr",
				c.args, code, stdout, stderr, c.code, c.inStdout, c.inStderr)
		}
	}
}

// Each class of bad input gets its exact diagnostic and exit code 1.
func TestValidateDiagnostics(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"yaml syntax error", base(map[string]string{"clusters/web.yaml": "discovery: zookeeper\nhaproxy:\n  port: [8000\n"}),
			"clusters/web.yaml:2: invalid YAML: did not find expected ',' or ']'\n"},
		{"wrong type", base(map[string]string{"clusters/web.yaml": "discovery: zookeeper\nhaproxy:\n  port: eighty\n"}),
			"clusters/web.yaml:3: haproxy.port: must be an integer 1..65535, got \"eighty\"\n"},
		{"frontend not a list", base(map[string]string{"clusters/web.yaml": "discovery: zookeeper\nhaproxy:\n  port: 8000\n  frontend: mode http\n"}),
			"clusters/web.yaml:4: haproxy.frontend: must be a list of directive lines, got \"mode http\"\n"},
		{"missing required key", base(map[string]string{"balancers/haproxy.yaml": "config_file: /tmp/h.cfg\nsocket_file: /tmp/h.sock\n"}),
			"balancers/haproxy.yaml: clusters are configured but there is no valid balancer config\n" +
				"balancers/haproxy.yaml:1: pid_file: required key is missing\n"},
		{"port out of range", base(map[string]string{"clusters/web.yaml": "discovery: zookeeper\nhaproxy:\n  port: 70000\n"}),
			"clusters/web.yaml:3: haproxy.port: must be an integer 1..65535, got \"70000\"\n"},
		{"unknown discovery", base(map[string]string{"clusters/web.yaml": "discovery: consul\nhaproxy:\n  port: 8000\n"}),
			"clusters/web.yaml:1: discovery: unknown discovery \"consul\"; configured: zookeeper\n"},
		{"meta cluster without a port", base(map[string]string{"clusters/api.yaml": "discovery: zookeeper\nmeta_cluster: webapi\nhaproxy:\n  acl: path_beg /api\n"}),
			"clusters/api.yaml:2: meta_cluster: meta cluster \"webapi\" has no port: add meta_clusters.webapi.port to balancers/haproxy.yaml\n"},
		{"meta member without an acl", base(map[string]string{
			"balancers/haproxy.yaml": goodBalancer + "meta_clusters:\n  webapi:\n    port: 8888\n",
			"clusters/api.yaml":      "discovery: zookeeper\nmeta_cluster: webapi\nhaproxy:\n  backend: [\"mode http\"]\n"}),
			"balancers/haproxy.yaml:5: warning: meta_clusters.webapi: no cluster is a member of this meta cluster: it gets no frontend\n" +
				"clusters/api.yaml:3: haproxy.acl: required for a member of meta cluster \"webapi\": the condition that routes requests to this cluster\n"},
		{"acl without meta cluster", base(map[string]string{"clusters/api.yaml": "discovery: zookeeper\nhaproxy:\n  port: 8001\n  acl: path_beg /api\n"}),
			"clusters/api.yaml:4: haproxy.acl: an acl routes within a meta cluster, but this cluster sets no meta_cluster\n"},
		{"duplicate listener between clusters", base(map[string]string{"clusters/zz.yaml": "discovery: zookeeper\nhaproxy:\n  port: 8000\n"}),
			"clusters/zz.yaml:3: haproxy.port: *:8000 is already bound by cluster web (clusters/web.yaml); on a first load the file whose path sorts first keeps it, this one is refused\n"},
		{"duplicate listener with stats", base(map[string]string{"balancers/haproxy.yaml": goodBalancer + "stats:\n  port: 8000\n"}),
			"clusters/web.yaml:3: haproxy.port: *:8000 is already bound by stats (balancers/haproxy.yaml)\n"},
		{"duplicate listener inside the balancer", base(map[string]string{"balancers/haproxy.yaml": goodBalancer + "stats:\n  port: 9009\nproxies:\n  partner:\n    port: 9009\n    upstreams: [{host: partner.example.com, port: 88}]\n"}),
			"balancers/haproxy.yaml: clusters are configured but there is no valid balancer config\n" +
				"balancers/haproxy.yaml:5: stats.port: *:9009 is already bound by proxy partner\n"},
		{"directive line with a newline", base(map[string]string{"clusters/web.yaml": "discovery: zookeeper\nhaproxy:\n  port: 8000\n  backend:\n    - \"mode http\\nbackend evil\"\n"}),
			"clusters/web.yaml:5: haproxy.backend[0]: must not contain a line break, got \"mode http\\nbackend evil\"\n"},
		{"acl with a control character", base(map[string]string{
			"balancers/haproxy.yaml": goodBalancer + "meta_clusters:\n  webapi:\n    port: 8888\n",
			"clusters/api.yaml":      "discovery: zookeeper\nmeta_cluster: webapi\nhaproxy:\n  acl: \"path_beg /api\\x07\"\n"}),
			"balancers/haproxy.yaml:5: warning: meta_clusters.webapi: no cluster is a member of this meta cluster: it gets no frontend\n" +
				"clusters/api.yaml:4: haproxy.acl: must not contain control characters, got \"path_beg /api\\a\"\n"},
		{"invalid directive", base(map[string]string{"clusters/web.yaml": "discovery: zookeeper\nhaproxy:\n  port: 8000\n  backend:\n    - \"mode http\"\n    - \"maxconn 500\"\n"}),
			"clusters/web.yaml:6: haproxy.backend[1]: \"maxconn\" is not a valid directive in a backend section of HAProxy 2.6 (it is accepted in global, defaults, frontend and listen sections)\n"},
		{"unknown check", map[string]string{"discovery/zookeeper.yaml": goodZK, "services/web.yaml": "port: 80\ndiscovery: zookeeper\nchecks:\n  interval: 2\n  ping:\n    rise: 1\n    fall: 1\n"},
			"services/web.yaml:5: checks.ping: unknown check; known checks are http, redis, tcp\n"},
		{"check timeout longer than interval", map[string]string{"discovery/zookeeper.yaml": goodZK, "services/web.yaml": "port: 80\ndiscovery: zookeeper\nchecks:\n  interval: 2\n  http:\n    uri: /health\n    rise: 1\n    fall: 1\n    timeout: 3\n"},
			"services/web.yaml:9: checks.http.timeout: must not be longer than checks.interval (2s), got 3s\n"},
		// Issue #13: hostile and careless input.
		{"check interval too short", map[string]string{"discovery/zookeeper.yaml": goodZK, "services/web.yaml": "port: 80\ndiscovery: zookeeper\nchecks:\n  interval: 1ns\n  tcp: {rise: 1, fall: 1}\n"},
			"services/web.yaml:4: checks.interval: must be at least 100ms, got 1ns\n"},
		{"infinite metadata", map[string]string{"discovery/zookeeper.yaml": goodZK, "services/web.yaml": "port: 80\ndiscovery: zookeeper\nmetadata: {weight: .inf}\nchecks: {interval: 1, tcp: {rise: 1, fall: 1}}\n"},
			"services/web.yaml:3: metadata.weight: must be a finite number, got \".inf\"\n"},
		{"socket_file too long for its master socket", base(map[string]string{"balancers/haproxy.yaml": "config_file: /tmp/h.cfg\nsocket_file: /tmp/" + strings.Repeat("s", 86) + "\npid_file: /tmp/h.pid\n"}),
			"balancers/haproxy.yaml: clusters are configured but there is no valid balancer config\n" +
				"balancers/haproxy.yaml:2: socket_file: must be at most 90 characters (HAProxy accepts socket paths of at most 97, and the master socket adds \".master\"), this one has 91\n"},
		{"name .. is no znode", map[string]string{"discovery/zookeeper.yaml": goodZK, "services/web.yaml": "name: ..\nport: 80\ndiscovery: zookeeper\nchecks: {interval: 1, tcp: {rise: 1, fall: 1}}\n"},
			"services/web.yaml:1: name: service name \"..\" may hold only letters, digits and _ . : -, may not be . or .., and has at most 200 characters\n"},
		{"alias bomb", map[string]string{"discovery/zookeeper.yaml": goodZK, "services/web.yaml": "port: 80\ndiscovery: zookeeper\nchecks: {interval: 1}\nmetadata:\n" +
			"  a: &a [x, x, x, x, x, x, x, x, x, x]\n  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
			"  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n" +
			"  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n  h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n  i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n"},
			"services/web.yaml:8: metadata.d[7]: aliases expand this file beyond 10000 values (10× its 119 own, at least 10000); YAML alias expansion is capped\n"},
		{"a long value is cut in the message", base(map[string]string{"clusters/web.yaml": "discovery: zookeeper\nmeta_cluster: " + strings.Repeat("m", 1<<20) + "\nhaproxy:\n  port: 8000\n"}),
			"clusters/web.yaml:2: meta_cluster: meta cluster name \"" + strings.Repeat("m", 120) + "\"…(1048576 bytes) may hold only letters, digits and _ . : -, may not be . or .., and has at most 200 characters\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeDir(t, c.files)
			code, stdout, stderr := runCLI(t, "validate", "--config-dir", dir)
			if diff := cmp.Diff(c.want, stdout); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			if code != exitError {
				t.Errorf("exit code = %d, want %d; stderr: %s", code, exitError, stderr)
			}
		})
	}
}

func TestValidateWarningsExitZero(t *testing.T) {
	dir := writeDir(t, base(map[string]string{"clusters/web.yaml": goodCluster + "colour: blue\n"}))
	code, stdout, _ := runCLI(t, "validate", "--config-dir", dir)
	want := "clusters/web.yaml:4: warning: colour: unknown key, ignored\n"
	if stdout != want || code != exitOK {
		t.Errorf("got code %d, stdout %q; want 0, %q", code, stdout, want)
	}
}

func TestValidateJSON(t *testing.T) {
	dir := writeDir(t, base(map[string]string{"clusters/web.yaml": "discovery: zookeeper\nhaproxy:\n  port: 0\n"}))
	code, stdout, _ := runCLI(t, "validate", "--json", "--config-dir", dir)
	want := `{
  "diagnostics": [
    {
      "severity": "error",
      "file": "clusters/web.yaml",
      "line": 3,
      "key": "haproxy.port",
      "message": "must be an integer 1..65535, got \"0\""
    }
  ],
  "errors": 1,
  "warnings": 0
}
`
	if diff := cmp.Diff(want, stdout); diff != "" || code != exitError {
		t.Errorf("code %d; (-want +got):\n%s", code, diff)
	}
}

func TestExamplesValidate(t *testing.T) {
	// A host's config dir has a discovery config.
	found, _ := filepath.Glob("../../examples/*/*/discovery")
	var dirs []string
	for _, d := range found {
		dirs = append(dirs, filepath.Dir(d))
	}
	if len(dirs) < 10 {
		t.Fatalf("found only %d example config dirs", len(dirs))
	}
	for _, d := range dirs {
		code, stdout, stderr := runCLI(t, "validate", "--config-dir", d)
		if code != exitOK || stdout != "" {
			t.Errorf("%s: code %d\n%s%s", d, code, stdout, stderr)
		}
	}
}

func TestUsage(t *testing.T) {
	cases := []struct {
		args     []string
		code     int
		inStdout string
	}{
		{nil, exitUsage, ""},
		{[]string{"--help"}, exitOK, "Commands:"},
		{[]string{"nosuch"}, exitUsage, ""},
		{[]string{"validate"}, exitUsage, ""},
		{[]string{"validate", "--help"}, exitOK, "-config-dir"},
		{[]string{"validate", "--config-dir", "x", "extra"}, exitUsage, ""},
		{[]string{"validate", "--bogus"}, exitUsage, ""},
		{[]string{"version"}, exitOK, "lighthouse "},
		{[]string{"version", "--help"}, exitOK, "Usage: lighthouse version"},
	}
	for _, c := range cases {
		code, stdout, _ := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(stdout, c.inStdout) {
			t.Errorf("%v: code %d stdout %q; want code %d containing %q", c.args, code, stdout, c.code, c.inStdout)
		}
	}
	for _, c := range commands() {
		code, stdout, _ := runCLI(t, c.name, "--help")
		if code != exitOK || !strings.Contains(stdout, "Usage: lighthouse "+c.name) {
			t.Errorf("%s --help: code %d, stdout %q", c.name, code, stdout)
		}
	}
}

func TestValidateMissingDir(t *testing.T) {
	code, _, stderr := runCLI(t, "validate", "--config-dir", filepath.Join(t.TempDir(), "nope"))
	if code != exitError || !strings.Contains(stderr, "no such file") {
		t.Errorf("code %d stderr %q", code, stderr)
	}
}

// validate checks directives for the release its --haproxy binary says it
// is: a keyword new in 3.0 is an error for 2.6 and 2.8 and fine from 3.0.
func TestValidateForEachRelease(t *testing.T) {
	dir := writeDir(t, base(map[string]string{
		"clusters/web.yaml": "discovery: zookeeper\nhaproxy:\n  port: 8000\n  backend: [\"guid web-backend\"]\n",
	}))
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		code, stdout, _ := runCLI(t, "validate", "--config-dir", dir, "--haproxy="+r.Binary)
		if !r.Version.AtLeast(3, 0) {
			if code != 1 || !strings.Contains(stdout, `"guid" is not a valid directive in a backend section of HAProxy `+r.Name) || !strings.Contains(stdout, "accepted from 3.0 on") {
				t.Errorf("validate for %s: exit %d, stdout:\n%s", r.Version, code, stdout)
			}
			return
		}
		if code != 0 || stdout != "" {
			t.Errorf("validate for %s: exit %d, stdout:\n%s", r.Version, code, stdout)
		}
	})
}

// An unreadable file is a diagnostic of its own: validate reports it at
// the file and goes on with every other file.
func TestValidateUnreadableFile(t *testing.T) {
	dir := writeDir(t, base(map[string]string{"clusters/api.yaml": "discovery: consul\nhaproxy:\n  port: 8001\n"}))
	if err := os.Symlink("loop.yaml", filepath.Join(dir, "clusters/loop.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "clusters/zero.yaml")); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "validate", "--config-dir", dir)
	want := "clusters/api.yaml:1: discovery: unknown discovery \"consul\"; configured: zookeeper\n" +
		"clusters/loop.yaml: cannot read: too many levels of symbolic links\n" +
		"clusters/zero.yaml: cannot read: a character device, not a regular file\n"
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if code != exitError || !strings.Contains(stderr, "3 error(s)") {
		t.Errorf("exit code %d, stderr %q; want %d and 3 errors", code, stderr, exitError)
	}
}

// validate --haproxy runs that HAProxy's haproxy -c on the rendered config
// and locates what it refuses at the line of ours that produced it.
func TestValidateHAProxyCheck(t *testing.T) {
	dir := writeDir(t, base(map[string]string{
		"clusters/web.yaml": "discovery: zookeeper\nhaproxy:\n  port: 8000\n  backend:\n    - \"mode http\"\n    - \"balance nonsense\"\n",
	}))
	if code, stdout, _ := runCLI(t, "validate", "--config-dir", dir, "--haproxy-version", "2.6"); code != 0 || stdout != "" {
		t.Fatalf("without --haproxy: exit %d, stdout:\n%s", code, stdout)
	}
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		code, stdout, stderr := runCLI(t, "validate", "--config-dir", dir, "--haproxy="+r.Binary)
		if code != 1 || !strings.HasPrefix(stdout, "clusters/web.yaml:6: haproxy.backend[1]: haproxy -c: ") || !strings.Contains(stdout, "balance") {
			t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
	})
}
