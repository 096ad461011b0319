// Package registration is the heart of the reporter: pure functions from
// the health of the services' ports and what a registrar knows of its
// ZooKeeper session to a Plan, the registry actions that make ZooKeeper
// hold what it should. It is the reporter's counterpart of package plan.
//
// Two steps, both pure:
//   - Wanted turns the config, the ports' health and the host's identity
//     into what each discovery should hold: a Want, znode path → data (or
//     absent);
//   - Make turns one discovery's Want, its registrar's State and the time
//     into a Plan.
//
// The shell must honour a plan as follows:
//   - carry out the steps in order and stop at the first failure, then
//     plan again after a backoff;
//   - Create, SetData and Restore register the znode with Data, ephemeral
//     and owned by the current session (one of another session is
//     replaced); Delete deletes the znode whoever owns it (an absent znode
//     is no failure); LeaveAlone touches nothing: it says that another
//     session's znode is left where it is;
//   - a Restore whose NotBefore has not come is pending: the shell skips
//     it, carries out the steps after it, and plans again then (it owns the
//     timer);
//   - every step carried out comes back as an Outcome (State.Record), what
//     an inspection of a znode found as State.Inspected, and a new session
//     as State.Session; then the shell plans again.
package registration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Plan is what a registrar will do in its ZooKeeper session, and why. It is
// a plain value: the same inputs always give the same plan.
type Plan struct {
	// Steps are in znode path order, at most one per znode; the first
	// failure stops the rest.
	Steps []Step
}

// Step is what to do to one znode (Action) and why (Reason, which the
// registrar logs and never branches on).
type Step struct {
	Action Action
	Reason string
}

// Action is a change to one znode, from a closed set: Create, SetData,
// Delete, Restore and LeaveAlone.
type Action interface {
	Kind() string   // "create", "set_data", ...: the describer's word
	Target() string // the znode's path
	isAction()
}

// Create registers a znode this session does not hold: the port is up.
type Create struct {
	Path string
	Data []byte
}

// SetData gives a znode this session holds other data, in place: its
// metadata (weight, state) changed.
type SetData struct {
	Path string
	Data []byte
}

// Delete deletes a znode: its port is down, or no longer configured.
type Delete struct {
	Path string
}

// Restore registers again a znode this session held and someone else
// deleted, overwrote or replaced, not before NotBefore: a znode is restored
// at most once per its service's check interval.
type Restore struct {
	Path      string
	Data      []byte
	Owner     int64 // the session that replaced it, 0 when none did
	NotBefore time.Time
}

// LeaveAlone leaves another session's znode where it is while the port is
// down (another reporter may own it): the shell says so, once.
type LeaveAlone struct {
	Path  string
	Owner int64
}

func (Create) Kind() string     { return "create" }
func (SetData) Kind() string    { return "set_data" }
func (Delete) Kind() string     { return "delete" }
func (Restore) Kind() string    { return "restore" }
func (LeaveAlone) Kind() string { return "leave_alone" }

func (a Create) Target() string     { return a.Path }
func (a SetData) Target() string    { return a.Path }
func (a Delete) Target() string     { return a.Path }
func (a Restore) Target() string    { return a.Path }
func (a LeaveAlone) Target() string { return a.Path }

func (Create) isAction()     {}
func (SetData) isAction()    {}
func (Delete) isAction()     {}
func (Restore) isAction()    {}
func (LeaveAlone) isAction() {}

// Input is what Make plans from, for one discovery.
type Input struct {
	Want  Want
	State *State
	Now   time.Time
}

// Make plans, in path order, what makes ZooKeeper hold what in.Want says
// under the current session:
//   - a znode wanted with data is created, or its data set in place,
//     unless this session already holds it with that data (so everything
//     is registered again after the session changed); one it holds and
//     someone else deleted, overwrote or replaced is restored, at most once
//     per check interval;
//   - a znode wanted absent is deleted unless known absent (one never
//     dealt with is deleted once: a previous run may have left it); while
//     it is known absent, another session's znode found there is left
//     alone, and that is said once per owner;
//   - a znode no longer wanted at all is deleted if it may exist.
func Make(in Input) Plan {
	st, session := in.State, in.State.Session
	var steps []Step
	for _, p := range paths(in.Want, st.Done) {
		z, wanted := in.Want[p]
		h, known := st.Done[p]
		seen, inspected := st.Seen[p]
		held := known && h.Present && h.Session == session && h.Session != 0
		switch {
		case wanted && z.Data != nil && held && !bytes.Equal(h.Data, z.Data):
			steps = append(steps, Step{SetData{Path: p, Data: z.Data}, metadataChange(h.Data, z.Data)})
		case wanted && z.Data != nil && !held:
			steps = append(steps, Step{Create{Path: p, Data: z.Data}, createReason(h, known, session)})
		case wanted && z.Data != nil:
			if !inspected {
				continue
			}
			d := judge(z.Data, true, h, true, seen.Exists, seen.Owner, seen.Data, session)
			if d == driftNone {
				continue
			}
			r := Restore{Path: p, Data: z.Data}
			if at := restoreDue(st.Restored[p], z.Every, in.Now); at.After(in.Now) {
				r.NotBefore = at
			}
			if d == driftTaken {
				r.Owner = seen.Owner
			}
			steps = append(steps, Step{r, d.String()})
		case wanted && (!known || h.Present):
			why := "the port is down"
			if !known {
				why = "the port is down: making sure no earlier run left it"
			}
			steps = append(steps, Step{Delete{Path: p}, why})
		case wanted:
			if owner, said := st.LeftAlone[p]; inspected && (!said || owner != seen.Owner) &&
				judge(nil, true, h, true, seen.Exists, seen.Owner, seen.Data, session) == driftForeign {
				steps = append(steps, Step{LeaveAlone{Path: p, Owner: seen.Owner},
					"the port is down and another session holds the znode: another reporter may own it"})
			}
		case h.Present:
			steps = append(steps, Step{Delete{Path: p}, "no longer configured: its service, port or discovery is gone"})
		}
	}
	return Plan{Steps: steps}
}

// paths is every path of want and done, sorted.
func paths(want Want, done map[string]Done) []string {
	ps := slices.Collect(maps.Keys(want))
	for p := range done {
		if _, ok := want[p]; !ok {
			ps = append(ps, p)
		}
	}
	sort.Strings(ps)
	return ps
}

func createReason(h Done, known bool, session int64) string {
	switch {
	case !known || !h.Present:
		return "the port is up"
	case h.Session == 0:
		return "not known to hold this data (an operation on it failed, or everything is registered again)"
	}
	return fmt.Sprintf("registered in session %#x, not the current %#x", h.Session, session)
}

// metadataChange says how the metadata of node data a differs from b's:
// "state ready → drain, weight 1 → 3".
func metadataChange(a, b []byte) string {
	ma, mb := metadataOf(a), metadataOf(b)
	var out []string
	for _, k := range slices.Sorted(maps.Keys(union(ma, mb))) {
		x, inA := ma[k]
		y, inB := mb[k]
		if inA && inB && fmt.Sprint(x) == fmt.Sprint(y) {
			continue
		}
		out = append(out, k+" "+valueOrNone(x, inA)+" → "+valueOrNone(y, inB))
	}
	if len(out) == 0 {
		return "the node's host, IP or peer changed"
	}
	return strings.Join(out, ", ")
}

func union(a, b map[string]any) map[string]any {
	u := maps.Clone(a)
	if u == nil {
		u = map[string]any{}
	}
	maps.Copy(u, b)
	return u
}

func valueOrNone(v any, ok bool) string {
	if !ok {
		return "(none)"
	}
	return fmt.Sprint(v)
}

// metadataOf reads the metadata of node data: a JSON string (as the
// reporter writes it) or object; nil when there is none.
func metadataOf(data []byte) map[string]any {
	var n struct{ Metadata any }
	if json.Unmarshal(data, &n) != nil {
		return nil
	}
	if s, ok := n.Metadata.(string); ok {
		var m map[string]any
		if json.Unmarshal([]byte(s), &m) != nil {
			return nil
		}
		return m
	}
	m, _ := n.Metadata.(map[string]any)
	return m
}

// Empty reports whether the plan has nothing to do.
func (p Plan) Empty() bool { return len(p.Steps) == 0 }

// Due reports whether the step may be carried out at now: every step but a
// Restore whose NotBefore has not come.
func (s Step) Due(now time.Time) bool {
	r, ok := s.Action.(Restore)
	return !ok || !now.Before(r.NotBefore)
}

// String is the one description of a plan: what `lighthouse check` prints,
// what the reporter logs before it acts, and what the registration goldens
// hold. One line per step: a glyph, the action, the znode and what it will
// hold, the reason. An empty plan reads "No changes.".
func (p Plan) String() string {
	if len(p.Steps) == 0 {
		return "No changes.\n"
	}
	var b strings.Builder
	for _, s := range p.Steps {
		glyph, what := describe(s.Action)
		line := fmt.Sprintf("%s %-11s %s", glyph, s.Action.Kind(), what)
		if s.Reason != "" {
			line += "  # " + s.Reason
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// Summary is String for a plan of at most max steps. A longer one is
// summed up: how many steps of each kind, its first max steps, and how
// many more follow (a reporter starting with thousands of ports logs a few
// lines).
func (p Plan) Summary(max int) string {
	if len(p.Steps) <= max {
		return p.String()
	}
	count := map[string]int{}
	for _, s := range p.Steps {
		count[s.Action.Kind()]++
	}
	var kinds []string
	for _, k := range []string{"create", "set_data", "delete", "restore", "leave_alone"} {
		if count[k] > 0 {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, count[k]))
		}
	}
	return fmt.Sprintf("%d steps (%s); the first %d:\n%s... %d more\n",
		len(p.Steps), strings.Join(kinds, ", "), max, Plan{Steps: p.Steps[:max]}, len(p.Steps)-max)
}

func describe(a Action) (glyph, what string) {
	switch a := a.(type) {
	case Create:
		return "+", a.Path + " " + metadataText(a.Data)
	case SetData:
		return "~", a.Path + " " + metadataText(a.Data)
	case Delete:
		return "-", a.Path
	case Restore:
		s := a.Path + " " + metadataText(a.Data)
		if a.Owner != 0 {
			s += " from session " + session(a.Owner)
		}
		if !a.NotBefore.IsZero() {
			s += " not before " + a.NotBefore.UTC().Format("15:04:05.000")
		}
		return "!", s
	case LeaveAlone:
		return "=", a.Path + " of session " + session(a.Owner)
	}
	panic(fmt.Sprintf("registration: unknown action %T", a))
}

// metadataText is the metadata of node data as the znode holds it, e.g.
// {"state": "ready", "weight": 3}.
func metadataText(data []byte) string {
	var n struct{ Metadata any }
	if json.Unmarshal(data, &n) != nil {
		return "(" + strconv.Itoa(len(data)) + " bytes)"
	}
	if s, ok := n.Metadata.(string); ok {
		return s
	}
	out, _ := json.Marshal(n.Metadata)
	return string(out)
}

func session(id int64) string { return fmt.Sprintf("%#x", id) }
