package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-zookeeper/zk"

	"lighthouse/effects"
	"lighthouse/internal/testenv"
	"lighthouse/model"
)

func planDir(t *testing.T, zkHosts string) string {
	run := testenv.ShortTempDir(t)
	return writeDir(t, map[string]string{
		"balancers/haproxy.yaml":   fmt.Sprintf("config_file: %s/h.cfg\nsocket_file: %s/h.sock\npid_file: %s/h.pid\nbind_address: 127.0.0.1\ndefaults: [\"timeout connect 1s\", \"timeout client 1s\", \"timeout server 1s\"]\n", run, run, run),
		"discovery/zookeeper.yaml": fmt.Sprintf("hosts: [%q]\npath: /lh\n", zkHosts),
		"clusters/cache.yaml":      "discovery: zookeeper\nhaproxy:\n  port: 9999\n  frontend: [\"mode tcp\"]\n  backend: [\"mode tcp\"]\n",
	})
}

func TestPlanOffline(t *testing.T) {
	dir := planDir(t, "127.0.0.1:1")
	one := writeDir(t, map[string]string{"m.json": `{"cache": [{"host": "c1.example", "ip": "10.0.0.1", "port": 6379}]}`})
	two := writeDir(t, map[string]string{"m.json": `{"cache": [{"host": "c1.example", "ip": "10.0.0.1", "port": 6379}, {"host": "c2.example", "ip": "10.0.0.2", "port": 6379}]}`})
	code, cfg, stderr := runCLI(t, "render", "--config-dir", dir, "--membership", filepath.Join(one, "m.json"), "--haproxy-version", "2.6.12")
	if code != 0 {
		t.Fatalf("render: %d %s", code, stderr)
	}
	cur := filepath.Join(t.TempDir(), "current.cfg")
	os.WriteFile(cur, []byte(cfg), 0o644)

	code, out, _ := runCLI(t, "plan", "--config-dir", dir, "--membership", filepath.Join(one, "m.json"), "--current", cur, "--haproxy-version", "2.6.12", "--detailed-exitcode")
	if code != 0 || out != "No changes.\n" {
		t.Errorf("unchanged: code %d, %q", code, out)
	}
	code, out, _ = runCLI(t, "plan", "--config-dir", dir, "--membership", filepath.Join(two, "m.json"), "--current", cur, "--haproxy-version", "2.6.12", "--detailed-exitcode")
	if code != exitChanges || !strings.HasPrefix(out, "+ add_server       cache/c2.example:6379 10.0.0.2:6379  # node joined cluster cache\n") {
		t.Errorf("join: code %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "plan", "--config-dir", dir, "--membership", filepath.Join(two, "m.json"), "--current", cur, "--haproxy-version", "2.6.12", "--json")
	var got struct {
		Actions []struct{ Kind, Backend, Server, Addr string }
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
		t.Fatalf("json: code %d, %v\n%s", code, err, out)
	}
	if len(got.Actions) != 4 || got.Actions[0].Kind != "add_server" || got.Actions[0].Server != "c2.example:6379" || got.Actions[0].Addr != "10.0.0.2" {
		t.Errorf("json actions: %+v", got.Actions)
	}
}

// Without --membership and --current, membership comes from ZooKeeper and
// the HAProxy state from its socket (none runs here: a start is planned).
func TestPlanLive(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	c := z.Conn(t)
	for _, p := range []string{"/lh", "/lh/cache"} {
		c.Create(p, nil, 0, zk.WorldACL(zk.PermAll))
	}
	data := model.Node{Host: "c1.example", IP: "10.0.0.1", Port: 6379}.Encode()
	if _, err := c.Create("/lh/cache/c1.example:6379", data, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	dir := planDir(t, z.Addr)
	code, out, stderr := runCLI(t, "plan", "--config-dir", dir, "--haproxy-version", "2.6.12", "--json")
	if code != 0 {
		t.Fatalf("code %d: %s", code, stderr)
	}
	if !strings.Contains(out, `"kind": "start"`) {
		t.Errorf("no start planned:\n%s", out)
	}
	code, text, _ := runCLI(t, "plan", "--config-dir", dir, "--haproxy-version", "2.6.12")
	if code != 0 || !strings.Contains(text, "^ start") {
		t.Errorf("text plan: %d\n%s", code, text)
	}
	// Membership was read from ZooKeeper.
	files, _ := effects.ReadConfigDir(dir)
	snap := model.Load(nil, files)
	mem, err := readMembership(context.Background(), &snap.Config)
	if err != nil || !mem["cache"].Known || len(mem["cache"].Nodes) != 1 || mem["cache"].Nodes[0].Name() != "c1.example:6379" {
		t.Errorf("membership read: %+v, %v", mem, err)
	}
}
