package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	gozk "github.com/go-zookeeper/zk"

	"lighthouse/internal/testenv"
	"lighthouse/model"
)

func TestCheckUsage(t *testing.T) {
	dir := writeDir(t, map[string]string{"discovery/zookeeper.yaml": goodZK})
	runCases(t, []cliCase{
		{[]string{"check", "--help"}, exitOK, "Exit codes: 0 every check passes", ""},
		{[]string{"check"}, exitUsage, "", "--config-dir is required"},
		{[]string{"check", "--config-dir", dir, "--host-ip", "nope"}, exitUsage, "", "not an IP address"},
		{[]string{"check", "--config-dir", dir, "extra"}, exitUsage, "", "unexpected argument"},
	})
	if code, stdout, _ := runCLI(t, "--help"); code != exitOK || !strings.Contains(stdout, "\n  check ") {
		t.Errorf("check is not in the command list:\n%s", stdout)
	}
}

// lighthouse check against a real ZooKeeper and a real HTTP service: one
// line per port and check, then the registry plan that the reporter would
// carry out, from what ZooKeeper holds; its exit code says which.
func TestCheckDryRun(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	conn := z.Conn(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	up := srv.Listener.Addr().(*net.TCPAddr).Port
	down := testenv.FreePort(t) // nobody listens
	discovery := fmt.Sprintf("hosts: [%q]\npath: /lh\n", z.Addr)
	service := func(extra string, ports ...int) string {
		return fmt.Sprintf("ports: %s\ndiscovery: zookeeper\n%schecks:\n  interval: 1s\n  http: {uri: /health, rise: 3, fall: 3}\n",
			strings.ReplaceAll(fmt.Sprint(ports), " ", ", "), extra)
	}
	dirs := func(svc string) string {
		return writeDir(t, map[string]string{"discovery/zookeeper.yaml": discovery, "services/web.yaml": svc})
	}
	both, one, weighted := dirs(service("", up, down)), dirs(service("", up)), dirs(service("weight: 2\n", up))
	host := []string{"--host-name", "web01.example.com", "--host-ip", "127.0.0.5"}
	znode := func(port int) string { return fmt.Sprintf("/lh/web/web01.example.com:%d", port) }
	check := func(dir string) (int, string) {
		t.Helper()
		code, out, stderr := runCLI(t, append([]string{"check", "--config-dir", dir}, host...)...)
		if stderr != "" {
			t.Errorf("stderr: %s", stderr)
		}
		return code, out
	}
	header := fmt.Sprintf("\ndiscovery zookeeper (%s, path /lh):\n", z.Addr)

	// Nothing registered: the port up is to be created; one check fails.
	code, out := check(both)
	for _, want := range []string{
		fmt.Sprintf("web:%d http pass (", up),
		fmt.Sprintf("web:%d http fail (", down),
		"connection refused",
		header + fmt.Sprintf(`+ create      %s {"state": "ready"}  # the port is up`, znode(up)) + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if code != exitCheckFails || strings.Contains(out, znode(down)) {
		t.Errorf("code %d, want %d; the port down needs nothing:\n%s", code, exitCheckFails, out)
	}

	// Registered as the reporter registers it: nothing to do.
	data := model.Node{Host: "web01.example.com", IP: "127.0.0.5", Port: up,
		Peer:     &model.Peer{Name: "web01.example.com", IP: "127.0.0.5", Port: model.DefaultPeerPort},
		Metadata: map[string]any{model.MetaState: model.StateReady}}.Encode()
	for _, p := range []string{"/lh", "/lh/web"} {
		conn.Create(p, nil, 0, gozk.WorldACL(gozk.PermAll))
	}
	if _, err := conn.Create(znode(up), data, gozk.FlagEphemeral, gozk.WorldACL(gozk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if code, out := check(one); code != exitOK || !strings.HasSuffix(out, header+"No changes.\n") {
		t.Errorf("registered: code %d\n%s", code, out)
	}

	// A weight added: set in place.
	code, out = check(weighted)
	if want := header + fmt.Sprintf(`~ set_data    %s {"state": "ready", "weight": 2}  # weight (none) → 2`, znode(up)) + "\n"; code != exitRegistry || !strings.HasSuffix(out, want) {
		t.Errorf("weight: code %d, want %d and the line %q:\n%s", code, exitRegistry, want, out)
	}

	// A znode for the port down: deleted.
	if _, err := conn.Create(znode(down), data, gozk.FlagEphemeral, gozk.WorldACL(gozk.PermAll)); err != nil {
		t.Fatal(err)
	}
	code, out = check(both)
	if want := header + fmt.Sprintf("- delete      %s  # the port is down\n", znode(down)); code != exitCheckFails || !strings.HasSuffix(out, want) {
		t.Errorf("down: code %d\n%s", code, out)
	}
	if ok, _, _ := conn.Exists(znode(down)); !ok {
		t.Error("check deleted a znode")
	}

	// No ZooKeeper: an error, after the checks.
	gone := writeDir(t, map[string]string{"discovery/zookeeper.yaml": "hosts: [\"127.0.0.1:1\"]\npath: /lh\n", "services/web.yaml": service("", up)})
	code, out, stderr := runCLI(t, append([]string{"check", "--config-dir", gone, "--zookeeper-timeout", "500ms"}, host...)...)
	if code != exitError || !strings.Contains(out, "pass") || !strings.Contains(stderr, "no ZooKeeper session with 127.0.0.1:1 within 500ms") {
		t.Errorf("no ZooKeeper: code %d\n%s%s", code, out, stderr)
	}
}
