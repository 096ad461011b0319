package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lighthouse/internal/testenv"
)

// Every golden render case, run through the command line, prints exactly
// want/haproxy.cfg on stdout and want/diagnostics.txt on stderr, and exits
// 1 exactly when there are errors.
func TestRenderGoldenThroughCLI(t *testing.T) {
	root, err := filepath.Abs("../../golden/render")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no golden render cases")
	}
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			t.Chdir(dir) // diagnostics name membership.json as the goldens do
			version, err := os.ReadFile("version")
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"render", "--config-dir", "config", "--haproxy-version", strings.TrimSpace(string(version))}
			if _, err := os.Stat("membership.json"); err == nil {
				args = append(args, "--membership", "membership.json")
			}
			wantCfg, err := os.ReadFile(filepath.Join("want", "haproxy.cfg"))
			if err != nil {
				t.Fatal(err)
			}
			wantDiags, _ := os.ReadFile(filepath.Join("want", "diagnostics.txt"))
			wantCode := exitOK
			for _, l := range strings.Split(string(wantDiags), "\n") {
				if l != "" && !strings.Contains(l, ": warning: ") {
					wantCode = exitError
				}
			}
			code, stdout, stderr := runCLI(t, args...)
			if code != wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, wantCode, stderr)
			}
			if diff := cmp.Diff(string(wantCfg), stdout); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(string(wantDiags), stderr); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderUsage(t *testing.T) {
	code, stdout, _ := runCLI(t, "render", "--help")
	if code != exitOK || !strings.Contains(stdout, "--haproxy-version") || !strings.Contains(stdout, "--membership") {
		t.Errorf("--help: exit %d, stdout:\n%s", code, stdout)
	}
	dir := writeDir(t, base(nil))
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no config dir", []string{"render", "--haproxy-version", "2.6.12"}, "--config-dir is required"},
		{"bad version", []string{"render", "--config-dir", dir, "--haproxy-version", "two"}, "--haproxy-version"},
		{"stray argument", []string{"render", "--config-dir", dir, "--haproxy-version", "2.6.12", "extra"}, "unexpected argument"},
	} {
		code, _, stderr := runCLI(t, c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 mentioning %q", c.name, code, stderr, c.want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	dir := writeDir(t, base(nil))
	code, _, stderr := runCLI(t, "render", "--config-dir", filepath.Join(dir, "missing"), "--haproxy-version", "2.6.12")
	if code != exitError || !strings.Contains(stderr, "read config dir") {
		t.Errorf("missing dir: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "render", "--config-dir", dir, "--haproxy-version", "2.6.12", "--membership", filepath.Join(dir, "nope.json"))
	if code != exitError || !strings.Contains(stderr, "read membership") {
		t.Errorf("missing membership: exit %d, stderr %q", code, stderr)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"web": [{"host": "a\nb", "ip": "10.0.0.1", "port": 80}, {"host": "ok", "ip": "10.0.0.2", "port": 80}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "render", "--config-dir", dir, "--haproxy-version", "2.6.12", "--membership", bad)
	if code != exitError || !strings.Contains(stdout, "\tserver ok:80 10.0.0.2:80\n") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, `web[0]: node dropped: host "a\nb"`) {
		t.Errorf("bad node: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// Without --haproxy-version the version comes from `HAPROXY -v`.
func TestRenderDetectsVersion(t *testing.T) {
	dir := writeDir(t, base(nil))
	fake := filepath.Join(t.TempDir(), "haproxy")
	script := "#!/bin/sh\necho 'HAProxy version 1.5.12-1 2015/05/02 - https://haproxy.org/'\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	mem := filepath.Join(dir, "m.json")
	if err := os.WriteFile(mem, []byte(`{"web": [{"host": "a", "ip": "10.0.0.1", "port": 80, "peer": {"name": "a", "ip": "10.0.0.1"}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "render", "--config-dir", dir, "--membership", mem, "--haproxy", fake)
	if code != exitOK || !strings.Contains(stdout, "peers web\n\tpeer a 10.0.0.1:1024\n") {
		t.Errorf("1.5 detected: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	code, stdout, stderr = runCLI(t, "render", "--config-dir", dir, "--haproxy", filepath.Join(t.TempDir(), "no-haproxy"))
	if code != exitError || stdout != "" || !strings.Contains(stderr, "detect HAProxy version") || !strings.Contains(stderr, "--haproxy-version") {
		t.Errorf("no haproxy: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// With each supported release's binary as --haproxy, render reads its
// version (whatever suffix the build carries) and prints a config that
// release's haproxy -c accepts without a warning.
func TestRenderForEachRelease(t *testing.T) {
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		dir := writeDir(t, base(map[string]string{
			"balancers/haproxy.yaml": goodBalancer + "defaults: [\"mode http\", \"timeout connect 1s\", \"timeout client 5s\", \"timeout server 5s\"]\n",
			"clusters/web.yaml":      "discovery: zookeeper\nhaproxy:\n  port: 8000\n  backend: [\"mode http\", \"balance roundrobin\", \"cookie SERVERID insert indirect nocache\"]\n",
		}))
		mem := filepath.Join(dir, "m.json")
		if err := os.WriteFile(mem, []byte(`{"web": [{"host": "a", "ip": "10.0.0.1", "port": 80}, {"host": "b", "ip": "10.0.0.2", "port": 80}]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runCLI(t, "render", "--config-dir", dir, "--membership", mem, "--haproxy", r.Binary)
		if code != exitOK || stderr != "" || !strings.Contains(stdout, "\tserver b:80 10.0.0.2:80 cookie b:80\n") {
			t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
		}
		ok, out := testenv.HAProxyCheckRelease(t, r, testenv.WithStateFile(t, stdout))
		if !ok || strings.Contains(out, "[WARNING]") || strings.Contains(out, "[ALERT]") {
			t.Errorf("haproxy %s -c: ok %v:\n%s\nconfig:\n%s", r.Version, ok, out, stdout)
		}
	})
}
