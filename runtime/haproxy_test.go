package runtime

import (
	"reflect"
	"testing"
	"time"

	"lighthouse/model"
	"lighthouse/model/configtext"
	"lighthouse/model/haproxyapi"
	"lighthouse/plan"
)

func TestObservedFrom(t *testing.T) {
	file := configtext.Of("global\n")
	got := ObservedFrom(haproxyapi.Observation{Running: true, Unresponsive: true, File: file, Servers: map[string][]haproxyapi.ServerRow{
		"web":   {{Name: "a:80", Addr: "10.0.0.1", Port: 80, State: model.ServerDrain, Weight: 7}},
		"empty": {},
	}})
	want := plan.Observed{Running: true, Unresponsive: true, File: file, Servers: map[string][]plan.Server{
		"web":   {{Name: "a:80", Addr: "10.0.0.1", Port: 80, State: model.ServerDrain, Weight: 7}},
		"empty": {},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ObservedFrom = %+v, want %+v", got, want)
	}
	// No rows (the admin socket was not asked) stays nil: the planner then
	// reads the loaded config's servers.
	if o := ObservedFrom(haproxyapi.Observation{Running: true}); o.Servers != nil || !o.Running {
		t.Errorf("ObservedFrom without rows = %+v", o)
	}
}

// Every runtime action of a plan is one change with the same arguments;
// the other actions are none.
func TestRuntimeChange(t *testing.T) {
	later := time.Unix(1e9, 0)
	for _, c := range []struct {
		a    plan.Action
		want haproxyapi.Change
	}{
		{plan.AddServer{Backend: "web", Server: "a:80", Addr: "10.0.0.1", Port: 80, Options: "check"},
			haproxyapi.Change{Op: haproxyapi.OpAddServer, Backend: "web", Server: "a:80", Addr: "10.0.0.1", Port: 80, Options: "check"}},
		{plan.RemoveServer{Backend: "web", Server: "a:80", NotBefore: later},
			haproxyapi.Change{Op: haproxyapi.OpDelServer, Backend: "web", Server: "a:80"}},
		{plan.EnableHealth{Backend: "web", Server: "a:80"},
			haproxyapi.Change{Op: haproxyapi.OpEnableHealth, Backend: "web", Server: "a:80"}},
		{plan.ShutdownSessions{Backend: "web", Server: "a:80"},
			haproxyapi.Change{Op: haproxyapi.OpShutdownSessions, Backend: "web", Server: "a:80"}},
		{plan.SetServerState{Backend: "web", Server: "a:80", State: model.ServerDrain},
			haproxyapi.Change{Op: haproxyapi.OpSetState, Backend: "web", Server: "a:80", State: model.ServerDrain}},
		{plan.SetServerAddr{Backend: "web", Server: "a:80", Addr: "10.0.0.2", Port: 81},
			haproxyapi.Change{Op: haproxyapi.OpSetAddr, Backend: "web", Server: "a:80", Addr: "10.0.0.2", Port: 81}},
		{plan.SetWeight{Backend: "web", Server: "a:80", Weight: 0},
			haproxyapi.Change{Op: haproxyapi.OpSetWeight, Backend: "web", Server: "a:80", Weight: 0}},
	} {
		got, ok := runtimeChange(c.a)
		if !ok || got != c.want {
			t.Errorf("runtimeChange(%#v) = %+v, %v; want %+v", c.a, got, ok, c.want)
		}
		if got.Target() != c.a.Target() {
			t.Errorf("%s: change targets %s, the action %s", c.a.Kind(), got.Target(), c.a.Target())
		}
	}
	for _, a := range []plan.Action{
		plan.Validate{Path: "/etc/haproxy.cfg"}, plan.WriteFile{Path: "/etc/haproxy.cfg"},
		plan.Kill{}, plan.Start{}, plan.SaveState{Path: "/etc/haproxy.cfg.state"}, plan.Reload{},
	} {
		if c, ok := runtimeChange(a); ok {
			t.Errorf("runtimeChange(%s) = %+v, want none", a.Kind(), c)
		}
	}
}
