package haproxyapi

import (
	"slices"
	"strconv"
	"strings"

	"lighthouse/model"
)

// Answers is what one HAProxy release answers on its admin socket and its
// master CLI, where releases differ: which answers to a command mean that it
// was carried out, which refusals it knows, how `show servers state` and
// `show proc` read, and what the master's `reload` answers. The shell
// (effects/haproxy) reads every answer of the HAProxy it talks to through the
// Answers of that HAProxy's version; nothing there assumes one release.
//
// Every entry was seen on the release's build (Debian's 2.6.12, the .0 of
// the others), except two 2.6 refusals kept from the classifier that came
// before: the answers are recorded in
// effects/haproxy/testdata/answers/haproxy-X.Y, and the shell's tests check
// the data against the recordings and against the live releases. The sources
// of the releases say why (noted where it matters).
//
// The flags are chosen so that true is the cautious reading: when it is not
// known which release runs, all of them are true and every release's
// sentences are understood (see AnswersFor).
type Answers struct {
	// Release is the release whose answers these are ("2.6" … "3.4"), or ""
	// when they are the union of every supported release's (the version is
	// unknown).
	Release string
	// Note says why other releases' answers stand for the version asked
	// about, or "" when it has data of its own.
	Note string

	// AddServer is `add server B/S ADDR:PORT ...`.
	AddServer Reply
	// DelServer is `del server B/S`.
	DelServer Reply
	// SetServerAddr is `set server B/S addr IP port PORT`. 2.6 and 2.8 tell
	// what did not change ("no need to change the addr, port changed from
	// '1' to '2' by 'stats socket command'"); 3.0 on tell only what did
	// ("port changed from '1' to '2' by ...", "IP changed from ...") or
	// answer "nothing changed".
	SetServerAddr Reply
	// SetServerAddrAsync: the answer to `set server ... addr` comes before
	// the change is applied (3.0 on: server_atomic_sync_task applies it a
	// moment later), so a `show servers state` sent right after it may
	// still show the old address (seen in 2 to 10% of tries, for up to
	// ~7 ms), and the "from" of the answer may be an address set by an
	// earlier command that is not applied yet. Up to 2.8 the answer comes
	// after the change.
	SetServerAddrAsync bool
	// ServerAction is `set server B/S state ...`, `enable server`, `disable
	// server`, `set weight`, `enable health`, `disable health`: an empty
	// answer in every release.
	ServerAction Reply

	// Refusals are the refusals the release is known to answer, each mapped
	// to what it means. Refusal reads an answer with them.
	Refusals []RefusalText

	// ServersState is the format of `show servers state`.
	ServersState ServersStateFormat
	// Proc is how `show proc` (master CLI) lists the processes.
	Proc ProcAnswers
	// Reload is what the master CLI's `reload` answers.
	Reload ReloadAnswers
}

// Reply is the answers to one command that mean it was carried out. An
// answer is compared with surrounding white space removed.
type Reply struct {
	// Empty: the empty answer means success.
	Empty bool
	// Prefixes: an answer starting with one of these means success.
	Prefixes []string
}

// Success reports whether answer means that the command was carried out.
func (r Reply) Success(answer string) bool {
	a := strings.TrimSpace(answer)
	if a == "" {
		return r.Empty
	}
	for _, p := range r.Prefixes {
		if strings.HasPrefix(a, p) {
			return true
		}
	}
	return false
}

// Refusal is what a known refusal means; the shell maps each to its error.
type Refusal int

// The refusals. NotRefused is an answer that is no known refusal.
const (
	NotRefused           Refusal = iota
	UnknownCommand               // the command does not exist (on this socket)
	PermissionDenied             // the socket's level is too low
	NoSuchBackend                // no backend of that name
	NoSuchServer                 // the backend has no server of that name
	ServerHasConnections         // `del server`: requests still in flight; retry later
	NotInMaintenance             // `del server`: the server is not in maintenance
	NotDynamic                   // not possible with a dynamic server (balance algorithm, setting)
	AlreadyExists                // `add server`: the name is taken
)

var refusalNames = [...]string{"not refused", "unknown command", "permission denied", "no such backend",
	"no such server", "server has connections", "not in maintenance", "not dynamic", "already exists"}

// String returns the refusal in words, e.g. "no such server".
func (r Refusal) String() string {
	if r < 0 || int(r) >= len(refusalNames) {
		return "refusal(" + strconv.Itoa(int(r)) + ")"
	}
	return refusalNames[r]
}

// RefusalText is one refusal sentence: the answer starts with Text (or
// holds it anywhere, with Anywhere).
type RefusalText struct {
	Text     string
	Anywhere bool
	Means    Refusal
}

func (t RefusalText) matches(answer string) bool {
	if t.Anywhere {
		return strings.Contains(answer, t.Text)
	}
	return strings.HasPrefix(answer, t.Text)
}

// Refusal returns what answer refuses, or NotRefused when it is no known
// refusal (white space around it is ignored).
func (a Answers) Refusal(answer string) Refusal {
	s := strings.TrimSpace(answer)
	for _, t := range a.Refusals {
		if t.matches(s) {
			return t.Means
		}
	}
	return NotRefused
}

// ServersStateFormat is the format of `show servers state`: a line holding
// the format version, a "# name name ..." header, one row per server.
type ServersStateFormat struct {
	// Version is the format version of the first line.
	Version string
	// Columns is the header, in order.
	Columns []string
}

// ProcAnswers is how the master CLI's `show proc` lists processes:
//
//	#<PID>          <type>          <reloads>       <uptime>        <version>
//	3004            master          1 [failed: 0]   0d00h01m25s     2.6.12-1+deb12u4
//	# workers
//	3953            worker          0               0d00h00m00s     2.6.12-1+deb12u4
//	# old workers
//	3010            worker          1               0d00h01m25s     2.6.12-1+deb12u4
//
// (the same columns in every supported release).
type ProcAnswers struct {
	// ListsLoadingWorker: a new worker is listed under "# workers" as soon
	// as it is forked, while it still reads its config and before it
	// listens (3.1 on, where the worker, no longer the master, parses the
	// config); LoadStatus tells when it serves. Up to 3.0 the master loads
	// the config and binds the listeners before it forks: a listed worker
	// serves.
	//
	// (Asking the worker itself through the master, "@!PID show info", is
	// no probe: 3.2 holds the command until the worker has loaded, but 3.4
	// answers "Can't find the target PID" while it loads, and in about a
	// third of the starts later commands to that worker go unanswered.)
	ListsLoadingWorker bool
	// LoadStatus is a master CLI command that answers once no worker is
	// loading any more, with a report as `reload` gives one: "Success=1"
	// when the last load succeeded, "Success=0" when it failed (2.7 on:
	// "_loadstatus", the internal command the master itself runs to report
	// a reload; undocumented, so the recordings and the live tests check
	// it on every release). "" when the release has none; a release that
	// does not know it answers "Unknown command".
	LoadStatus string
	// ServingWorkerAmongOld: after a failed reload "# workers" is empty and
	// the worker that keeps serving the previous config is listed under "#
	// old workers" (3.1 on: the master marks every worker as leaving when it
	// re-executes, before the new worker has loaded). It is the old worker
	// that has lived through the fewest reloads. Up to 3.0 it stays under
	// "# workers".
	ServingWorkerAmongOld bool
}

// ReloadAnswers is what the master CLI's `reload` answers.
type ReloadAnswers struct {
	// Reports: `reload` answers with its outcome, once the new worker has
	// loaded or failed (2.7 on):
	//
	//	Success=1
	//	--
	//	[NOTICE]   (37) : Loading success.
	//	...
	//
	// "Success=0" when the new config did not load, followed by the startup
	// logs with HAProxy's alerts. 2.6 answers nothing: the outcome is read
	// from `show proc` (the reload counter and "[failed: N]").
	Reports bool
	// Busy is the sentence of a "Success=0" answer that refuses the reload
	// because the previous one is still loading ("Another reload is still
	// in progress.", 3.1 on): nothing was done, try again. "" when the
	// release has none.
	Busy string
}

// Report is the outcome of a reload as the master reports it (Reload.Reports).
type Report struct {
	// Success is "Success=1".
	Success bool
	// Busy: the master refused the reload because another one is still
	// loading; nothing was done.
	Busy bool
	// Logs are the lines after "--": the startup logs of the new config
	// (with HAProxy's alerts when it failed).
	Logs []string
}

// ParseReport reads the answer of `reload` when it reports its outcome;
// ok is false when the answer is no report (2.6 answers nothing).
func (a Answers) ParseReport(answer string) (r Report, ok bool) {
	lines := strings.Split(strings.TrimSpace(answer), "\n")
	switch strings.TrimSpace(lines[0]) {
	case "Success=1":
		r.Success = true
	case "Success=0":
	default:
		return Report{}, false
	}
	rest := lines[1:]
	if len(rest) > 0 && strings.TrimSpace(rest[0]) == "--" {
		rest = rest[1:]
	}
	for _, l := range rest {
		l = strings.TrimRight(l, " \t\r")
		if l == "" {
			continue
		}
		if !r.Success && a.Reload.Busy != "" && strings.TrimSpace(l) == a.Reload.Busy {
			r.Busy = true
			continue
		}
		r.Logs = append(r.Logs, l)
	}
	return r, true
}

// Every release answers these the same way.
var (
	serversState = ServersStateFormat{Version: "1", Columns: strings.Fields(`be_id be_name srv_id srv_name srv_addr srv_op_state
		srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status
		srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id
		srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr
		srv_agent_addr srv_agent_port`)}

	addServer    = Reply{Prefixes: []string{"New server registered."}}
	delServer    = Reply{Prefixes: []string{"Server deleted."}}
	serverAction = Reply{Empty: true}

	// The refusals of every release. "Unknown command" is followed by ","
	// in 2.6 and by ": 'bogus'," from 2.8 on.
	commonRefusals = []RefusalText{
		{Text: "Unknown command", Means: UnknownCommand},
		{Text: "Permission denied", Means: PermissionDenied},
		{Text: "No such backend", Means: NoSuchBackend},
		{Text: "Can't find backend", Means: NoSuchBackend}, // show servers state
		{Text: "No such server", Means: NoSuchServer},
		{Text: "Server still has connections attached", Means: ServerHasConnections},
		{Text: "Only servers in maintenance mode can be deleted", Means: NotInMaintenance},
		{Text: "Already exists a server with the same name", Means: AlreadyExists},
		{Text: "unknown keyword", Means: NotDynamic},                                           // add server ... bogus
		{Text: "option is not accepted for dynamic server", Anywhere: true, Means: NotDynamic}, // "'cookie' option is ..."
	}
	// add server to a backend whose balance algorithm is not dynamic, up to 3.2.
	mustUseDynamicLB = RefusalText{Text: "Backend must use a dynamic load balancing", Means: NotDynamic}

	loadStatus = "_loadstatus"
)

// answersData is the data of the releases, oldest first. Each release
// answers as the one before it but for what is set here.
var answersData = func() []Answers {
	r26 := Answers{
		Release:      "2.6",
		AddServer:    addServer,
		DelServer:    delServer,
		ServerAction: serverAction,
		ServersState: serversState,
		// An empty answer was taken as success before the answers were
		// recorded; 2.6 was not seen to give one.
		SetServerAddr: Reply{Empty: true, Prefixes: []string{"IP changed from", "no need to change the addr"}},
		Refusals: append(slices.Clone(commonRefusals), mustUseDynamicLB,
			// Known to the classifier before the answers were recorded.
			RefusalText{Text: "No such proxy", Means: NoSuchBackend},
			RefusalText{Text: "not supported for dynamic server", Anywhere: true, Means: NotDynamic}),
	}

	r28 := r26
	r28.Release = "2.8"
	r28.SetServerAddr = Reply{Prefixes: []string{"IP changed from", "no need to change the addr"}}
	r28.Refusals = append(slices.Clone(commonRefusals), mustUseDynamicLB)
	r28.Proc = ProcAnswers{LoadStatus: loadStatus}
	r28.Reload = ReloadAnswers{Reports: true}

	r30 := r28
	r30.Release = "3.0"
	r30.SetServerAddr = Reply{Prefixes: []string{"IP changed from", "port changed from", "nothing changed"}}
	r30.SetServerAddrAsync = true

	r32 := r30
	r32.Release = "3.2"
	r32.Proc.ListsLoadingWorker, r32.Proc.ServingWorkerAmongOld = true, true
	r32.Reload.Busy = "Another reload is still in progress."

	r34 := r32
	r34.Release = "3.4"
	r34.Refusals = append(slices.Clone(commonRefusals),
		// "Backend does not support dynamic servers : backend 'static'
		// uses a non dynamic load balancing method."
		RefusalText{Text: "Backend does not support dynamic servers", Means: NotDynamic})

	return []Answers{r26, r28, r30, r32, r34}
}()

// AnswersFor returns the answers of HAProxy v:
//
//   - a release with data of its own ("2.6", "2.8", "3.0", "3.2", "3.4"):
//     its answers;
//   - a release between two of them (2.7, 2.9, 3.1, 3.3): the union of both
//     neighbours' answers, since a change may have come with it (3.1 is
//     where the worker started to load its own config);
//   - a release older than 2.6 (a real one): 2.6's; newer than 3.4: 3.4's;
//     Note says so;
//   - the zero Version (unknown): the union of every release's answers
//     (Release ""), which is safe with any of them.
//
// The slices of the result are shared: do not modify them.
func AnswersFor(v model.Version) Answers {
	if v == (model.Version{}) {
		u := union(answersData...)
		u.Note = "the HAProxy version is unknown: the answers of every supported release are understood"
		return u
	}
	minor := strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor)
	first, last := answersData[0], answersData[len(answersData)-1]
	for i, a := range answersData {
		if a.Release == minor {
			return a
		}
		if i > 0 && v.AtLeast(releaseVersion(answersData[i-1].Release)) && !v.AtLeast(releaseVersion(a.Release)) {
			u := union(answersData[i-1], a)
			u.Note = "HAProxy " + minor + " lies between " + answersData[i-1].Release + " and " + a.Release + ": the answers of both are understood"
			return u
		}
	}
	if !v.AtLeast(releaseVersion(first.Release)) {
		first.Note = "HAProxy " + minor + "'s answers are taken as " + first.Release + "'s, the oldest release with data"
		return first
	}
	last.Note = "HAProxy " + minor + " is newer than " + last.Release + ", the newest release with data: its answers are taken as " + last.Release + "'s"
	return last
}

// releaseVersion splits "3.4" into 3, 4.
func releaseVersion(name string) (major, minor int) {
	a, b, _ := strings.Cut(name, ".")
	major, _ = strconv.Atoi(a)
	minor, _ = strconv.Atoi(b)
	return major, minor
}

// union understands the answers of each of as: every success and refusal
// sentence, and every flag that any of them sets (true is the cautious
// reading of each). Release is the release of as when there is one, else "".
func union(as ...Answers) Answers {
	if len(as) == 1 {
		return as[0]
	}
	u := Answers{ServersState: as[0].ServersState}
	for _, a := range as {
		u.AddServer = u.AddServer.union(a.AddServer)
		u.DelServer = u.DelServer.union(a.DelServer)
		u.SetServerAddr = u.SetServerAddr.union(a.SetServerAddr)
		u.ServerAction = u.ServerAction.union(a.ServerAction)
		u.SetServerAddrAsync = u.SetServerAddrAsync || a.SetServerAddrAsync
		for _, r := range a.Refusals {
			if !slices.Contains(u.Refusals, r) {
				u.Refusals = append(u.Refusals, r)
			}
		}
		u.Proc.ListsLoadingWorker = u.Proc.ListsLoadingWorker || a.Proc.ListsLoadingWorker
		u.Proc.ServingWorkerAmongOld = u.Proc.ServingWorkerAmongOld || a.Proc.ServingWorkerAmongOld
		if u.Proc.LoadStatus == "" {
			u.Proc.LoadStatus = a.Proc.LoadStatus
		}
		u.Reload.Reports = u.Reload.Reports || a.Reload.Reports
		if u.Reload.Busy == "" {
			u.Reload.Busy = a.Reload.Busy
		}
	}
	return u
}

func (r Reply) union(s Reply) Reply {
	out := Reply{Empty: r.Empty || s.Empty, Prefixes: slices.Clone(r.Prefixes)}
	for _, p := range s.Prefixes {
		if !slices.Contains(out.Prefixes, p) {
			out.Prefixes = append(out.Prefixes, p)
		}
	}
	return out
}

// SummaryAlert reports whether an alert of `haproxy -c` is one of the
// summaries it ends with ("Error(s) found in configuration file : PATH",
// "Fatal errors found in configuration."), which say nothing the alerts
// before them do not.
func SummaryAlert(alert string) bool {
	return strings.Contains(alert, "Error(s) found in configuration file") || strings.Contains(alert, "Fatal errors found in configuration")
}
