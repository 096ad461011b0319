package cluster

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"lighthouse/effects"
	"lighthouse/model"
)

const root = "../../.."

func TestExamplePorts(t *testing.T) {
	cases := map[string][]int{
		"web-cache": {2181, 6379, 8000, 8001, 8002, 9009, 9090, 9101, 9102, 9999},
		"api":       {2181, 6379, 7777, 8000, 8080, 8088, 9009, 9090, 9101, 9102, 9999},
	}
	for name, want := range cases {
		got, err := ExamplePorts(root, Examples[name])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: ports %v, want %v", name, got, want)
		}
	}
}

// TestRewrite rewrites every config dir of both examples for a test layout:
// each must still validate, and no example port, path or interval may be
// left.
func TestRewrite(t *testing.T) {
	for _, name := range ExampleNames() {
		ex := Examples[name]
		ports, err := ExamplePorts(root, ex)
		if err != nil {
			t.Fatal(err)
		}
		l := Layout{RunDir: "/tmp/lhtest", Ports: map[int]int{}, CheckInterval: 700 * time.Millisecond}
		for i, p := range ports {
			l.Ports[p] = 40000 + i
		}
		for _, h := range ex.Hosts {
			if h.NoConfig {
				continue
			}
			files, err := effects.ReadConfigDir(filepath.Join(root, "examples", name, h.Name))
			if err != nil {
				t.Fatal(err)
			}
			for i, f := range files {
				if files[i].Data, err = l.rewrite(f.Data); err != nil {
					t.Fatalf("%s/%s/%s: %v", name, h.Name, f.Path, err)
				}
			}
			snap := model.Load(nil, files)
			if len(snap.Diagnostics) > 0 {
				t.Errorf("%s/%s: %s", name, h.Name, snap.Diagnostics)
				continue
			}
			cfg := snap.Config
			if d := cfg.Discovery["zookeeper"]; !slices.Equal(d.Hosts, []string{"127.0.0.1:40000"}) || d.Path != "/lighthouse/services" {
				t.Errorf("%s/%s: discovery %+v", name, h.Name, d)
			}
			mapped := func(what string, p int) {
				if p < 40000 {
					t.Errorf("%s/%s: %s port %d not mapped", name, h.Name, what, p)
				}
			}
			for _, s := range cfg.Services {
				for _, p := range s.Ports {
					mapped("service "+s.Name, p)
				}
				if s.Interval != l.CheckInterval {
					t.Errorf("%s/%s: service %s interval %v", name, h.Name, s.Name, s.Interval)
				}
			}
			for _, c := range cfg.Clusters {
				if c.HAProxy.Port != 0 {
					mapped("cluster "+c.Name, c.HAProxy.Port)
				}
			}
			if b := cfg.Balancer; b != nil {
				for _, f := range []string{b.ConfigFile, b.SocketFile, b.PidFile} {
					if !strings.HasPrefix(f, "/tmp/lhtest/"+h.Name+"/") {
						t.Errorf("%s/%s: balancer file %s not under the run dir", name, h.Name, f)
					}
				}
				for _, ln := range listeners(&cfg) {
					mapped("listener "+ln.name, ln.port)
				}
				for _, p := range b.Proxies {
					for _, u := range p.Upstreams {
						mapped("upstream", u.Port)
					}
				}
			}
		}
	}
}

func TestInPlace(t *testing.T) {
	if !(Layout{}).inPlace() || !(Layout{RunDir: ExampleRunDir + "/"}).inPlace() {
		t.Error("the zero layout must run the examples in place")
	}
	for _, l := range []Layout{{RunDir: "/tmp/x"}, {Ports: map[int]int{2181: 1}}, {CheckInterval: time.Second}} {
		if l.inPlace() {
			t.Errorf("%+v runs in place", l)
		}
	}
}

// TestTiers: providers start before their consumers, the client last.
func TestTiers(t *testing.T) {
	cases := map[string][][]string{
		"web-cache": {{"cache01", "cache02"}, {"app01", "app02"}, {"client"}},
		"api":       {{"partner", "proxy01", "cache01", "cache02"}, {"widgets01", "widgets02", "sprockets01", "sprockets02"}, {"client"}},
	}
	for name, want := range cases {
		ex := Examples[name]
		c := &Cluster{Example: ex, hosts: map[string]*hostState{}}
		for _, h := range ex.Hosts {
			hs := &hostState{Host: h}
			if !h.NoConfig {
				files, err := effects.ReadConfigDir(filepath.Join(root, "examples", name, h.Name))
				if err != nil {
					t.Fatal(err)
				}
				hs.config = &model.Load(nil, files).Config
			}
			c.hosts[h.Name] = hs
		}
		var got [][]string
		for _, tier := range c.tiers() {
			var names []string
			for _, h := range tier {
				names = append(names, h.Name)
			}
			got = append(got, names)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: tiers %v, want %v", name, got, want)
		}
		for i := range got {
			if !slices.Equal(got[i], want[i]) {
				t.Errorf("%s: tiers %v, want %v", name, got, want)
			}
		}
	}
}
