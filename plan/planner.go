package plan

import (
	"lighthouse/render"
	"strings"
	"time"
)

// History is what the outcomes of earlier plans taught: facts the observed
// HAProxy does not show. A Planner keeps it from the Outcomes recorded;
// Make takes it as part of its Input, so that any situation can be planned
// (the goldens, `lighthouse plan`).
type History struct {
	// LastReload is the time of the last start or reload (zero when none).
	LastReload time.Time
	// Rejected is the fingerprint of the last candidate config that
	// `haproxy -c` rejected: the same candidate is not tried again.
	Rejected string
	// StartFailed is the fingerprint of the config file on disk that the
	// last Start failed on, at StartFailedAt: HAProxy is then started on
	// the rendered config, validated and written first, rather than on
	// that file again, for StartRetry. After that the file is tried again:
	// a start can fail for a passing reason (a port still held, the master
	// killed while its start was confirmed), and when no candidate can be
	// installed (a full disk, a rejected render) the file on disk is all
	// there is to run.
	StartFailed   string
	StartFailedAt time.Time
	// Unwritable is set while the config file cannot be written (a write
	// failed, a full disk, and its backoff has not passed): no candidate
	// is installed, as for a rejected one, and membership goes on through
	// the runtime API.
	Unwritable bool
	// Busy holds the servers ("backend/server") that HAProxy refused to
	// delete because they still had requests in flight. A busy server's
	// removal is retried a second after the last refusal, and once it left
	// longer than drain_timeout ago its sessions are shut down first.
	Busy map[string]Busy
	// RuntimeFailed is set when a runtime API command of the previous plan
	// failed: the planner then converges through a reload.
	RuntimeFailed bool
}

// Busy is a server HAProxy refused to delete: it had requests in flight
// at Since, the first refusal, and still at Last, the latest.
type Busy struct {
	Since, Last time.Time
}

// Outcome is what happened when the shell carried out (part of) a plan,
// handed back to the Planner as one value.
type Outcome struct {
	// At is when the steps were carried out: the time of a start or a
	// reload among them, and of the refusals in Busy.
	At time.Time
	// Done are the steps carried out, in order. A pending step (not before
	// a later time) is neither done nor failed.
	Done []Action
	// Failed is the step that failed, nil when none; Err says why.
	Failed Action
	Err    error
	// Rejected is set when Failed is a Validate that `haproxy -c` rejected
	// (rather than one that could not be run or written).
	Rejected bool
	// Busy are the removals HAProxy refused because the server still had
	// requests in flight: no failure, the steps after them went on.
	Busy []RemoveServer
}

// Planner makes the writer's plans and owns what planning keeps from one
// plan to the next: the History the outcomes taught, the config HAProxy
// loaded, and each plan's work (a memo: the next plan redoes only what
// changed, and is the plan Make would give). The shell owns one Planner,
// used from one goroutine: Plan, carry the plan out, Record the outcome,
// and again.
type Planner struct {
	history History
	loaded  *Index // the config HAProxy last started or reloaded with; nil: not known
	memo    *planMemo
	file    Observed // what the last plan was made from: the file a start or reload loads

	// The config file's write backoff: after a failed write nothing is
	// installed until writeAt, the wait doubling from 250 ms to
	// MaxWriteRetry.
	writeAt    time.Time
	writeRetry time.Duration
}

// MaxWriteRetry caps the wait before a config file that could not be
// written is tried again.
const MaxWriteRetry = 30 * time.Second

// Plan computes the plan that brings the observed HAProxy to the desired
// config, from in and the planner's History (in.History is not read).
// Where HAProxy runs and in.Observed.Loaded is nil, the config the planner
// saw it start or reload with stands in.
func (pl *Planner) Plan(in Input) Plan {
	if in.Observed.Running && in.Observed.Loaded == nil {
		in.Observed.Loaded = pl.loaded
	}
	pl.pruneBusy(in.Observed)
	pl.history.Unwritable = !pl.writeAt.IsZero() && in.Now.Before(pl.writeAt)
	in.History = pl.history
	pl.file = in.Observed
	p, memo := makePlan(in, pl.memo)
	pl.memo = memo
	return p
}

// Record takes the outcome of carrying out a plan (or the part of one the
// shell carried out off its loop) back as input for the next plan.
func (pl *Planner) Record(o Outcome) {
	h := &pl.history
	file := pl.file.File
	for _, a := range o.Done {
		switch a := a.(type) {
		case WriteFile:
			file = a.Data
			pl.writeAt, pl.writeRetry = time.Time{}, 0
		case Kill:
			pl.loaded = nil
		case Start:
			pl.loaded, h.LastReload, h.RuntimeFailed, h.StartFailed, h.StartFailedAt = IndexConfig(file), o.At, false, "", time.Time{}
		case Reload:
			pl.loaded, h.LastReload, h.RuntimeFailed = IndexConfig(file), o.At, false
		case RemoveServer:
			delete(h.Busy, a.Target())
		}
	}
	for _, a := range o.Busy {
		bz, ok := h.Busy[a.Target()]
		if !ok {
			if h.Busy == nil {
				h.Busy = map[string]Busy{}
			}
			bz.Since = o.At
		}
		bz.Last = o.At
		h.Busy[a.Target()] = bz
	}
	switch a := o.Failed.(type) {
	case nil:
	case Validate:
		if o.Rejected {
			h.Rejected = a.Fingerprint
		} else {
			pl.writeFailed(o.At)
		}
	case WriteFile:
		pl.writeFailed(o.At)
	case Start:
		h.StartFailed, h.StartFailedAt = Fingerprint(file), o.At
	case AddServer, RemoveServer, EnableHealth, ShutdownSessions, SetServerState, SetServerAddr, SetWeight:
		h.RuntimeFailed = true
	}
}

// writeFailed backs off writing the config file: nothing is installed
// before writeAt.
func (pl *Planner) writeFailed(at time.Time) {
	switch {
	case pl.writeRetry == 0:
		pl.writeRetry = 250 * time.Millisecond
	case pl.writeRetry < MaxWriteRetry:
		pl.writeRetry = min(2*pl.writeRetry, MaxWriteRetry)
	}
	pl.writeAt = at.Add(pl.writeRetry)
}

// WriteRetryAt is when writing the config file is tried again after a
// failed write; the zero time while writing works.
func (pl *Planner) WriteRetryAt() time.Time { return pl.writeAt }

// StartRetryAt is when the config file a start failed on may be started
// on again (History.StartFailed); the zero time when no start failed.
func (pl *Planner) StartRetryAt() time.Time {
	if pl.history.StartFailed == "" {
		return time.Time{}
	}
	return pl.history.StartFailedAt.Add(StartRetry)
}

// Loaded is the config HAProxy last started or reloaded with, as the
// outcomes recorded tell; nil when not known.
func (pl *Planner) Loaded() *Index { return pl.loaded }

// IsBusy says whether HAProxy refused to delete the server
// ("backend/server") for requests in flight, and it still runs.
func (pl *Planner) IsBusy(target string) bool {
	_, ok := pl.history.Busy[target]
	return ok
}

// Replaced forgets what the HAProxy the planner knew loaded: the shell
// works with another one now (another config, socket or pid file).
func (pl *Planner) Replaced() { pl.loaded = nil }

// pruneBusy forgets the busy servers that no longer run.
func (pl *Planner) pruneBusy(obs Observed) {
	if obs.Servers == nil {
		return
	}
	for key := range pl.history.Busy {
		be, name, _ := strings.Cut(key, "/")
		if find(obs.Servers[be], name) == nil {
			delete(pl.history.Busy, key)
		}
	}
}

// planMemo carries one plan's work to the next, so that planning costs what
// changed rather than the size of the config: the render's memo, the
// parsed structure of the rendered config, and the backends whose server
// settings were found equal to those of the loaded config. A plan made with
// a planMemo is the plan made without one. A planMemo is never changed once
// made.
type planMemo struct {
	renderer render.Renderer // its memo is the render's
	skeleton []byte          // the render's skeleton
	want     parsedConfig    // parseConfig(skeleton), without backends; names set
	loaded   *Index          // the loaded config checked was found against
	checked  map[string][]render.ServerLine
}
