package registration

import (
	"strings"
	"testing"

	"lighthouse/model"
)

// A node's metadata carries the service's weight and state: drain for the
// ports the drain file names, and for services with drain_on_stop while
// the reporter stops; ready otherwise.
func TestWantedWeightAndState(t *testing.T) {
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
	health := Health{}
	for id, sv := range snap.Config.Services {
		health[id] = map[int]bool{}
		for _, p := range sv.Ports {
			health[id][p] = true
		}
	}
	host := Host{Name: "h.example", IP: "10.0.0.1"}
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
		wanted := Wanted(&snap.Config, health, host, c.stopping)
		got := wanted["zookeeper"]
		for path, md := range c.want {
			data := got[path].Data
			if !strings.Contains(string(data), `"metadata": "`+md+`"`) {
				t.Errorf("stopping %v: %s = %s, want metadata %s", c.stopping, path, data, md)
			}
			n, err := model.DecodeNode(data)
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

// Ports not judged yet are left out; a port down is wanted absent; two
// service files of one name share the znode: up if either is, restored at
// the shorter interval; model.Load warns when their metadata differ.
func TestWantedJudgedAndShared(t *testing.T) {
	files := []model.File{
		{Path: "discovery/zookeeper.yaml", Data: []byte("hosts: [\"127.0.0.1:2181\"]\npath: /lh/\n")},
		{Path: "services/a.yaml", Data: []byte("name: web\nports: [1, 2, 3]\ndiscovery: zookeeper\nchecks: {interval: 5, tcp: {rise: 1, fall: 1}}\n")},
		{Path: "services/b.yaml", Data: []byte("name: web\nport: 1\ndiscovery: zookeeper\nmetadata: {v: 2}\nchecks: {interval: 2, http: {uri: /, rise: 1, fall: 1}}\n")},
	}
	snap := model.Load(nil, files)
	if ds := snap.Diagnostics; len(ds) != 1 || !strings.HasPrefix(ds[0].String(), "services/b.yaml:4: warning: metadata: registers web:1 as services/a.yaml does") {
		t.Errorf("diagnostics: %s", ds)
	}
	wanted := Wanted(&snap.Config, Health{"a": {1: false, 2: false}, "b": {1: true}}, Host{Name: "h", IP: "10.0.0.1"}, false)
	w := wanted["zookeeper"]
	if len(w) != 2 || w["/lh/web/h:1"].Data == nil || w["/lh/web/h:2"].Data != nil {
		t.Errorf("want %v", w)
	}
	if w["/lh/web/h:1"].Every.Seconds() != 2 || w["/lh/web/h:2"].Every.Seconds() != 5 {
		t.Errorf("intervals: %v", w)
	}
	if !strings.Contains(string(w["/lh/web/h:1"].Data), `\"v\": 2`) {
		t.Errorf("not the data of the one up: %s", w["/lh/web/h:1"].Data)
	}
	if !w.Equal(wanted["zookeeper"]) || w.Equal(Want{}) || !(Want{}).Equal(nil) {
		t.Error("Equal")
	}
}
