package model

import (
	"strings"
	"testing"
)

// A restart that loads the saved good files first keeps a broken file's
// last good version, as the running process did.
func TestGoodFilesSurviveARestart(t *testing.T) {
	base := []File{
		{Path: "balancers/haproxy.yaml", Data: []byte("config_file: /tmp/h.cfg\nsocket_file: /tmp/h.sock\npid_file: /tmp/h.pid\n")},
		{Path: "discovery/zookeeper.yaml", Data: []byte("hosts: [\"127.0.0.1:2181\"]\npath: /lighthouse\n")},
	}
	good := append(append([]File(nil), base...), File{Path: "clusters/web.yaml", Data: []byte("discovery: zookeeper\nhaproxy:\n  port: 8000\n")})
	broken := append(append([]File(nil), base...), File{Path: "clusters/web.yaml", Data: []byte("discovery: zookeeper\nhaproxy:\n  port: eighty\n")})

	web := func(fs []File) string {
		for _, f := range fs {
			if f.Path == "clusters/web.yaml" {
				return string(f.Data)
			}
		}
		return ""
	}
	saved := Load(nil, good).GoodFiles()
	if len(saved) != 3 || !strings.Contains(web(saved), "8000") {
		t.Fatalf("GoodFiles holds %d files, web: %q", len(saved), web(saved))
	}
	cold := Load(nil, broken)
	if _, ok := cold.Config.Clusters["web"]; ok {
		t.Fatal("a broken file loads without a last good version")
	}
	warm := Load(Load(nil, saved), broken)
	if c, ok := warm.Config.Clusters["web"]; !ok || c.HAProxy.Port != 8000 {
		t.Fatalf("after a restart, web = %+v (%v)", warm.Config.Clusters["web"], ok)
	}
	if !strings.Contains(warm.Diagnostics.String(), "keeping the last good version") {
		t.Errorf("diagnostics: %s", warm.Diagnostics)
	}
	// What the restarted process saves is still the good version.
	again := warm.GoodFiles()
	if len(again) != 3 || !strings.Contains(web(again), "8000") {
		t.Errorf("GoodFiles after the restart holds %d files, web: %q", len(again), web(again))
	}
	// A file removed while the process was down is gone.
	if _, ok := Load(Load(nil, saved), base).Config.Clusters["web"]; ok {
		t.Error("a file removed while down came back from the saved copy")
	}
}
