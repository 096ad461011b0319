package haproxy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"lighthouse/internal/testenv"
	"lighthouse/model"
	"lighthouse/model/haproxyapi"
)

func TestSplitAnswers(t *testing.T) {
	cases := []struct {
		data string
		n    int
		want []string
	}{
		{"\n> \n> No such server.\n\n> ", 2, []string{"\n", "No such server.\n\n"}},
		{"\n> a\nb\n\n> \n> ", 2, []string{"a\nb\n\n", "\n"}},
		{"\n> \n> ", 3, []string{"\n"}},            // the connection ended after one answer
		{"\n> \n> half an ans", 2, []string{"\n"}}, // and in the middle of the second
		{"", 1, nil},
		{"\n> x\n> y\n> z\n> ", 2, []string{"x\n", "y\n"}},
	}
	for _, c := range cases {
		if got := splitAnswers(c.data, c.n); !slices.Equal(got, c.want) {
			t.Errorf("splitAnswers(%q, %d) = %q, want %q", c.data, c.n, got, c.want)
		}
	}
}

// A change that is no command fails as an invalid argument, and nothing is
// sent for it or after it.
func TestApplyUnknownOp(t *testing.T) {
	l := NewLocal("haproxy", "/nonexistent/haproxy.cfg", "/nonexistent/admin.sock", "/nonexistent/haproxy.pid")
	errs := l.Apply(context.Background(), []haproxyapi.Change{{Backend: "web", Server: "a:80"}, {Op: haproxyapi.OpEnableHealth, Backend: "web", Server: "a:80"}})
	if len(errs) != 1 || !errors.Is(errs[0], ErrInvalidArgument) {
		t.Errorf("Apply of an unknown change: %v", errs)
	}
}

// Apply sends runtime changes in batches and judges each answer as the
// typed methods do: a failure names its change, the changes before it are
// done, a busy server is Busy, and no batch follows a failed one.
func TestApplyAgainstHAProxy(t *testing.T) {
	forEachRelease(t, func(t *testing.T, r testenv.HAProxyRelease) {
		in := startInstance(t, r, "backend web\n    balance roundrobin\n    server keep 127.0.0.1:1\n")
		l := NewLocal(r.Binary, in.ConfigFile, in.Admin.Path, in.PidFile)
		l.SetVersion(r.Version)

		// More than one batch: 150 servers added and made ready.
		var adds []haproxyapi.Change
		for i := range 150 {
			name := fmt.Sprintf("s%03d", i)
			adds = append(adds, haproxyapi.Change{Op: haproxyapi.OpAddServer, Backend: "web", Server: name, Addr: "10.0.0.1", Port: 1000 + i},
				haproxyapi.Change{Op: haproxyapi.OpSetState, Backend: "web", Server: name, State: model.ServerReady})
		}
		errs := l.Apply(ctxT(t), adds)
		if len(errs) != len(adds) {
			t.Fatalf("%d results for %d changes", len(errs), len(adds))
		}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("change %d (%s): %v", i, adds[i].Target(), err)
			}
		}
		states, err := in.Admin.ShowServersState(ctxT(t), "web")
		if err != nil || len(states) != 151 {
			t.Fatalf("%d servers after the batch (%v), want 151", len(states), err)
		}
		for _, st := range states {
			if st.Name != "keep" && st.State != model.ServerReady {
				t.Errorf("%s is %s, want ready", st.Name, st.State)
			}
		}

		// The same, as the writer observes a few backends.
		o, err := l.ObserveBackends(ctxT(t), []string{"web"})
		if err != nil || !o.Running || len(o.Servers) != 1 || len(o.Servers["web"]) != 151 || o.Servers["web"][1].State != model.ServerReady {
			t.Fatalf("ObserveBackends(web) = running %v, %d backends, %d servers of web, %v", o.Running, len(o.Servers), len(o.Servers["web"]), err)
		}
		if _, err := l.ObserveBackends(ctxT(t), []string{"web", "nosuch"}); err == nil {
			t.Error("ObserveBackends of a backend HAProxy does not have did not fail")
		}

		// A move, a weight, a failure, and what comes after it in the batch.
		changes := []haproxyapi.Change{
			{Op: haproxyapi.OpSetAddr, Backend: "web", Server: "s000", Addr: "10.0.0.2", Port: 2000},
			{Op: haproxyapi.OpSetWeight, Backend: "web", Server: "s001", Weight: 7},
			{Op: haproxyapi.OpSetState, Backend: "web", Server: "nosuch", State: model.ServerDrain},
			{Op: haproxyapi.OpSetState, Backend: "web", Server: "s002", State: model.ServerDrain},
		}
		errs = l.Apply(ctxT(t), changes)
		if len(errs) != 4 || errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], ErrNoSuchServer) {
			t.Fatalf("results %v, want ok, ok, no such server, and the last", errs)
		}
		s0, _ := serverState(t, in.Admin, "web", "s000")
		s1, _ := serverState(t, in.Admin, "web", "s001")
		if s0.Addr != "10.0.0.2" || s0.Port != 2000 || s1.UWeight != 7 {
			t.Errorf("after the batch: s000 at %s:%d, s001 weight %d", s0.Addr, s0.Port, s1.UWeight)
		}

		// Removing a server that is not in maintenance fails; a change
		// that cannot be a command fails before anything is sent.
		errs = l.Apply(ctxT(t), []haproxyapi.Change{
			{Op: haproxyapi.OpSetState, Backend: "web", Server: "s003", State: model.ServerMaint},
			{Op: haproxyapi.OpDelServer, Backend: "web", Server: "s003"},
			{Op: haproxyapi.OpDelServer, Backend: "web", Server: "s004"},
			{Op: haproxyapi.OpSetState, Backend: "web", Server: "bad name", State: model.ServerMaint},
		})
		if len(errs) != 4 || errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], ErrNotInMaintenance) || !errors.Is(errs[3], ErrInvalidArgument) {
			t.Fatalf("results %v", errs)
		}
		if _, ok := serverState(t, in.Admin, "web", "s003"); ok {
			t.Error("s003 still there after its removal")
		}

		// Nothing listens: every change fails, naming the socket.
		hardStop(t, in.Process)
		errs = l.Apply(ctxT(t), changes[:1])
		if len(errs) != 1 || !errors.Is(errs[0], ErrSocketUnavailable) {
			t.Errorf("without HAProxy: %v", errs)
		}
	})
}
