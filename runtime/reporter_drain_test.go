package runtime

import (
	"strings"
	"testing"

	"lighthouse/model"
)

// A node's metadata carries the service's weight and state: drain for the
// ports the drain file names, and for services with drain_on_stop while
// the reporter stops; ready otherwise.
func TestWantedZnodesWeightAndState(t *testing.T) {
	files := []model.File{
		{Path: "discovery/zookeeper.yaml", Data: []byte("hosts: [\"127.0.0.1:2181\"]\npath: /lh\n")},
		{Path: "services/web.yaml", Data: []byte("ports: [8001, 8002]\ndiscovery: zookeeper\nweight: 3\ndrain_on_stop: 2s\nchecks: {interval: 1, tcp: {rise: 1, fall: 1}}\n")},
		{Path: "services/api.yaml", Data: []byte("port: 9001\ndiscovery: zookeeper\nmetadata: {role: main}\nchecks: {interval: 1, tcp: {rise: 1, fall: 1}}\n")},
		{Path: "drain.yaml", Data: []byte("drain: [\"web:8002\"]\n")},
	}
	snap := model.Load(nil, files)
	if snap.Diagnostics.HasErrors() {
		t.Fatal(snap.Diagnostics)
	}
	services := map[string]*serviceRun{}
	for id, sv := range snap.Config.Services {
		run := &serviceRun{cfg: sv, ports: map[int]*portRun{}}
		for _, p := range sv.Ports {
			run.ports[p] = &portRun{judged: true, up: true}
		}
		services[id] = run
	}
	host := Identity{Name: "h.example", IP: "10.0.0.1"}
	for _, c := range []struct {
		stopping bool
		want     map[string]string // znode → metadata as published
	}{
		{false, map[string]string{
			"/lh/web/h.example:8001": `{\"state\": \"ready\", \"weight\": 3}`,
			"/lh/web/h.example:8002": `{\"state\": \"drain\", \"weight\": 3}`,
			"/lh/api/h.example:9001": `{\"role\": \"main\", \"state\": \"ready\"}`,
		}},
		{true, map[string]string{
			"/lh/web/h.example:8001": `{\"state\": \"drain\", \"weight\": 3}`,
			"/lh/web/h.example:8002": `{\"state\": \"drain\", \"weight\": 3}`,
			"/lh/api/h.example:9001": `{\"role\": \"main\", \"state\": \"ready\"}`,
		}},
	} {
		got := wantedZnodes(&snap.Config, services, host, c.stopping)["zookeeper"].Data
		for path, md := range c.want {
			if !strings.Contains(string(got[path]), `"metadata": "`+md+`"`) {
				t.Errorf("stopping %v: %s = %s, want metadata %s", c.stopping, path, got[path], md)
			}
			n, err := model.DecodeNode(got[path])
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if _, err := n.Weight(); err != nil {
				t.Errorf("%s: %v", path, err)
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("stopping %v: %d znodes, want %d", c.stopping, len(got), len(c.want))
		}
	}
}
