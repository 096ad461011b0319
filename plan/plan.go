// Package plan is the heart of the writer: a pure function (Make) from what
// should be (config, membership, HAProxy version), what is (the observed
// HAProxy) and what earlier outcomes taught (History) to a Plan, an ordered
// list of actions for the shell to carry out. The writer owns a Planner,
// which keeps the History and the work one plan can hand to the next.
//
// The shell must honour a plan as follows:
//   - carry out the steps in order and stop at the first failure, then
//     hand what happened back as one Outcome (Planner.Record) and plan
//     again;
//   - a Validate step checks the candidate config with `haproxy -c` beside
//     the live file; when it fails, the candidate is never installed, and
//     the Outcome says whether `haproxy -c` rejected it (Rejected: the
//     same candidate is not tried again) or could not run;
//   - a WriteFile step installs the validated candidate atomically;
//   - a Validate step marked Background, and the WriteFile after it, may be
//     carried out off the loop: no step after them depends on them (the
//     file only catches up with what already runs);
//   - a Reload step is not carried out before its NotBefore time: the shell
//     owns the timer; nor is the SaveState step before it, which the shell
//     carries out just before the reload (a SaveState that fails is no
//     failure: the reload goes on, and servers start as the config says);
//   - a RemoveServer step whose NotBefore has not come is pending: the shell
//     skips it, carries out the steps after it, and plans again then;
//   - a RemoveServer that HAProxy refuses because the server still has
//     requests in flight is no failure: the shell goes on with the steps
//     after it and reports the server back in Outcome.Busy.
package plan

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"lighthouse/model"
	"lighthouse/model/configtext"
)

// Plan is what the writer will do, and why. It is a plain value: the same
// inputs always give the same plan.
type Plan struct {
	// Steps are carried out in order; the first failure stops the rest.
	Steps []Step
	// Diagnostics are problems met while planning (bad nodes, invalid
	// directives, a rejected config that is not retried).
	Diagnostics model.Diagnostics
}

// Step is one action and the reason for it. The reason is for people: the
// shell never branches on it.
type Step struct {
	Action Action
	Reason string
}

// Action is one of the closed set of things the shell knows how to do:
// Validate, WriteFile, Kill, Start, SaveState, Reload, AddServer,
// EnableHealth, RemoveServer, ShutdownSessions, SetServerState,
// SetServerAddr and SetWeight.
type Action interface {
	// Kind is the action's name in the JSON output, e.g. "add_server".
	Kind() string
	// Target names what the action works on, e.g. "web/app01:8000".
	Target() string
	isAction()
}

// Validate checks the candidate config with `haproxy -c`, written beside
// the live file. On failure the shell reports Fingerprint as rejected.
type Validate struct {
	Path        string // the live config file the candidate is for
	Data        configtext.Text
	Fingerprint string
	// Background: this step and the WriteFile after it only bring the
	// file up to what runs; the shell may do them off its loop.
	Background bool
}

// WriteFile installs the validated candidate at Path atomically.
type WriteFile struct {
	Path        string
	Data        configtext.Text
	Fingerprint string
}

// Start starts HAProxy (master-worker) on the config file.
type Start struct {
	// NotBefore, when set, is the latest the start waits for the first
	// membership reads (Input.StartNotBefore); the zero time means at once.
	NotBefore time.Time
}

// SaveState writes what `show servers state` answers to Path, the server
// state file the config names, atomically: the HAProxy that the Reload
// after it starts loads each server's health, administrative state (drain,
// maint) and weight from it. Not before NotBefore, the Reload's.
type SaveState struct {
	Path      string
	NotBefore time.Time
}

// Reload gracefully reloads HAProxy on the config file, not before
// NotBefore (the zero time means at once).
type Reload struct {
	NotBefore time.Time
}

// AddServer adds a server to a backend at runtime. It arrives in
// maintenance, with its health checks off; when Options hold `check`, an
// EnableHealth step follows, and a SetServerState step to ready.
type AddServer struct {
	Backend, Server string
	Addr            string
	Port            int
	Options         string
}

// RemoveServer deletes a server from a backend at runtime. The server is in
// maintenance by then (a SetServerState step precedes it), so no new request
// reaches it while requests in flight finish.
//
// A server with requests still in flight cannot be deleted yet: its
// removal is retried, not before NotBefore (the zero time means at once).
type RemoveServer struct {
	Backend, Server string
	NotBefore       time.Time
}

// EnableHealth starts the health checks of a server added at runtime with
// `check` (HAProxy adds it with them off).
type EnableHealth struct {
	Backend, Server string
}

// ShutdownSessions cuts the requests a server still has in flight: a
// server that left its cluster longer than drain_timeout ago.
type ShutdownSessions struct {
	Backend, Server string
}

// SetServerState sets a server's administrative state.
type SetServerState struct {
	Backend, Server string
	State           model.ServerState
}

// SetServerAddr moves a server to another address and port.
type SetServerAddr struct {
	Backend, Server string
	Addr            string
	Port            int
}

// SetWeight sets a server's weight (0..256).
type SetWeight struct {
	Backend, Server string
	Weight          int
}

func (Validate) Kind() string         { return "validate" }
func (WriteFile) Kind() string        { return "write_file" }
func (Start) Kind() string            { return "start" }
func (Reload) Kind() string           { return "reload" }
func (SaveState) Kind() string        { return "save_state" }
func (AddServer) Kind() string        { return "add_server" }
func (RemoveServer) Kind() string     { return "remove_server" }
func (ShutdownSessions) Kind() string { return "shutdown_sessions" }
func (EnableHealth) Kind() string     { return "enable_health" }
func (SetServerState) Kind() string   { return "set_server_state" }
func (SetServerAddr) Kind() string    { return "set_server_addr" }
func (SetWeight) Kind() string        { return "set_weight" }

func (a Validate) Target() string         { return a.Path }
func (a WriteFile) Target() string        { return a.Path }
func (Start) Target() string              { return "haproxy" }
func (Reload) Target() string             { return "haproxy" }
func (a SaveState) Target() string        { return a.Path }
func (a AddServer) Target() string        { return a.Backend + "/" + a.Server }
func (a RemoveServer) Target() string     { return a.Backend + "/" + a.Server }
func (a ShutdownSessions) Target() string { return a.Backend + "/" + a.Server }
func (a EnableHealth) Target() string     { return a.Backend + "/" + a.Server }
func (a SetServerState) Target() string   { return a.Backend + "/" + a.Server }
func (a SetServerAddr) Target() string    { return a.Backend + "/" + a.Server }
func (a SetWeight) Target() string        { return a.Backend + "/" + a.Server }

func (Validate) isAction()         {}
func (WriteFile) isAction()        {}
func (Start) isAction()            {}
func (Reload) isAction()           {}
func (SaveState) isAction()        {}
func (AddServer) isAction()        {}
func (RemoveServer) isAction()     {}
func (ShutdownSessions) isAction() {}
func (EnableHealth) isAction()     {}
func (SetServerState) isAction()   {}
func (SetServerAddr) isAction()    {}
func (SetWeight) isAction()        {}

// Empty reports whether the plan has nothing to do.
func (p Plan) Empty() bool { return len(p.Steps) == 0 }

// HasReload reports whether the plan reloads or starts HAProxy.
func (p Plan) HasReload() bool {
	for _, s := range p.Steps {
		switch s.Action.(type) {
		case Reload, Start:
			return true
		}
	}
	return false
}

// String is the one description of a plan: what `lighthouse plan` prints,
// what the writer logs before it acts, and what the plan goldens hold. One
// line per step: a glyph, the action, its target and details, the reason.
// An empty plan reads "No changes.".
func (p Plan) String() string {
	if len(p.Steps) == 0 {
		return "No changes.\n"
	}
	var b strings.Builder
	for _, s := range p.Steps {
		writeStep(&b, s)
	}
	return b.String()
}

// Summary is String for a plan of at most max steps. A longer plan is
// summed up as the count of each kind of action, in the order kinds first
// appear, then its first max steps as String writes them, then how many
// more follow: a deploy of thousands of changes logs a few lines, not one
// of hundreds of kilobytes.
func (p Plan) Summary(max int) string {
	if len(p.Steps) <= max {
		return p.String()
	}
	var kinds []string
	count := map[string]int{}
	for _, s := range p.Steps {
		k := s.Action.Kind()
		if count[k] == 0 {
			kinds = append(kinds, k)
		}
		count[k]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d steps:", len(p.Steps))
	for i, k := range kinds {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %d %s", count[k], k)
	}
	b.WriteByte('\n')
	for _, s := range p.Steps[:max] {
		writeStep(&b, s)
	}
	fmt.Fprintf(&b, "... and %d more steps\n", len(p.Steps)-max)
	return b.String()
}

// writeStep writes one line of String: glyph, kind, target, and why.
func writeStep(b *strings.Builder, s Step) {
	glyph, what := describe(s.Action)
	fmt.Fprintf(b, "%s %-16s %s", glyph, s.Action.Kind(), what)
	if s.Reason != "" {
		b.WriteString("  # ")
		b.WriteString(s.Reason)
	}
	b.WriteByte('\n')
}

func describe(a Action) (glyph, what string) {
	switch a := a.(type) {
	case Validate:
		if a.Background {
			return "?", fmt.Sprintf("%s (candidate %s, off the loop)", a.Path, short(a.Fingerprint))
		}
		return "?", fmt.Sprintf("%s (candidate %s)", a.Path, short(a.Fingerprint))
	case WriteFile:
		return ">", fmt.Sprintf("%s (%s, %d bytes)", a.Path, short(a.Fingerprint), a.Data.Len())
	case Start:
		if a.NotBefore.IsZero() {
			return "^", a.Target()
		}
		return "^", a.Target() + " not before " + a.NotBefore.UTC().Format("15:04:05.000")
	case Kill:
		return "X", a.Target()
	case SaveState:
		if a.NotBefore.IsZero() {
			return ">", a.Target()
		}
		return ">", a.Target() + " not before " + a.NotBefore.UTC().Format("15:04:05.000")
	case Reload:
		if a.NotBefore.IsZero() {
			return "!", a.Target()
		}
		return "!", a.Target() + " not before " + a.NotBefore.UTC().Format("15:04:05.000")
	case AddServer:
		s := fmt.Sprintf("%s %s", a.Target(), hostPort(a.Addr, a.Port))
		if a.Options != "" {
			s += " " + a.Options
		}
		return "+", s
	case RemoveServer:
		if a.NotBefore.IsZero() {
			return "-", a.Target()
		}
		return "-", a.Target() + " not before " + a.NotBefore.UTC().Format("15:04:05.000")
	case ShutdownSessions:
		return "x", a.Target()
	case EnableHealth:
		return "~", a.Target()
	case SetServerState:
		return "~", a.Target() + " " + string(a.State)
	case SetServerAddr:
		return "~", a.Target() + " " + hostPort(a.Addr, a.Port)
	case SetWeight:
		return "~", a.Target() + " weight " + strconv.Itoa(a.Weight)
	}
	panic(fmt.Sprintf("plan: unknown action %T", a))
}

func short(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}

func hostPort(addr string, port int) string {
	if strings.Contains(addr, ":") {
		return "[" + addr + "]:" + strconv.Itoa(port)
	}
	return addr + ":" + strconv.Itoa(port)
}

// jsonStep is one step in `lighthouse plan --json`.
type jsonStep struct {
	Kind        string `json:"kind"`
	Target      string `json:"target"`
	Backend     string `json:"backend,omitempty"`
	Server      string `json:"server,omitempty"`
	Addr        string `json:"addr,omitempty"`
	Port        int    `json:"port,omitempty"`
	Options     string `json:"options,omitempty"`
	State       string `json:"state,omitempty"`
	Weight      *int   `json:"weight,omitempty"`
	Path        string `json:"path,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	NotBefore   string `json:"not_before,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// MarshalJSON writes {"actions": [...], "diagnostics": [...]}.
func (p Plan) MarshalJSON() ([]byte, error) {
	out := struct {
		Actions     []jsonStep        `json:"actions"`
		Diagnostics model.Diagnostics `json:"diagnostics"`
	}{Actions: []jsonStep{}, Diagnostics: p.Diagnostics}
	if out.Diagnostics == nil {
		out.Diagnostics = model.Diagnostics{}
	}
	for _, s := range p.Steps {
		j := jsonStep{Kind: s.Action.Kind(), Target: s.Action.Target(), Reason: s.Reason}
		switch a := s.Action.(type) {
		case Validate:
			j.Path, j.Fingerprint = a.Path, a.Fingerprint
		case WriteFile:
			j.Path, j.Fingerprint = a.Path, a.Fingerprint
		case Reload:
			if !a.NotBefore.IsZero() {
				j.NotBefore = a.NotBefore.UTC().Format(time.RFC3339Nano)
			}
		case Start:
			if !a.NotBefore.IsZero() {
				j.NotBefore = a.NotBefore.UTC().Format(time.RFC3339Nano)
			}
		case SaveState:
			j.Path = a.Path
			if !a.NotBefore.IsZero() {
				j.NotBefore = a.NotBefore.UTC().Format(time.RFC3339Nano)
			}
		case AddServer:
			j.Backend, j.Server, j.Addr, j.Port, j.Options = a.Backend, a.Server, a.Addr, a.Port, a.Options
		case RemoveServer:
			j.Backend, j.Server = a.Backend, a.Server
			if !a.NotBefore.IsZero() {
				j.NotBefore = a.NotBefore.UTC().Format(time.RFC3339Nano)
			}
		case ShutdownSessions:
			j.Backend, j.Server = a.Backend, a.Server
		case EnableHealth:
			j.Backend, j.Server = a.Backend, a.Server
		case SetServerState:
			j.Backend, j.Server, j.State = a.Backend, a.Server, string(a.State)
		case SetServerAddr:
			j.Backend, j.Server, j.Addr, j.Port = a.Backend, a.Server, a.Addr, a.Port
		case SetWeight:
			w := a.Weight
			j.Backend, j.Server, j.Weight = a.Backend, a.Server, &w
		}
		out.Actions = append(out.Actions, j)
	}
	return json.Marshal(out)
}
