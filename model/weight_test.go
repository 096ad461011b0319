package model

import (
	"strings"
	"testing"
)

func TestNodeWeightAndState(t *testing.T) {
	for _, c := range []struct {
		md         map[string]any
		weight     int
		drain      bool
		wErr, sErr string
	}{
		{md: map[string]any{}},
		{md: map[string]any{"weight": int64(3), "state": "drain"}, weight: 3, drain: true},
		{md: map[string]any{"weight": 256.0, "state": "ready"}, weight: 256},
		{md: map[string]any{"weight": int64(0)}, wErr: "out of range"},
		{md: map[string]any{"weight": int64(257)}, wErr: "out of range"},
		{md: map[string]any{"weight": 2.5}, wErr: "not an integer"},
		{md: map[string]any{"weight": "3"}, wErr: "not an integer"},
		{md: map[string]any{"state": "maint"}, sErr: "neither"},
		{md: map[string]any{"state": int64(1)}, sErr: "neither"},
	} {
		n := Node{Host: "a", IP: "10.0.0.1", Port: 1, Metadata: c.md}
		w, err := n.Weight()
		if w != c.weight || (err == nil) != (c.wErr == "") || err != nil && !strings.Contains(err.Error(), c.wErr) {
			t.Errorf("%v: Weight() = %d, %v; want %d, %q", c.md, w, err, c.weight, c.wErr)
		}
		d, err := n.Draining()
		if d != c.drain || (err == nil) != (c.sErr == "") || err != nil && !strings.Contains(err.Error(), c.sErr) {
			t.Errorf("%v: Draining() = %v, %v; want %v, %q", c.md, d, err, c.drain, c.sErr)
		}
	}
}

// A node without weight and state, in the original's format, decodes
// unset and ready.
func TestOriginalNodeHasNoWeightOrState(t *testing.T) {
	n, err := DecodeNode([]byte(`{"host": "app01", "ip": "10.0.0.11", "metadata": "{\"role\": \"master\"}", "peer": null, "port": 8000}`))
	if err != nil {
		t.Fatal(err)
	}
	if w, err := n.Weight(); w != 0 || err != nil {
		t.Errorf("weight %d, %v", w, err)
	}
	if d, err := n.Draining(); d || err != nil {
		t.Errorf("draining %v, %v", d, err)
	}
}

func TestServiceWeightAndDrainOnStop(t *testing.T) {
	const base = "port: 80\ndiscovery: zookeeper\nchecks: {interval: 1, tcp: {rise: 1, fall: 1}}\n"
	for _, c := range []struct {
		extra, want string
		weight      int
	}{
		{extra: "weight: 3\ndrain_on_stop: 1500ms\n", weight: 3},
		{extra: "metadata: {weight: 5}\n", weight: 5},
		{extra: "weight: 0\n", want: "services/web.yaml:4: weight: must be an integer 1..256"},
		{extra: "weight: 300\n", want: "services/web.yaml:4: weight: must be an integer 1..256"},
		{extra: "weight: 2\nmetadata: {weight: 2}\n", want: "services/web.yaml:4: weight: give either weight or metadata.weight"},
		{extra: "metadata: {weight: 1000}\n", want: "services/web.yaml:4: warning: metadata.weight: weight 1000 is out of range"},
		{extra: "metadata: {state: drain}\n", want: "services/web.yaml:4: warning: metadata.state: is the reporter's own key"},
		{extra: "drain_on_stop: 1h\n", want: "services/web.yaml:4: drain_on_stop: must be at most 10m0s"},
	} {
		s := Load(nil, append(baseFiles(), File{Path: "services/web.yaml", Data: []byte(base + c.extra)}))
		got := s.Diagnostics.String()
		if c.want == "" {
			if s.Diagnostics.HasErrors() {
				t.Errorf("%q: %s", c.extra, got)
				continue
			}
			sv := s.Config.Services["web"]
			if sv.Weight != c.weight || sv.Metadata[MetaWeight] != int64(c.weight) {
				t.Errorf("%q: weight %d, metadata %v", c.extra, sv.Weight, sv.Metadata)
			}
			continue
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%q: diagnostics\n%s\nwant %q", c.extra, got, c.want)
		}
	}
}

func TestDrainFile(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"*", "*"}, {"web", "web"}, {"web:8001", "web:8001"}, {"*:8001", "*:8001"}, {"a:b:80", "a:b:80"}, {"a:b", "a:b"},
	} {
		d, err := ParseDrain(c.in)
		if err != nil || d.String() != c.want {
			t.Errorf("ParseDrain(%q) = %v, %v", c.in, d, err)
		}
	}
	for _, bad := range []string{"web:0", "web:70000", "x y", "", "fe:web"} {
		if _, err := ParseDrain(bad); err == nil {
			t.Errorf("ParseDrain(%q) accepted", bad)
		}
	}
	list := WithDrain(WithDrain(WithDrain(nil, Drain{Service: "web", Port: 8001}), Drain{Service: "web"}), Drain{Service: "api"})
	if got, n := WithoutDrain(list, Drain{Service: "web"}); n != 2 || len(got) != 1 || got[0].Service != "api" {
		t.Errorf("undrain web: %v, %d", got, n)
	}
	if got, n := WithoutDrain(list, Drain{}); n != 3 || len(got) != 0 {
		t.Errorf("undrain *: %v, %d", got, n)
	}
	s := Load(nil, append(baseFiles(), File{Path: DrainFile, Data: EncodeDrains(list)}))
	if s.Diagnostics.HasErrors() || len(s.Config.Drains) != 3 {
		t.Fatalf("%s: %v", s.Diagnostics, s.Config.Drains)
	}
	sv := Service{Name: "webapp"}
	if !s.Config.Draining("web", sv, 8001) || !s.Config.Draining("web", sv, 9) || s.Config.Draining("db", Service{Name: "db"}, 8001) {
		t.Errorf("Draining answers wrong for %v", s.Config.Drains)
	}
	bad := Load(nil, append(baseFiles(), File{Path: DrainFile, Data: []byte("drain: [\"web:99999\", [1]]\n")}))
	if got := bad.Diagnostics.String(); !strings.Contains(got, "drain.yaml:1: drain[0]: port") || !strings.Contains(got, "drain.yaml:1: drain[1]: must be a string") {
		t.Errorf("diagnostics: %s", got)
	}
}

func baseFiles() []File {
	return []File{{Path: "discovery/zookeeper.yaml", Data: []byte("hosts: [\"127.0.0.1:2181\"]\npath: /lh\n")}}
}

// Metadata the reporter owns is warned about and left out; the service
// still loads.
func TestServiceReservedMetadata(t *testing.T) {
	const svc = "port: 80\ndiscovery: zookeeper\nmetadata: {state: CA, weight: heavy, zone: a}\nchecks: {interval: 1, tcp: {rise: 1, fall: 1}}\n"
	s := Load(nil, append(baseFiles(), File{Path: "services/web.yaml", Data: []byte(svc)}))
	if s.Diagnostics.HasErrors() {
		t.Fatal(s.Diagnostics)
	}
	md := s.Config.Services["web"].Metadata
	if _, ok := md[MetaState]; ok || md[MetaWeight] != nil || md["zone"] != "a" {
		t.Errorf("metadata %v, want zone only", md)
	}
	if n := len(s.Diagnostics); n != 2 {
		t.Errorf("%d diagnostics, want 2 warnings:\n%s", n, s.Diagnostics)
	}
}
