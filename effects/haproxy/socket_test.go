package haproxy

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lighthouse/internal/testenv"
	"lighthouse/model"
	"lighthouse/model/haproxyapi"
)

// TestSocketAgainstHAProxy drives the runtime API of a real HAProxy whose
// backend "web" starts empty, with Go HTTP servers as real backends. The
// steps build on each other.
func TestSocketAgainstHAProxy(t *testing.T) {
	t.Parallel()
	forEachRelease(t, testSocketAgainstHAProxy)
}

func testSocketAgainstHAProxy(t *testing.T, r testenv.HAProxyRelease) {
	fe := testenv.FreePort(t)
	portA, portB := backend(t, "A"), backend(t, "B")
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	portSlow := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		fmt.Fprint(w, "slow")
	}))
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	in := startInstance(t, r, fmt.Sprintf(`frontend fe
    bind 127.0.0.1:%d
    default_backend web

backend web
    balance roundrobin

backend static
    balance static-rr
    server s1 127.0.0.1:%d
`, fe, portA), "stats socket {dir}/operator.sock mode 600 level operator")
	s := in.Admin
	const app = "app01.example.com:8000" // a name with a colon, as the writer makes them

	t.Run("show info", func(t *testing.T) {
		info, err := s.ShowInfo(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		worker, err := in.WorkerPID(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		release := fmt.Sprintf("%d.%d.", r.Version.Major, r.Version.Minor)
		if info.Name != "HAProxy" || !strings.HasPrefix(info.Version, release) || info.Pid != worker || info.Stopping || info.Uptime < 0 {
			t.Errorf("ShowInfo = %+v (minus Fields), want HAProxy %sx with Pid %d (the worker), not stopping", info, release, worker)
		}
	})

	t.Run("add server arrives in maintenance", func(t *testing.T) {
		if err := s.AddServer(ctxT(t), "web", app, "127.0.0.1", portA, ""); err != nil {
			t.Fatal(err)
		}
		st, ok := serverState(t, s, "web", app)
		if !ok || st.State != model.ServerMaint || st.AdminState != AdminFMaint || st.Addr != "127.0.0.1" || st.Port != portA {
			t.Fatalf("after add: %+v (found %v), want maint at 127.0.0.1:%d", st, ok, portA)
		}
		if code, _ := get(t, fe); code != 503 {
			t.Fatalf("GET with the only server in maintenance = %d, want 503", code)
		}
	})

	t.Run("enable lets traffic in", func(t *testing.T) {
		if err := s.OnServer(ctxT(t), EnableServer, "web", app); err != nil {
			t.Fatal(err)
		}
		wantBody(t, fe, "A")
		if st, _ := serverState(t, s, "web", app); st.State != model.ServerReady || st.OpState != OpRunning {
			t.Errorf("after enable: %+v, want ready and running", st)
		}
	})

	t.Run("add twice", func(t *testing.T) {
		err := s.AddServer(ctxT(t), "web", app, "127.0.0.1", portB, "")
		var ce *CommandError
		if !errors.Is(err, ErrAlreadyExists) || !errors.As(err, &ce) || !strings.HasPrefix(ce.Answer, "Already exists") {
			t.Errorf("second AddServer = %v, want ErrAlreadyExists in a *CommandError", err)
		}
	})

	t.Run("set addr", func(t *testing.T) {
		if err := s.SetServerAddr(ctxT(t), "web", app, "127.0.0.1", portB); err != nil {
			t.Fatal(err)
		}
		wantBody(t, fe, "B")
		if err := s.SetServerAddr(ctxT(t), "web", app, "127.0.0.1", portB); err != nil {
			t.Errorf("SetServerAddr to the same address: %v", err)
		}
		if st, _ := serverState(t, s, "web", app); st.Port != portB {
			t.Errorf("port after set addr = %d, want %d", st.Port, portB)
		}
		if r := statRow(t, s, "web", app); r.Addr != fmt.Sprintf("127.0.0.1:%d", portB) {
			t.Errorf("show stat addr = %q", r.Addr)
		}
	})

	t.Run("set state", func(t *testing.T) {
		for _, tc := range []struct {
			state  model.ServerState
			status string
			admin  AdminState
		}{
			{model.ServerDrain, "DRAIN", AdminFDrain},
			{model.ServerMaint, "MAINT", AdminFMaint},
			{model.ServerReady, "no check", 0},
		} {
			if err := s.SetServerState(ctxT(t), "web", app, tc.state); err != nil {
				t.Fatal(err)
			}
			st, _ := serverState(t, s, "web", app)
			r := statRow(t, s, "web", app)
			if st.State != tc.state || st.AdminState != tc.admin || r.Status != tc.status {
				t.Errorf("after state %s: State %s admin %#x status %q, want %s %#x %q", tc.state, st.State, int(st.AdminState), r.Status, tc.state, int(tc.admin), tc.status)
			}
		}
		wantBody(t, fe, "B")
		if err := s.SetServerState(ctxT(t), "web", app, "up"); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("state up: %v, want ErrInvalidArgument", err)
		}
	})

	t.Run("set weight", func(t *testing.T) {
		if err := s.SetWeight(ctxT(t), "web", app, 20); err != nil {
			t.Fatal(err)
		}
		if st, _ := serverState(t, s, "web", app); st.UWeight != 20 || st.IWeight != 1 {
			t.Errorf("weights after set weight 20: u %d i %d", st.UWeight, st.IWeight)
		}
		if err := s.SetWeight(ctxT(t), "web", app, 300); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("weight 300: %v, want ErrInvalidArgument", err)
		}
	})

	t.Run("health checks", func(t *testing.T) {
		if err := s.AddServer(ctxT(t), "web", "chk", "127.0.0.1", portA, "check inter 100ms weight 5"); err != nil {
			t.Fatal(err)
		}
		for _, f := range []func() error{
			func() error { return s.OnServer(ctxT(t), EnableServer, "web", "chk") },
			func() error { return s.OnServer(ctxT(t), EnableHealth, "web", "chk") },
		} {
			if err := f(); err != nil {
				t.Fatal(err)
			}
		}
		testenv.WaitFor(t, 5*time.Second, "chk to pass its checks", func() bool {
			r := statRow(t, s, "web", "chk")
			return r.Status == "UP" && r.CheckStatus == "L4OK"
		})
		// A server without `check` has no health check to enable.
		err := s.OnServer(ctxT(t), EnableHealth, "web", app)
		var ce *CommandError
		if !errors.As(err, &ce) || ce.Err != nil || !strings.Contains(ce.Answer, "Health check was not configured") {
			t.Errorf("EnableHealth without check = %v", err)
		}
	})

	t.Run("del server", func(t *testing.T) {
		if err := s.OnServer(ctxT(t), DelServer, "web", "chk"); !errors.Is(err, ErrNotInMaintenance) {
			t.Errorf("DelServer of a ready server = %v, want ErrNotInMaintenance", err)
		}
		if err := s.OnServer(ctxT(t), DisableServer, "web", "chk"); err != nil {
			t.Fatal(err)
		}
		if err := s.OnServer(ctxT(t), DelServer, "web", "chk"); err != nil {
			t.Fatal(err)
		}
		if _, ok := serverState(t, s, "web", "chk"); ok {
			t.Error("chk still listed after DelServer")
		}
	})

	t.Run("del server with a request in flight", func(t *testing.T) {
		if err := s.AddServer(ctxT(t), "web", "slow", "127.0.0.1", portSlow, ""); err != nil {
			t.Fatal(err)
		}
		if err := s.OnServer(ctxT(t), EnableServer, "web", "slow"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetServerState(ctxT(t), "web", app, model.ServerMaint); err != nil {
			t.Fatal(err)
		}
		done := make(chan string, 1)
		go func() {
			resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", fe))
			if err != nil {
				done <- err.Error()
				return
			}
			resp.Body.Close()
			done <- resp.Status
		}()
		select {
		case <-entered:
		case <-time.After(5 * time.Second):
			t.Fatal("the request never reached the slow backend")
		}
		if err := s.SetServerState(ctxT(t), "web", "slow", model.ServerMaint); err != nil {
			t.Fatal(err)
		}
		err := s.OnServer(ctxT(t), DelServer, "web", "slow")
		if !errors.Is(err, ErrServerHasConnections) {
			t.Fatalf("DelServer with a request in flight = %v, want ErrServerHasConnections", err)
		}
		t.Logf("as expected: %v", err)
		close(release)
		if got := <-done; got != "200 OK" {
			t.Errorf("the request in flight ended with %q, want 200 OK", got)
		}
		testenv.WaitFor(t, 5*time.Second, "del server slow to succeed", func() bool {
			err := s.OnServer(ctxT(t), DelServer, "web", "slow")
			if err != nil && !errors.Is(err, ErrServerHasConnections) {
				t.Fatalf("DelServer: %v", err)
			}
			return err == nil
		})
		if err := s.SetServerState(ctxT(t), "web", app, model.ServerReady); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("cookie", func(t *testing.T) {
		// 3.0 on take a server cookie at run time; 2.6 and 2.8 refuse it.
		err := s.AddServer(ctxT(t), "web", "c1", "127.0.0.1", portA, "cookie c1")
		if !haproxyapi.For(r.Version).CookieAtRuntime() {
			if !errors.Is(err, ErrNotDynamic) {
				t.Errorf("AddServer with a cookie = %v, want ErrNotDynamic", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("AddServer with a cookie: %v", err)
		}
		if st, ok := serverState(t, s, "web", "c1"); !ok || st.State != model.ServerMaint {
			t.Errorf("c1 after add: %+v (found %v), want maint", st, ok)
		}
		if err := s.OnServer(ctxT(t), DelServer, "web", "c1"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		ctx := ctxT(t)
		for _, tc := range []struct {
			name string
			err  error
			want error
		}{
			{"unknown keyword", s.AddServer(ctx, "web", "c2", "127.0.0.1", portA, "bogus"), ErrNotDynamic},
			{"static-rr", s.AddServer(ctx, "static", "c3", "127.0.0.1", portA, ""), ErrNotDynamic},
			{"add to unknown backend", s.AddServer(ctx, "nosuch", "c4", "127.0.0.1", portA, ""), ErrNoSuchBackend},
			{"servers state of unknown backend", func() error { _, err := s.ShowServersState(ctx, "nosuch"); return err }(), ErrNoSuchBackend},
			{"enable unknown server", s.OnServer(ctx, EnableServer, "web", "nosuch"), ErrNoSuchServer},
			{"disable unknown server", s.OnServer(ctx, DisableServer, "web", "nosuch"), ErrNoSuchServer},
			{"state of unknown server", s.SetServerState(ctx, "web", "nosuch", model.ServerMaint), ErrNoSuchServer},
			{"weight of unknown server", s.SetWeight(ctx, "web", "nosuch", 3), ErrNoSuchServer},
			{"addr of unknown server", s.SetServerAddr(ctx, "web", "nosuch", "127.0.0.1", portA), ErrNoSuchServer},
			{"del unknown server", s.OnServer(ctx, DelServer, "web", "nosuch"), ErrNoSuchServer},
			{"unknown server of unknown backend", s.OnServer(ctx, EnableServer, "nosuch", "x"), ErrNoSuchBackend},
			{"name with ;", s.AddServer(ctx, "web", "a;shutdown", "127.0.0.1", portA, ""), ErrInvalidArgument},
			{"options with ;", s.AddServer(ctx, "web", "a", "127.0.0.1", portA, "check; disable server web/"+app), ErrInvalidArgument},
			{"port 70000", s.AddServer(ctx, "web", "a", "127.0.0.1", 70000, ""), ErrInvalidArgument},
			{"addr port 70000", s.SetServerAddr(ctx, "web", app, "127.0.0.1", 70000), ErrInvalidArgument},
			{"host name", s.AddServer(ctx, "web", "a", "localhost", portA, ""), ErrInvalidArgument},
		} {
			if !errors.Is(tc.err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
			} else {
				t.Logf("%s: %v", tc.name, tc.err)
			}
		}
		// Nothing of the refused commands reached HAProxy.
		list, err := s.ShowServersState(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].Name != app || list[0].State != model.ServerReady {
			t.Errorf("web after the refusals: %+v, want only %s, ready", list, app)
		}
		wantBody(t, fe, "B")
	})

	t.Run("unknown command and permission denied", func(t *testing.T) {
		if _, err := s.Send(ctxT(t), "bogus command"); !errors.Is(err, ErrUnknownCommand) {
			t.Errorf("Send(bogus command) = %v, want ErrUnknownCommand", err)
		}
		op := Socket{Path: filepath.Join(in.Dir, "operator.sock")}
		if err := op.OnServer(ctxT(t), DisableServer, "web", app); !errors.Is(err, ErrPermissionDenied) {
			t.Errorf("DisableServer on a level operator socket = %v, want ErrPermissionDenied", err)
		}
		if _, err := op.ShowStat(ctxT(t)); err != nil {
			t.Errorf("ShowStat on a level operator socket: %v", err)
		}
		// The master CLI knows no `show info`; the exchange still ends
		// (half-close) instead of waiting for the timeout.
		start := time.Now()
		if _, err := (Socket{Path: in.MasterSocket}).ShowInfo(ctxT(t)); !errors.Is(err, ErrUnknownCommand) {
			t.Errorf("show info on the master CLI = %v, want ErrUnknownCommand", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("the master CLI took %v to answer", d)
		}
	})

	t.Run("show stat", func(t *testing.T) {
		rows, err := s.ShowStat(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, fmt.Sprintf("%s/%s type=%d", r.Proxy, r.Name, r.Type))
		}
		want := []string{"fe/FRONTEND type=0", "web/" + app + " type=2", "web/BACKEND type=1", "static/s1 type=2", "static/BACKEND type=1"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("show stat rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if r := statRow(t, s, "web", "BACKEND"); r.Fields["algo"] != "roundrobin" {
			t.Errorf("web algo = %q", r.Fields["algo"])
		}
	})

	t.Run("socket unavailable", func(t *testing.T) {
		_, err := (Socket{Path: filepath.Join(in.Dir, "nosuch.sock")}).ShowInfo(ctxT(t))
		if !errors.Is(err, ErrSocketUnavailable) {
			t.Errorf("ShowInfo on a missing socket = %v, want ErrSocketUnavailable", err)
		}
	})
}
