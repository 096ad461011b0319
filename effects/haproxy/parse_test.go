package haproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"lighthouse/model"
	"lighthouse/model/haproxyapi"
)

// answers26 reads the 2.6 answers of testdata/*.txt (Debian's 2.6.12).
var answers26 = haproxyapi.AnswersFor(model.Version{Major: 2, Minor: 6, Patch: 12})

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseInfo(t *testing.T) {
	info, err := parseInfo(readTestdata(t, "show_info.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := Info{Name: "HAProxy", Version: "2.6.12-1+deb12u4", Pid: 30406, Uptime: time.Second, CurrConns: 0}
	if diff := cmp.Diff(want, info, cmpopts.IgnoreFields(Info{}, "Fields")); diff != "" {
		t.Errorf("parseInfo (-want +got):\n%s", diff)
	}
	for k, v := range map[string]string{"Nbthread": "2", "Release_date": "2026/10/17", "Unstoppable Jobs": "1", "Uptime": "0d 0h00m01s"} {
		if info.Fields[k] != v {
			t.Errorf("Fields[%q] = %q, want %q", k, info.Fields[k], v)
		}
	}
	if _, err := parseInfo("Unknown command, but maybe ...\n"); err == nil {
		t.Error("parseInfo accepted an unknown-command answer")
	}
}

func TestParseServersState(t *testing.T) {
	got, err := parseServersState(readTestdata(t, "show_servers_state.txt"), answers26.ServersState)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Backend, Name, Addr, FQDN string
		Port                      int
		Op                        OpState
		Admin                     AdminState
		UWeight                   int
		State                     model.ServerState
	}
	var rows []row
	for _, s := range got {
		rows = append(rows, row{s.Backend, s.Name, s.Addr, s.FQDN, s.Port, s.OpState, s.AdminState, s.UWeight, s.State})
	}
	want := []row{
		{"web", "app01.example.com:8000", "127.0.0.1", "", 18190, OpRunning, 0, 7, model.ServerReady},
		{"web", "app02.example.com:8000", "127.0.0.1", "", 18190, OpRunning, AdminFDrain, 1, model.ServerDrain},
		{"web", "app03.example.com:8000", "127.0.0.1", "", 18199, OpStopped, 0, 1, model.ServerReady},
		{"web", "slot1", "127.0.0.1", "", 9, OpStopped, AdminFMaint | AdminCMaint, 1, model.ServerMaint},
		{"web", "slot2", "127.0.0.1", "", 18190, OpRunning, AdminCMaint, 1, model.ServerReady},
		{"web", "dyn1", "::1", "", 18190, OpStopped, AdminFMaint, 3, model.ServerMaint},
		{"web", "dyn2", "127.0.0.1", "", 18190, OpRunning, 0, 1, model.ServerReady},
		{"web", "dyn3", "", "localhost", 18190, OpStopped, AdminFMaint, 1, model.ServerMaint},
		{"cache", "redis1", "127.0.0.1", "", 18190, OpRunning, 0, 1, model.ServerReady},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("parseServersState (-want +got):\n%s", diff)
	}
	if got[0].BackendID != 3 || got[0].ID != 1 || got[8].BackendID != 4 || got[0].Field("srv_check_status") != "6" || got[0].Field("no_such_column") != "" {
		t.Errorf("ids/fields: %+v", got[0])
	}
}

func TestParseServersStateRejects(t *testing.T) {
	for name, answer := range map[string]string{
		"backend error":   "Can't find backend.\n\n",
		"empty":           "",
		"version 2":       "2\n# be_id be_name\n",
		"no header":       "1\n3 b 1 s1 127.0.0.1 2 0 1 1 9 6 3 4 6 0 0 0 - 1 - 0 0 - - 0\n",
		"missing columns": "1\n# be_id be_name srv_id\n3 b 1\n",
		"short row":       "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_port\n3 b 1 s1 127.0.0.1 2 0 1 1\n",
		"not a number":    "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_port\n3 b 1 s1 127.0.0.1 x 0 1 1 80\n",
	} {
		if got, err := parseServersState(answer, answers26.ServersState); err == nil {
			t.Errorf("%s: parseServersState(%q) = %v, want an error", name, answer, got)
		}
	}
	// An empty backend has a header and no rows.
	got, err := parseServersState("1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_port\n\n", answers26.ServersState)
	if err != nil || len(got) != 0 {
		t.Errorf("empty backend: %v, %v", got, err)
	}
}

func TestParseStat(t *testing.T) {
	rows, err := parseStat(readTestdata(t, "show_stat.txt"))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Proxy, Name, Status string
		Type, Weight        int
		Addr, Check         string
	}
	var got []row
	for _, r := range rows {
		got = append(got, row{r.Proxy, r.Name, r.Status, r.Type, r.Weight, r.Addr, r.CheckStatus})
	}
	want := []row{
		{"fe", "FRONTEND", "OPEN", 0, 0, "", ""},
		{"web", "app01.example.com:8000", "UP", 2, 7, "127.0.0.1:18190", "L4OK"},
		{"web", "app02.example.com:8000", "DRAIN", 2, 1, "127.0.0.1:18190", "L4OK"},
		{"web", "app03.example.com:8000", "DOWN", 2, 1, "127.0.0.1:18199", "L4CON"},
		{"web", "slot1", "MAINT", 2, 1, "127.0.0.1:9", ""},
		{"web", "slot2", "no check", 2, 1, "127.0.0.1:18190", ""},
		{"web", "dyn1", "MAINT", 2, 1, "[::1]:18190", ""},
		{"web", "dyn2", "no check", 2, 1, "127.0.0.1:18190", ""},
		{"web", "dyn3", "MAINT", 2, 1, "", ""},
		{"web", "BACKEND", "UP", 1, 9, "", ""},
		{"cache", "redis1", "no check", 2, 1, "127.0.0.1:18190", ""},
		{"cache", "BACKEND", "UP", 1, 1, "", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseStat (-want +got):\n%s", diff)
	}
	if !rows[1].IsServer() || rows[0].IsServer() || rows[9].IsServer() {
		t.Error("IsServer wrong")
	}
	if rows[9].Fields["algo"] != "roundrobin" || rows[11].Fields["algo"] != "static-rr" || rows[3].Fields["check_desc"] != "Layer4 connection problem" {
		t.Errorf("Fields: algo %q %q, check_desc %q", rows[9].Fields["algo"], rows[11].Fields["algo"], rows[3].Fields["check_desc"])
	}
	if _, err := parseStat("Permission denied\n\n"); err == nil {
		t.Error("parseStat accepted an error answer")
	}
}

func TestAdminStateState(t *testing.T) {
	for a, want := range map[AdminState]model.ServerState{
		0:                         model.ServerReady,
		AdminCMaint:               model.ServerReady, // `disabled` in the config, then set ready
		AdminHMaint:               model.ServerReady,
		AdminFMaint:               model.ServerMaint,
		AdminFMaint | AdminCMaint: model.ServerMaint,
		AdminIMaint:               model.ServerMaint,
		AdminRMaint:               model.ServerMaint,
		AdminFDrain:               model.ServerDrain,
		AdminIDrain:               model.ServerDrain,
		AdminFDrain | AdminFMaint: model.ServerMaint,
	} {
		if got := a.State(); got != want {
			t.Errorf("AdminState(%#x).State() = %s, want %s", int(a), got, want)
		}
	}
}

// The answers below are HAProxy's own words (2.6.12's, and 3.4's refusal of
// a static backend), read with the data of every release (the zero
// Version); testdata/answers has each release's own, read with its data.
func TestClassify(t *testing.T) {
	for answer, want := range map[string]error{
		"Unknown command, but maybe one of the following ones is a better match:\n  add acl": ErrUnknownCommand,
		"Unknown command.":    ErrUnknownCommand, // HAProxy 1.x
		"Permission denied":   ErrPermissionDenied,
		"No such backend.":    ErrNoSuchBackend,
		"Can't find backend.": ErrNoSuchBackend,
		"No such server.":     ErrNoSuchServer,
		"Server still has connections attached to it, cannot remove it.":                                        ErrServerHasConnections,
		"Only servers in maintenance mode can be deleted.":                                                      ErrNotInMaintenance,
		"'cookie' option is not accepted for dynamic server":                                                    ErrNotDynamic,
		"'redir' option is not accepted for dynamic server":                                                     ErrNotDynamic,
		"unknown keyword 'bogus'.":                                                                              ErrNotDynamic,
		"Backend must use a dynamic load balancing to support dynamic servers.":                                 ErrNotDynamic,
		"Already exists a server with the same name in backend.":                                                ErrAlreadyExists,
		"Backend does not support dynamic servers : backend 'static' uses a non dynamic load balancing method.": ErrNotDynamic,
		"Absolute weight can only be between 0 and 256 inclusive.":                                              nil,
		"'set server <srv> state' expects 'ready', 'drain' and 'maint'.":                                        nil,
		"Health check was not configured on this server, cannot enable.":                                        nil,
		"invalid port '70000'":   nil,
		"New server registered.": nil,
	} {
		if got := classify(haproxyapi.AnswersFor(model.Version{}), answer); got != want {
			t.Errorf("classify(%q) = %v, want %v", answer, got, want)
		}
	}
}

// Every refusal the data knows has a sentinel of its own.
func TestEveryRefusalHasASentinel(t *testing.T) {
	seen := map[error]haproxyapi.Refusal{}
	for r := haproxyapi.NotRefused + 1; r.String() != "refusal("+strconv.Itoa(int(r))+")"; r++ {
		err := refusalErrors[r]
		if err == nil {
			t.Errorf("refusal %s has no sentinel", r)
			continue
		}
		if other, dup := seen[err]; dup {
			t.Errorf("refusals %s and %s share the sentinel %v", other, r, err)
		}
		seen[err] = r
	}
	if len(seen) != len(refusalErrors) {
		t.Errorf("%d refusals, %d sentinels", len(seen), len(refusalErrors))
	}
}

func TestCommandErrorIs(t *testing.T) {
	var err error = &CommandError{Socket: "/run/a.sock", Command: "del server b/x", Answer: "No such server.", Err: ErrNoSuchServer}
	if !errors.Is(err, ErrNoSuchServer) || errors.Is(err, ErrNoSuchBackend) {
		t.Errorf("errors.Is wrong for %v", err)
	}
	if got, want := err.Error(), "haproxy /run/a.sock: del server b/x: No such server."; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestValidationErrorAlerts(t *testing.T) {
	e := &ValidationError{Path: "/x/h.cfg", Output: `[NOTICE]   (29181) : haproxy version is 2.6.12-1+deb12u4
[NOTICE]   (29181) : path to executable is /usr/sbin/haproxy
[ALERT]    (29181) : config : parsing [/x/h.cfg:20] : unknown keyword 'bogus' in 'backend' section
[ALERT]    (29181) : config : Error(s) found in configuration file : /x/h.cfg
[ALERT]    (29181) : config : Fatal errors found in configuration.
`}
	want := []string{
		"config : parsing [/x/h.cfg:20] : unknown keyword 'bogus' in 'backend' section",
		"config : Error(s) found in configuration file : /x/h.cfg",
		"config : Fatal errors found in configuration.",
	}
	if diff := cmp.Diff(want, e.Alerts()); diff != "" {
		t.Errorf("Alerts (-want +got):\n%s", diff)
	}
	if got, want := e.Error(), "haproxy -c rejected /x/h.cfg: config : parsing [/x/h.cfg:20] : unknown keyword 'bogus' in 'backend' section"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestArgumentChecks(t *testing.T) {
	for _, tc := range []struct {
		backend, server, addr string
		port                  int
		ok                    bool
	}{
		{"web", "app01.example.com:8000", "10.0.0.1", 8000, true},
		{"web", "a_b-c", "::1", 1, true},
		{"web", "a", "127.0.0.1", 65535, true},
		{"web", "a", "127.0.0.1", 0, false},
		{"web", "a", "127.0.0.1", 65536, false},
		{"web", "a", "127.0.0.1", 70000, false},
		{"web", "a", "localhost", 80, false},
		{"web", "a", "fe80::1%eth0", 80, false},
		{"web", "a", "127.0.0.1 check", 80, false},
		{"web", "a b", "127.0.0.1", 80, false},
		{"web", "a;shutdown sessions", "127.0.0.1", 80, false},
		{"web", "a\nshow info", "127.0.0.1", 80, false},
		{"web", "a/b", "127.0.0.1", 80, false},
		{"", "a", "127.0.0.1", 80, false},
		{"web", "", "127.0.0.1", 80, false},
		{"we b", "a", "127.0.0.1", 80, false},
	} {
		_, err := checkServerArgs(tc.backend, tc.server, tc.addr, tc.port)
		if (err == nil) != tc.ok {
			t.Errorf("checkServerArgs(%q, %q, %q, %d) = %v, want ok=%v", tc.backend, tc.server, tc.addr, tc.port, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("error %v does not wrap ErrInvalidArgument", err)
		}
	}
	for opts, ok := range map[string]bool{
		"":                        true,
		"check inter 2s weight 5": true,
		"check; shutdown session": false,
		"check\nshow info":        false,
		"check\\;x":               false,
		"check\tinter 1s":         false,
	} {
		if err := checkOptions(opts); (err == nil) != ok {
			t.Errorf("checkOptions(%q) = %v, want ok=%v", opts, err, ok)
		}
	}
}

// A socket that accepts but never answers: the exchange ends at the
// timeout, or earlier when the context is cancelled.
func TestSocketTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mute.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	_, err = Socket{Path: path, Timeout: 100 * time.Millisecond}.ShowInfo(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("ShowInfo on a mute socket = %v after %v, want a deadline error after 100ms", err, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start = time.Now()
	_, err = Socket{Path: path}.ShowStat(ctx)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Errorf("ShowStat cancelled = %v after %v, want context.Canceled", err, time.Since(start))
	}
	if _, err := (Socket{Path: path}).Send(context.Background(), "show info\nshow stat"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Send of two lines = %v, want ErrInvalidArgument", err)
	}
}

// BenchmarkParseServersState parses the answer of an HAProxy that runs
// 1,000 backends × 50 servers, which the writer asks for before each plan.
func BenchmarkParseServersState(b *testing.B) {
	header := readTestdata(b, "show_servers_state.txt")
	header = header[:strings.Index(header, "\n3 ")+1] // the version and the # header
	var sb strings.Builder
	sb.WriteString(header)
	for be := range 1000 {
		for s := range 50 {
			fmt.Fprintf(&sb, "%d svc%04d %d host%02d.example.com:8000 10.%d.%d.%d 2 0 1 1 5 6 3 4 6 0 0 0 - 8000 - 0 0 - - 0\n",
				be+3, be, s+1, s, be/250, be%250, s+1)
		}
	}
	answer := sb.String()
	b.SetBytes(int64(len(answer)))
	b.ReportAllocs()
	for b.Loop() {
		list, err := parseServersState(answer, answers26.ServersState)
		if err != nil || len(list) != 50000 {
			b.Fatal(len(list), err)
		}
	}
}
