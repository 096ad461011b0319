package haproxyapi_test

import (
	"slices"
	"strings"
	"testing"

	"lighthouse/model"
	"lighthouse/model/haproxyapi"
)

func ver(major, minor, patch int) model.Version {
	return model.Version{Major: major, Minor: minor, Patch: patch}
}

func TestAnswersFor(t *testing.T) {
	for _, c := range []struct {
		v       model.Version
		release string
		note    bool
	}{
		{ver(2, 6, 12), "2.6", false},
		{ver(2, 8, 0), "2.8", false},
		{ver(3, 0, 0), "3.0", false},
		{ver(3, 2, 9), "3.2", false},
		{ver(3, 4, 0), "3.4", false},
		{ver(2, 4, 22), "2.6", true},
		{ver(1, 5, 12), "2.6", true},
		{ver(3, 6, 0), "3.4", true},
		// Between two releases with data: the union of both, no release.
		{ver(2, 7, 0), "", true},
		{ver(3, 1, 0), "", true},
		{ver(3, 3, 0), "", true},
		{model.Version{}, "", true},
	} {
		a := haproxyapi.AnswersFor(c.v)
		if a.Release != c.release || (a.Note != "") != c.note {
			t.Errorf("AnswersFor(%s) = release %q note %q; want %q, note %v", c.v, a.Release, a.Note, c.release, c.note)
		}
	}
	// Every release with runtime-API data has answers of its own.
	for _, r := range haproxyapi.Releases() {
		v, err := model.ParseVersion(r)
		if err != nil {
			t.Fatal(err)
		}
		if a := haproxyapi.AnswersFor(v); a.Release != r || a.Note != "" {
			t.Errorf("AnswersFor(%s) = %q (%s)", r, a.Release, a.Note)
		}
	}
}

// The answers to `set server ... addr`, as the releases gave them
// (effects/haproxy/testdata/answers/haproxy-X.Y/set-server-addr-*.txt).
var setAddrAnswers = map[string][]string{
	"2.6": {
		"no need to change the addr, port changed from '18490' to '18492' by 'stats socket command'\n\n",
		"IP changed from '127.0.0.1' to '127.0.0.2', no need to change the port by 'stats socket command'\n\n",
		"no need to change the addr, no need to change the port by 'stats socket command'\n\n",
	},
	"2.8": {
		"no need to change the addr, port changed from '18490' to '18492' by 'stats socket command'\n\n",
		"IP changed from '127.0.0.2' to '127.0.0.1', port changed from '18492' to '18490' by 'stats socket command'\n\n",
	},
	"3.0": {
		"port changed from '18490' to '18492' by 'stats socket command'\n\n",
		"IP changed from '127.0.0.1' to '127.0.0.2' by 'stats socket command'\n\n",
		"nothing changed\n\n",
	},
	"3.2": {
		"port changed from '18490' to '18492' by 'stats socket command'\n\n",
		"IP changed from '127.0.0.2' to '127.0.0.1', port changed from '18492' to '18490' by 'stats socket command'\n\n",
		"nothing changed\n\n",
	},
	"3.4": {
		"port changed from '18490' to '18492' by 'stats socket command'\n\n",
		"nothing changed\n\n",
	},
}

func TestSetServerAddrAnswers(t *testing.T) {
	for release, answers := range setAddrAnswers {
		v, _ := model.ParseVersion(release)
		a := haproxyapi.AnswersFor(v)
		for _, ans := range answers {
			if !a.SetServerAddr.Success(ans) {
				t.Errorf("%s: %q is not taken as success", release, ans)
			}
			if !haproxyapi.AnswersFor(model.Version{}).SetServerAddr.Success(ans) {
				t.Errorf("unknown version: %q (from %s) is not taken as success", ans, release)
			}
		}
		for _, refusal := range []string{"No such server.\n\n", "Invalid addr 'x'", "Require 'backend/server'.\n"} {
			if a.SetServerAddr.Success(refusal) {
				t.Errorf("%s: refusal %q taken as success", release, refusal)
			}
		}
	}
	// 3.0 on no longer says what stays; 2.6 never answers that way.
	if haproxyapi.AnswersFor(ver(2, 6, 0)).SetServerAddr.Success("port changed from '1' to '2' by 'stats socket command'") {
		t.Error("2.6 takes a 3.x answer")
	}
	if !haproxyapi.AnswersFor(ver(2, 6, 0)).SetServerAddr.Success("") || haproxyapi.AnswersFor(ver(3, 2, 0)).SetServerAddr.Success("") {
		t.Error("the empty answer: success for 2.6 (as before), not for 3.2")
	}
	for _, r := range []string{"2.6", "2.8"} {
		v, _ := model.ParseVersion(r)
		if haproxyapi.AnswersFor(v).SetServerAddrAsync {
			t.Errorf("%s: set server addr taken as asynchronous", r)
		}
	}
	for _, r := range []string{"3.0", "3.2", "3.4", "3.1", ""} {
		v, _ := model.ParseVersion(r)
		if !haproxyapi.AnswersFor(v).SetServerAddrAsync {
			t.Errorf("%q: set server addr taken as synchronous", r)
		}
	}
}

func TestRefusals(t *testing.T) {
	all := []string{"2.6", "2.8", "3.0", "3.2", "3.4"}
	for _, c := range []struct {
		answer   string
		releases []string // that answer so; the others need not know it
		want     haproxyapi.Refusal
	}{
		{"Unknown command, but maybe one of the following ones is a better match:\n  add map", []string{"2.6"}, haproxyapi.UnknownCommand},
		{"Unknown command: 'bogus', but maybe one of the following ones is a better match:\n", all[1:], haproxyapi.UnknownCommand},
		{"Permission denied\n", all, haproxyapi.PermissionDenied},
		{"No such backend.\n", all, haproxyapi.NoSuchBackend},
		{"Can't find backend.\n\n", all, haproxyapi.NoSuchBackend},
		{"No such server.\n\n", all, haproxyapi.NoSuchServer},
		{"Server still has connections attached to it, cannot remove it.", all, haproxyapi.ServerHasConnections},
		{"Only servers in maintenance mode can be deleted.\n", all, haproxyapi.NotInMaintenance},
		{"Already exists a server with the same name in backend.\n\n", all, haproxyapi.AlreadyExists},
		{"unknown keyword 'bogus'.\n\n", all, haproxyapi.NotDynamic},
		{"'cookie' option is not accepted for dynamic server\n\n", []string{"2.6", "2.8"}, haproxyapi.NotDynamic},
		{"Backend must use a dynamic load balancing to support dynamic servers.\n", all[:4], haproxyapi.NotDynamic},
		{"Backend does not support dynamic servers : backend 'static' uses a non dynamic load balancing method.\n\n", []string{"3.4"}, haproxyapi.NotDynamic},
		{"Health check was not configured on this server, cannot enable.\n\n", all, haproxyapi.NotRefused},
		{"New server registered.\n\n", all, haproxyapi.NotRefused},
		{"", all, haproxyapi.NotRefused},
	} {
		for _, r := range c.releases {
			v, _ := model.ParseVersion(r)
			if got := haproxyapi.AnswersFor(v).Refusal(c.answer); got != c.want {
				t.Errorf("%s: Refusal(%q) = %v, want %v", r, c.answer, got, c.want)
			}
		}
		if got := haproxyapi.AnswersFor(model.Version{}).Refusal(c.answer); got != c.want {
			t.Errorf("unknown version: Refusal(%q) = %v, want %v", c.answer, got, c.want)
		}
	}
	if s := haproxyapi.NoSuchServer.String(); s != "no such server" {
		t.Errorf("NoSuchServer.String() = %q", s)
	}
}

func TestActionReplies(t *testing.T) {
	for _, r := range []string{"2.6", "2.8", "3.0", "3.2", "3.4", ""} {
		v, _ := model.ParseVersion(r)
		a := haproxyapi.AnswersFor(v)
		if !a.AddServer.Success("New server registered.\n\n") || a.AddServer.Success("") || a.AddServer.Success("No such backend.\n") {
			t.Errorf("%q: add server replies %+v", r, a.AddServer)
		}
		if !a.DelServer.Success("Server deleted.\n") || a.DelServer.Success("No such server.\n") {
			t.Errorf("%q: del server replies %+v", r, a.DelServer)
		}
		if !a.ServerAction.Success("\n") || a.ServerAction.Success("No such server.\n\n") {
			t.Errorf("%q: server action replies %+v", r, a.ServerAction)
		}
		if a.ServersState.Version != "1" || len(a.ServersState.Columns) != 25 || a.ServersState.Columns[18] != "srv_port" {
			t.Errorf("%q: servers state format %+v", r, a.ServersState)
		}
	}
}

func TestProcAndReload(t *testing.T) {
	for _, c := range []struct {
		release                   string
		loading, amongOld, report bool
		busy                      bool
	}{
		{"2.6", false, false, false, false},
		{"2.8", false, false, true, false},
		{"3.0", false, false, true, false},
		{"3.2", true, true, true, true},
		{"3.4", true, true, true, true},
		{"3.1", true, true, true, true},
		{"", true, true, true, true},
	} {
		v, _ := model.ParseVersion(c.release)
		a := haproxyapi.AnswersFor(v)
		if a.Proc.ListsLoadingWorker != c.loading || a.Proc.ServingWorkerAmongOld != c.amongOld || a.Reload.Reports != c.report || (a.Reload.Busy != "") != c.busy ||
			(a.Proc.LoadStatus == "_loadstatus") != c.report {
			t.Errorf("%q: proc %+v reload %+v", c.release, a.Proc, a.Reload)
		}
	}
}

func TestParseReport(t *testing.T) {
	a := haproxyapi.AnswersFor(ver(3, 2, 0))
	ok := "Success=1\n--\n[NOTICE]   (14776) : Initializing new worker (14782)\n[NOTICE]   (14776) : Loading success.\n\n"
	r, isReport := a.ParseReport(ok)
	if !isReport || !r.Success || r.Busy || len(r.Logs) != 2 || !strings.Contains(r.Logs[1], "Loading success.") {
		t.Errorf("success: %+v, %v", r, isReport)
	}
	failed := "Success=0\n--\n[NOTICE]   (15583) : haproxy version is 3.2.0-e134140d2\n" +
		"[ALERT]    (15583) : config : parsing [c.cfg:2] : unknown keyword 'bogus_directive' in 'global' section\n" +
		"[WARNING]  (15473) : Failed to load worker!\n\n"
	r, isReport = a.ParseReport(failed)
	if !isReport || r.Success || r.Busy || len(r.Logs) != 3 || !strings.Contains(r.Logs[1], "bogus_directive") {
		t.Errorf("failure: %+v, %v", r, isReport)
	}
	busy := "Success=0\n--\nAnother reload is still in progress.\n"
	r, isReport = a.ParseReport(busy)
	if !isReport || r.Success || !r.Busy || len(r.Logs) != 0 {
		t.Errorf("busy: %+v, %v", r, isReport)
	}
	// 3.0 has no such sentence: the line is a log line there.
	if r, _ := haproxyapi.AnswersFor(ver(3, 0, 0)).ParseReport(busy); r.Busy || !slices.Equal(r.Logs, []string{"Another reload is still in progress."}) {
		t.Errorf("busy on 3.0: %+v", r)
	}
	for _, s := range []string{"", "\n", "Unknown command: 'reload'", "Success=2\n"} {
		if r, isReport := a.ParseReport(s); isReport {
			t.Errorf("ParseReport(%q) = %+v, want no report", s, r)
		}
	}
}
