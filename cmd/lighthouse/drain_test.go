package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lighthouse/model"
)

// drain and undrain keep drain.yaml: entries added once, undone by what
// names them, and a file the reporter reads back.
func TestDrainUndrain(t *testing.T) {
	dir := writeDir(t, base(map[string]string{
		"services/web.yaml": "ports: [8001, 8002]\ndiscovery: zookeeper\nchecks: {interval: 1, tcp: {rise: 1, fall: 1}}\n",
		"services/api.yaml": "name: apisvc\nport: 9001\ndiscovery: zookeeper\nchecks: {interval: 1, tcp: {rise: 1, fall: 1}}\n",
	}))
	drains := func() string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, model.DrainFile))
		if err != nil {
			t.Fatal(err)
		}
		s := model.Load(nil, []model.File{{Path: model.DrainFile, Data: data}})
		if s.Diagnostics.HasErrors() {
			t.Fatalf("the drain file does not load: %s\n%s", s.Diagnostics, data)
		}
		var out []string
		for _, d := range s.Config.Drains {
			out = append(out, d.String())
		}
		return strings.Join(out, " ")
	}
	steps := []struct {
		args []string
		code int
		out  string // in stdout or stderr
		want string // the drains afterwards
	}{
		{[]string{"drain", "--service", "web", "--port", "8002"}, exitOK, "draining web:8002: web:8002", "web:8002"},
		{[]string{"drain", "--service", "apisvc"}, exitOK, "draining apisvc: api:9001", "web:8002 apisvc"},
		{[]string{"drain", "--service", "web", "--port", "8002"}, exitOK, "drained: web:8002 apisvc", "web:8002 apisvc"},
		{[]string{"drain", "--service", "nosuch"}, exitError, "no service port of", "web:8002 apisvc"},
		{[]string{"drain", "--port", "70000"}, exitUsage, "not an integer 1..65535", "web:8002 apisvc"},
		{[]string{"undrain", "--service", "web"}, exitOK, "undrained web", "apisvc"},
		{[]string{"undrain", "--service", "web"}, exitOK, "nothing to undo", "apisvc"},
		{[]string{"drain"}, exitOK, "draining *: api:9001 web:8001 web:8002", "apisvc *"},
		{[]string{"undrain"}, exitOK, "nothing drained", ""},
	}
	for _, s := range steps {
		code, stdout, stderr := runCLI(t, append(s.args, "--config-dir", dir)...)
		if code != s.code || !strings.Contains(stdout+stderr, s.out) {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", s.args, code, stdout, stderr, s.code, s.out)
		}
		if code != exitUsage {
			if got := drains(); got != s.want {
				t.Fatalf("%v: drains %q, want %q", s.args, got, s.want)
			}
		}
	}

	// A broken drain file is the operator's to fix: never overwritten.
	broken := "drain: [\"web:0\"]\n"
	if err := os.WriteFile(filepath.Join(dir, model.DrainFile), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "drain", "--config-dir", dir); code != exitError || !strings.Contains(stderr, "drain.yaml:1: drain[0]") {
		t.Errorf("broken file: exit %d, stderr %q", code, stderr)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, model.DrainFile)); string(data) != broken {
		t.Errorf("the broken drain file was overwritten:\n%s", data)
	}
}
