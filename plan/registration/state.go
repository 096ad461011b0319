package registration

import (
	"bytes"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// State is what a registrar knows of its ZooKeeper session and of the
// znodes it deals with. The runtime owns it, changes it through its methods
// only, and hands it to Make; the zero value knows nothing.
type State struct {
	// Session is the current session's id, 0 while there is none.
	Session int64
	// Done holds what the registrar did at each znode it has dealt with; a
	// path never dealt with has no entry (unknown).
	Done map[string]Done
	// Seen holds what the last inspection found at a znode, since the
	// registrar last acted on it.
	Seen map[string]Seen
	// Restored holds when each znode was last restored.
	Restored map[string]time.Time
	// LeftAlone holds the owner of another session's znode that a
	// LeaveAlone step has said is left alone.
	LeftAlone map[string]int64
}

// Done is what a registrar did at one znode.
type Done struct {
	// Present is true when the znode exists or may exist (an operation on
	// it failed or was interrupted); false when it is known to be absent.
	Present bool
	// Session owns the znode; 0 when uncertain.
	Session int64
	Data    []byte
}

// Seen is what an inspection of a znode found.
type Seen struct {
	Exists bool
	Owner  int64 // the session owning the ephemeral znode; 0 if persistent
	Data   []byte
}

// Outcome is what became of one step the shell carried out.
type Outcome struct {
	Step Step
	// Session is the session a registration was made in (the registry
	// answers it); unused for other steps.
	Session int64
	// Err says why the step failed; nil when it was carried out. A failed
	// or interrupted operation leaves its znode uncertain.
	Err error
	// At is when the step was carried out.
	At time.Time
}

// Record follows the outcome of a step: the znode is held with its data,
// known absent, forgotten (deleted and no longer wanted), or uncertain
// after a failure. What an inspection saw there before is stale once the
// registrar acted on it. A restore, even a failed one, counts for the rate
// limit.
func (s *State) Record(want Want, o Outcome) {
	p := o.Step.Action.Target()
	s.init()
	switch a := o.Step.Action.(type) {
	case LeaveAlone:
		s.LeftAlone[p] = a.Owner
		return
	case Restore:
		s.Restored[p] = o.At
	}
	delete(s.Seen, p)
	switch a := o.Step.Action.(type) {
	case Create:
		s.registered(p, a.Data, o)
	case SetData:
		s.registered(p, a.Data, o)
	case Restore:
		s.registered(p, a.Data, o)
	case Delete:
		_, wanted := want[p]
		switch {
		case o.Err != nil:
			s.Done[p] = Done{Present: true}
		case wanted:
			s.Done[p] = Done{Present: false}
		default:
			delete(s.Done, p)
		}
	}
}

func (s *State) registered(p string, data []byte, o Outcome) {
	if o.Err != nil {
		s.Done[p] = Done{Present: true}
		return
	}
	s.Done[p] = Done{Present: true, Session: o.Session, Data: data}
}

// Inspected records what an inspection found at a wanted znode (nothing
// for another). A znode left alone that is gone or has another owner now
// is said again when it is found again.
func (s *State) Inspected(want Want, p string, seen Seen) {
	if _, ok := want[p]; !ok {
		return
	}
	s.init()
	s.Seen[p] = seen
	if o, ok := s.LeftAlone[p]; ok && (!seen.Exists || seen.Owner != o) {
		delete(s.LeftAlone, p)
	}
}

// Forget drops what the state keeps of znodes no longer wanted: all of it
// once they are known absent, what was seen and restored at once; and
// which znodes were left alone, once they are wanted up (or not at all).
func (s *State) Forget(want Want) {
	for p, h := range s.Done {
		if _, ok := want[p]; !ok && !h.Present {
			delete(s.Done, p)
		}
	}
	for p := range s.Seen {
		if _, ok := want[p]; !ok {
			delete(s.Seen, p)
		}
	}
	for p := range s.Restored {
		if _, ok := want[p]; !ok {
			delete(s.Restored, p)
		}
	}
	for p := range s.LeftAlone {
		if z, ok := want[p]; !ok || z.Data != nil {
			delete(s.LeftAlone, p)
		}
	}
}

// Resync makes every znode uncertain, so that the next plan registers (or
// deletes) everything again (SIGHUP).
func (s *State) Resync() {
	for p, h := range s.Done {
		if h.Present {
			s.Done[p] = Done{Present: true}
		} else {
			delete(s.Done, p)
		}
	}
}

// Settled reports whether no operation on znode p is pending: the znode
// is known absent or held by the current session. Only such a znode is
// worth inspecting.
func (s *State) Settled(p string) bool {
	h, known := s.Done[p]
	return known && (!h.Present || h.Session == s.Session)
}

// Held lists, sorted, the znodes that may be the registrar's: what it
// deletes when it stops.
func (s *State) Held() []string {
	var ps []string
	for p, h := range s.Done {
		if h.Present {
			ps = append(ps, p)
		}
	}
	sort.Strings(ps)
	return ps
}

func (s *State) init() {
	if s.Done == nil {
		s.Done = map[string]Done{}
	}
	if s.Seen == nil {
		s.Seen = map[string]Seen{}
	}
	if s.Restored == nil {
		s.Restored = map[string]time.Time{}
	}
	if s.LeftAlone == nil {
		s.LeftAlone = map[string]int64{}
	}
}

// FromRegistry is the State of a reporter holding what the registry
// holds, for a dry run from outside: its session is the one that owns most
// of the wanted znodes (the lowest id on a tie, 0 when none exists); a
// wanted znode that exists counts as registered by its owner with the data
// it holds, one that does not as known absent, and every inspection is
// kept.
func FromRegistry(want Want, seen map[string]Seen) *State {
	owned := map[int64]int{}
	for p, f := range seen {
		if _, ok := want[p]; ok && f.Exists && f.Owner != 0 {
			owned[f.Owner]++
		}
	}
	s := &State{}
	for id, n := range owned {
		if n > owned[s.Session] || n == owned[s.Session] && id < s.Session {
			s.Session = id
		}
	}
	s.init()
	for p, f := range seen {
		if _, ok := want[p]; !ok {
			continue
		}
		s.Seen[p] = f
		s.Done[p] = Done{Present: f.Exists, Session: f.Owner, Data: f.Data}
	}
	return s
}

// drift is what an inspection found at a znode, against what the
// registrar did there.
type drift int

const (
	driftNone        drift = iota
	driftDeleted           // ours, and deleted by someone else
	driftOverwritten       // ours, and its data changed by someone else
	driftTaken             // ours, and now owned by another session
	driftForeign           // wanted absent (the port is down), and present: another session's
)

// String is the drift as a restore's reason says it.
func (d drift) String() string {
	return [...]string{"none", "deleted by another client", "data overwritten by another client",
		"replaced by another session", "another session's"}[d]
}

// judge compares what ZooKeeper holds at a znode with what the registrar
// did there under session. Only a znode the registrar believes it holds
// (registered by this session, no operation pending) can drift from it; a
// znode wanted absent drifts when someone else's is there.
func judge(data []byte, wanted bool, h Done, known bool, exists bool, owner int64, got []byte, session int64) drift {
	switch {
	case !wanted || !known || session == 0:
		return driftNone
	case data == nil:
		if !h.Present && exists && owner != session {
			return driftForeign
		}
	case h.Present && h.Session == session && bytes.Equal(h.Data, data):
		switch {
		case !exists:
			return driftDeleted
		case owner != session:
			return driftTaken
		case !bytes.Equal(got, data):
			return driftOverwritten
		}
	}
	return driftNone
}

// restoreDue says when a drifted znode may be restored: at once, unless it
// was restored less than every ago (at most one restore per check
// interval, so that a fight with another client is a line per interval,
// not a loop).
func restoreDue(last time.Time, every time.Duration, now time.Time) time.Time {
	if last.IsZero() || !now.Before(last.Add(every)) {
		return now
	}
	return last.Add(every)
}

// ServicePort returns the service and the port of a registration's path,
// <path>/<service>/<host>:<port>.
func ServicePort(p string) (string, int) {
	service := path.Base(path.Dir(p))
	name := path.Base(p)
	port, _ := strconv.Atoi(name[strings.LastIndexByte(name, ':')+1:])
	return service, port
}
