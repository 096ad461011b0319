package haproxy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"lighthouse/internal/testenv"
	"lighthouse/model"
	"lighthouse/model/haproxyapi"
)

// The answers of every release, recorded in testdata/answers/haproxy-X.Y:
// one file per step of answerSteps, the raw answer of the release's .0
// build, with pids, the temporary directory and the binary's path replaced
// by fixed stand-ins (see recorder.clean). TestRecordedAnswers reads the
// recordings with each release's haproxyapi.Answers; TestAnswersLive runs
// the same steps on every installed release, reads the live answers the
// same way and compares them with the recordings (numbers aside). To record
// them again:
//
//	LIGHTHOUSE_RECORD_ANSWERS=1 go test -run TestAnswersLive ./effects/haproxy
const recordEnv = "LIGHTHOUSE_RECORD_ANSWERS"

// The ports of the scenario's servers: nothing connects to them (no checks,
// no traffic), so fixed numbers keep the recordings stable.
const (
	portA = 18490
	portB = 18492
)

// answersConfig is the scenario's config; {dir} is its directory, {fe} a
// free port.
const answersConfig = `global
    stats socket {dir}/admin.sock mode 600 level admin
    stats timeout 30s

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend fe
    bind 127.0.0.1:{fe}
    default_backend web

backend web
    balance roundrobin
    server s1 127.0.0.1:18490

backend static
    balance static-rr
    server s1 127.0.0.1:18490
`

// answerStep is one command of the scenario and what its answer means.
type answerStep struct {
	file   string // testdata/answers/haproxy-X.Y/FILE.txt
	master bool   // sent to the master CLI, else to the admin socket
	cmd    string
	// before prepares the step (e.g. breaks the config); after waits until
	// the command has taken effect, so that the next answer is the same on
	// every run.
	before, after func(t *testing.T, sc *scenario)
	// check judges the answer with the release's data; it returns what is
	// wrong, or "".
	check func(c answerCheck) string
	// logs: the answer holds startup logs, compared with the recording by
	// its first line and its [ALERT] lines only (the notices and warnings
	// depend on the user, e.g. 3.4 warns when run as root).
	logs bool
}

// answerCheck is what a check sees.
type answerCheck struct {
	answer  string
	answers haproxyapi.Answers
	api     haproxyapi.API
}

func success(reply func(haproxyapi.Answers) haproxyapi.Reply) func(answerCheck) string {
	return func(c answerCheck) string {
		if !reply(c.answers).Success(c.answer) {
			return "not taken as success"
		}
		if r := c.answers.Refusal(c.answer); r != haproxyapi.NotRefused {
			return "taken as refusal " + r.String()
		}
		return ""
	}
}

func refusal(want haproxyapi.Refusal, reply func(haproxyapi.Answers) haproxyapi.Reply) func(answerCheck) string {
	return func(c answerCheck) string {
		if reply(c.answers).Success(c.answer) {
			return "taken as success"
		}
		if got := c.answers.Refusal(c.answer); got != want {
			return fmt.Sprintf("taken as refusal %q, want %q", got, want)
		}
		return ""
	}
}

var (
	addReply    = func(a haproxyapi.Answers) haproxyapi.Reply { return a.AddServer }
	delReply    = func(a haproxyapi.Answers) haproxyapi.Reply { return a.DelServer }
	addrReply   = func(a haproxyapi.Answers) haproxyapi.Reply { return a.SetServerAddr }
	actionReply = func(a haproxyapi.Answers) haproxyapi.Reply { return a.ServerAction }
)

// procCheck parses `show proc` and checks the master's counters and the
// current workers' reload counts.
func procCheck(reloads, failed int, workerReloads ...int) func(answerCheck) string {
	return func(c answerCheck) string {
		pl, err := haproxyapi.ParseProc(c.answer, c.answers)
		if err != nil {
			return err.Error()
		}
		var got []int
		for _, w := range pl.Workers {
			got = append(got, w.Reloads)
		}
		if pl.Master.PID == 0 || pl.Master.Reloads != reloads || pl.Failed != failed || !slices.Equal(got, workerReloads) {
			return fmt.Sprintf("show proc read as %+v; want %d reloads, %d failed, workers with reloads %v", pl, reloads, failed, workerReloads)
		}
		return ""
	}
}

// reportCheck checks the answer to `reload`: the outcome where the release
// reports it, nothing where it does not.
func reportCheck(ok bool, alert string) func(answerCheck) string {
	return func(c answerCheck) string {
		rep, reported := c.answers.ParseReport(c.answer)
		if !c.answers.Reload.Reports {
			if strings.TrimSpace(c.answer) != "" {
				return "the release reports no reload outcome, but answered"
			}
			return ""
		}
		if !reported || rep.Success != ok || rep.Busy {
			return fmt.Sprintf("report %+v (reported %v), want success %v", rep, reported, ok)
		}
		if alert != "" && !strings.Contains(strings.Join(alertLines(rep.Logs), "\n"), alert) {
			return fmt.Sprintf("no alert %q in %q", alert, rep.Logs)
		}
		return ""
	}
}

var answerSteps = []answerStep{
	{file: "show-proc", master: true, cmd: "show proc", check: procCheck(0, 0, 0)},
	{file: "loadstatus", master: true, cmd: "_loadstatus", logs: true, check: func(c answerCheck) string {
		if c.answers.Proc.LoadStatus == "" {
			return refusal(haproxyapi.UnknownCommand, actionReply)(c)
		}
		if rep, ok := c.answers.ParseReport(c.answer); !ok || !rep.Success {
			return fmt.Sprintf("read as %+v (report %v), want Success=1", rep, ok)
		}
		return ""
	}},
	{file: "add-server", cmd: "add server web/dyn1 127.0.0.1:18490", check: success(addReply)},
	{file: "add-server-exists", cmd: "add server web/dyn1 127.0.0.1:18490", check: refusal(haproxyapi.AlreadyExists, addReply)},
	{file: "add-server-cookie", cmd: "add server web/dyn2 127.0.0.1:18490 cookie dyn2", check: func(c answerCheck) string {
		if c.api.CookieAtRuntime() {
			return success(addReply)(c)
		}
		return refusal(haproxyapi.NotDynamic, addReply)(c)
	}},
	{file: "add-server-unknown-keyword", cmd: "add server web/dyn3 127.0.0.1:18490 bogus", check: refusal(haproxyapi.NotDynamic, addReply)},
	{file: "add-server-static-rr", cmd: "add server static/dyn4 127.0.0.1:18490", check: refusal(haproxyapi.NotDynamic, addReply)},
	{file: "add-server-no-backend", cmd: "add server nosuch/dyn5 127.0.0.1:18490", check: refusal(haproxyapi.NoSuchBackend, addReply)},
	{file: "enable-server", cmd: "enable server web/dyn1", check: success(actionReply)},
	{file: "set-server-addr-port", cmd: "set server web/dyn1 addr 127.0.0.1 port 18492", after: waitAddr("127.0.0.1", portB), check: success(addrReply)},
	{file: "set-server-addr-ip", cmd: "set server web/dyn1 addr 127.0.0.2 port 18492", after: waitAddr("127.0.0.2", portB), check: success(addrReply)},
	{file: "set-server-addr-both", cmd: "set server web/dyn1 addr 127.0.0.1 port 18490", after: waitAddr("127.0.0.1", portA), check: success(addrReply)},
	{file: "set-server-addr-same", cmd: "set server web/dyn1 addr 127.0.0.1 port 18490", check: success(addrReply)},
	{file: "set-server-addr-no-server", cmd: "set server web/nosuch addr 127.0.0.1 port 18490", check: refusal(haproxyapi.NoSuchServer, addrReply)},
	{file: "set-server-state-drain", cmd: "set server web/dyn1 state drain", check: success(actionReply)},
	{file: "set-server-state-maint", cmd: "set server web/dyn1 state maint", check: success(actionReply)},
	{file: "set-server-state-ready", cmd: "set server web/dyn1 state ready", check: success(actionReply)},
	{file: "set-server-state-no-server", cmd: "set server web/nosuch state ready", check: refusal(haproxyapi.NoSuchServer, actionReply)},
	{file: "set-weight", cmd: "set weight web/dyn1 20", check: success(actionReply)},
	{file: "enable-health-unconfigured", cmd: "enable health web/dyn1", check: refusal(haproxyapi.NotRefused, actionReply)},
	{file: "show-servers-state", cmd: "show servers state", check: func(c answerCheck) string {
		list, err := parseServersState(c.answer, c.answers.ServersState)
		if err != nil {
			return err.Error()
		}
		want := []string{"web/s1 127.0.0.1:18490 ready", "web/dyn1 127.0.0.1:18490 ready", "static/s1 127.0.0.1:18490 ready"}
		if c.api.CookieAtRuntime() {
			want = slices.Insert(want, 2, "web/dyn2 127.0.0.1:18490 maint")
		}
		var got []string
		for _, s := range list {
			got = append(got, fmt.Sprintf("%s/%s %s:%d %s", s.Backend, s.Name, s.Addr, s.Port, s.State))
		}
		header := strings.Fields(strings.TrimPrefix(strings.Split(c.answer, "\n")[1], "#"))
		if !slices.Equal(got, want) || !slices.Equal(header, c.answers.ServersState.Columns) || list[1].UWeight != 20 || list[1].IWeight != 1 {
			return fmt.Sprintf("read as %q with header %q", got, header)
		}
		return ""
	}},
	{file: "show-servers-state-no-backend", cmd: "show servers state nosuch", check: refusal(haproxyapi.NoSuchBackend, actionReply)},
	{file: "del-server-not-in-maint", cmd: "del server web/dyn1", check: refusal(haproxyapi.NotInMaintenance, delReply)},
	{file: "disable-server", cmd: "disable server web/dyn1", check: success(actionReply)},
	{file: "del-server", cmd: "del server web/dyn1", check: success(delReply)},
	{file: "del-server-no-server", cmd: "del server web/nosuch", check: refusal(haproxyapi.NoSuchServer, delReply)},
	{file: "enable-server-no-backend", cmd: "enable server nosuch/x", check: refusal(haproxyapi.NoSuchBackend, actionReply)},
	{file: "unknown-command", cmd: "bogus command", check: refusal(haproxyapi.UnknownCommand, actionReply)},

	{file: "reload", master: true, cmd: "reload", logs: true, after: waitReloaded(1), check: reportCheck(true, "")},
	{file: "show-proc-reloaded", master: true, cmd: "show proc", check: procCheck(1, 0, 0)},
	{file: "reload-failed", master: true, cmd: "reload", logs: true, before: breakConfig, after: waitReloaded(2),
		check: reportCheck(false, "unknown keyword 'bogus_directive'")},
	// 3.1 on list the serving worker among the old ones; haproxyapi.ParseProc puts it
	// back among the current workers.
	{file: "show-proc-failed", master: true, cmd: "show proc", check: procCheck(2, 1, 1)},
	{file: "reload-repaired", master: true, cmd: "reload", logs: true, before: repairConfig, after: waitReloaded(3), check: reportCheck(true, "")},
	{file: "show-proc-repaired", master: true, cmd: "show proc", check: procCheck(3, 0, 0)},
}

// scenario is one release's HAProxy running answersConfig.
type scenario struct {
	in  *instance
	rec *recorder
}

// waitAddr waits until web/dyn1 shows ip:port (3.0 on apply it after they
// answer).
func waitAddr(ip string, port int) func(t *testing.T, sc *scenario) {
	return func(t *testing.T, sc *scenario) {
		testenv.WaitFor(t, 5*time.Second, fmt.Sprintf("web/dyn1 at %s:%d", ip, port), func() bool {
			st, _ := serverState(t, sc.in.Admin, "web", "dyn1")
			return st.Addr == ip && st.Port == port
		})
	}
}

// waitReloaded waits until the master has counted n reloads and the workers
// of earlier configs have left; it records the pids it meets.
func waitReloaded(n int) func(t *testing.T, sc *scenario) {
	return func(t *testing.T, sc *scenario) {
		testenv.WaitFor(t, 10*time.Second, fmt.Sprintf("reload %d to be done", n), func() bool {
			out, err := sc.in.master(ctxT(t), "show proc")
			if err != nil {
				return false
			}
			pl, err := haproxyapi.ParseProc(out, sc.in.answers())
			if err != nil || pl.Master.Reloads != n || len(pl.Workers) != 1 || len(pl.OldWorkers) != 0 {
				return false
			}
			sc.rec.pids(pl)
			return true
		})
	}
}

func breakConfig(t *testing.T, sc *scenario) {
	text, err := os.ReadFile(sc.in.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sc.in.ConfigFile+".good", text, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(sc.in.ConfigFile, append(text, "    bogus_directive\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
}

func repairConfig(t *testing.T, sc *scenario) {
	if err := os.Rename(sc.in.ConfigFile+".good", sc.in.ConfigFile); err != nil {
		t.Fatal(err)
	}
}

// recorder turns live answers into recordings: pids, the directory and the
// binary's path replaced by stand-ins that stay the same from run to run.
type recorder struct {
	dir, binary string
	pid         map[string]string // live pid → stand-in, numbered in order of appearance
}

// pidInAnswer matches a pid: first on a `show proc` line (group 1, padded
// to a column by group 2), or in parentheses in HAProxy's logs (group 3).
var pidInAnswer = regexp.MustCompile(`(?m)^(\d+)([ \t]+)(?:master|worker)\b|\((\d+)\)`)

// pids numbers the pids of a `show proc` answer: master first, then the
// workers.
func (r *recorder) pids(pl haproxyapi.ProcList) {
	for _, p := range append([]haproxyapi.Proc{pl.Master}, append(pl.Workers, pl.OldWorkers...)...) {
		r.stand(strconv.Itoa(p.PID))
	}
}

func (r *recorder) stand(pid string) string {
	if s, ok := r.pid[pid]; ok {
		return s
	}
	s := strconv.Itoa(1000 + len(r.pid))
	r.pid[pid] = s
	return s
}

// clean returns answer as recorded.
func (r *recorder) clean(answer string) string {
	answer = strings.ReplaceAll(answer, r.binary, "/usr/local/sbin/haproxy")
	answer = strings.ReplaceAll(answer, r.dir, "/run/lighthouse")
	return pidInAnswer.ReplaceAllStringFunc(answer, func(m string) string {
		sub := pidInAnswer.FindStringSubmatch(m)
		if sub[3] != "" {
			return "(" + r.stand(sub[3]) + ")"
		}
		stand := r.stand(sub[1])
		pad := max(1, len(sub[1])+len(sub[2])-len(stand))
		return stand + strings.Repeat(" ", pad) + m[len(sub[1])+len(sub[2]):]
	})
}

// numbers matches what may differ between two runs of the scenario:
// numbers (pids, uptimes, counters) and runs of blanks.
var (
	numbers = regexp.MustCompile(`\d+`)
	blanks  = regexp.MustCompile(`[ \t]+`)
)

// comparable reduces an answer to what must be the same on every run.
func comparable(answer string, logs bool) string {
	answer = strings.TrimSpace(answer)
	if logs {
		lines := strings.Split(answer, "\n")
		keep := lines[:1]
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, "[ALERT]") {
				keep = append(keep, l)
			}
		}
		answer = strings.Join(keep, "\n")
	}
	return blanks.ReplaceAllString(numbers.ReplaceAllString(answer, "N"), " ")
}

func answersDir(release string) string {
	return filepath.Join("testdata", "answers", "haproxy-"+release)
}

// TestRecordedAnswers reads every release's recorded answers with that
// release's data.
func TestRecordedAnswers(t *testing.T) {
	for _, release := range testenv.SupportedHAProxy {
		t.Run("haproxy-"+release, func(t *testing.T) {
			v, err := model.ParseVersion(release)
			if err != nil {
				t.Fatal(err)
			}
			a := haproxyapi.AnswersFor(v)
			if a.Release != release {
				t.Fatalf("AnswersFor(%s).Release = %q", v, a.Release)
			}
			for _, step := range answerSteps {
				b, err := os.ReadFile(filepath.Join(answersDir(release), step.file+".txt"))
				if err != nil {
					t.Errorf("%v (record with %s=1)", err, recordEnv)
					continue
				}
				if msg := step.check(answerCheck{string(b), a, haproxyapi.For(v)}); msg != "" {
					t.Errorf("%s: %s: %q: %s", step.file, step.cmd, b, msg)
				}
			}
		})
	}
}

// TestAnswersLive runs the scenario on every installed release: each answer
// is read with the release's data and compared with the recording.
func TestAnswersLive(t *testing.T) {
	t.Parallel()
	record := os.Getenv(recordEnv) != ""
	forEachRelease(t, func(t *testing.T, r testenv.HAProxyRelease) {
		fe := testenv.FreePort(t)
		in := newInstance(t, r, "")
		text := strings.NewReplacer("{dir}", in.Dir, "{fe}", strconv.Itoa(fe)).Replace(answersConfig)
		if err := os.WriteFile(in.ConfigFile, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := in.Start(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		sc := &scenario{in: in, rec: &recorder{dir: in.Dir, binary: r.Binary, pid: map[string]string{}}}
		name := fmt.Sprintf("%d.%d", r.Version.Major, r.Version.Minor)
		dir := answersDir(name)
		if record {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		c := answerCheck{answers: in.answers(), api: haproxyapi.For(r.Version)}
		for _, step := range answerSteps {
			if step.before != nil {
				step.before(t, sc)
			}
			var err error
			if step.master {
				c.answer, err = in.master(ctxT(t), step.cmd)
			} else {
				c.answer, err = exchange(ctxT(t), in.Admin.Path, step.cmd, 0)
			}
			if err != nil {
				t.Fatalf("%s: %s: %v", step.file, step.cmd, err)
			}
			if step.file == "show-proc" {
				pl, _ := haproxyapi.ParseProc(c.answer, c.answers)
				sc.rec.pids(pl)
			}
			if step.after != nil {
				step.after(t, sc)
			}
			if msg := step.check(c); msg != "" {
				t.Errorf("%s: %s: %q: %s", step.file, step.cmd, c.answer, msg)
			}
			path := filepath.Join(dir, step.file+".txt")
			if record {
				if err := os.WriteFile(path, []byte(sc.rec.clean(c.answer)), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%v (record with %s=1)", err, recordEnv)
				continue
			}
			if got, w := comparable(sc.rec.clean(c.answer), step.logs), comparable(string(want), step.logs); got != w {
				t.Errorf("%s: %s: the live answer differs from the recording %s (numbers aside):\nlive:     %q\nrecorded: %q", step.file, step.cmd, path, got, w)
			}
		}
	})
}

// TestRecordedAnswersNeedTheirRelease: read with another release's data,
// recorded answers go wrong — the differences the data exists for.
func TestRecordedAnswersNeedTheirRelease(t *testing.T) {
	read := func(release, file string) string {
		b, err := os.ReadFile(filepath.Join(answersDir(release), file+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	as := func(release string) haproxyapi.Answers {
		v, _ := model.ParseVersion(release)
		return haproxyapi.AnswersFor(v)
	}
	// 3.0 on answer a port change without "no need to change the addr":
	// read as 2.6 (the only release the writer knew), a server that moves
	// could not be moved.
	for _, r := range []string{"3.0", "3.2", "3.4"} {
		a := read(r, "set-server-addr-port")
		if as("2.6").SetServerAddr.Success(a) || !as(r).SetServerAddr.Success(a) {
			t.Errorf("%s's %q: success for 2.6's data %v, for its own %v", r, a, as("2.6").SetServerAddr.Success(a), as(r).SetServerAddr.Success(a))
		}
		if a := read(r, "set-server-addr-same"); as("2.8").SetServerAddr.Success(a) {
			t.Errorf("%s's %q is success for 2.8's data", r, a)
		}
	}
	// 3.4 words the refusal of a static backend anew.
	if a := read("3.4", "add-server-static-rr"); as("3.2").Refusal(a) != haproxyapi.NotRefused || as("3.4").Refusal(a) != haproxyapi.NotDynamic {
		t.Errorf("3.4's %q: refusal for 3.2 %v, for 3.4 %v", a, as("3.2").Refusal(a), as("3.4").Refusal(a))
	}
	// After a failed reload 3.2 lists the serving worker among the old
	// ones: read as 3.0, there is no current worker.
	for _, r := range []string{"3.2", "3.4"} {
		a := read(r, "show-proc-failed")
		old, _ := haproxyapi.ParseProc(a, as("3.0"))
		own, _ := haproxyapi.ParseProc(a, as(r))
		if len(old.Workers) != 0 || len(own.Workers) != 1 || len(own.OldWorkers) != 0 {
			t.Errorf("%s's show proc after a failed reload: as 3.0 %+v, as %s %+v", r, old, r, own)
		}
	}
	// 2.6 reports no reload outcome; 2.8 on do.
	if rep, ok := as("2.8").ParseReport(read("2.8", "reload-failed")); !ok || rep.Success || len(alertLines(rep.Logs)) != 3 {
		t.Errorf("2.8's failed reload: %+v, %v", rep, ok)
	}
	if a := read("2.6", "reload-failed"); a != "" {
		t.Errorf("2.6 answered a failed reload with %q", a)
	}
}
