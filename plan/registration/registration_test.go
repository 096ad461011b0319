package registration

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// op is a step as the registry sees it: register Data at Path, or delete.
type op struct {
	Path   string
	Data   []byte
	Delete bool
}

func ops(p Plan) []op {
	var out []op
	for _, s := range p.Steps {
		switch a := s.Action.(type) {
		case Create:
			out = append(out, op{Path: a.Path, Data: a.Data})
		case SetData:
			out = append(out, op{Path: a.Path, Data: a.Data})
		case Restore:
			out = append(out, op{Path: a.Path, Data: a.Data})
		case Delete:
			out = append(out, op{Path: a.Path, Delete: true})
		}
	}
	return out
}

// wantOf is the Want of path → data, every znode restored at most once a
// second.
func wantOf(data map[string][]byte) Want {
	w := Want{}
	for p, d := range data {
		w[p] = Znode{Data: d, Every: time.Second}
	}
	return w
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestMake(t *testing.T) {
	up, up2 := []byte("up"), []byte("up2")
	want := wantOf(map[string][]byte{"/s/a:1": up, "/s/a:2": nil, "/s/a:3": up, "/s/a:4": nil, "/s/a:5": up2})
	st := &State{Session: 7, Done: map[string]Done{
		"/s/a:3": {Present: true, Session: 7, Data: up},  // done: nothing
		"/s/a:4": {Present: false},                       // known absent: nothing
		"/s/a:5": {Present: true, Session: 7, Data: up},  // new data
		"/s/a:6": {Present: true, Session: 7, Data: up},  // no longer wanted
		"/s/a:7": {Present: false},                       // no longer wanted, absent
		"/s/a:8": {Present: true},                        // uncertain, not wanted
		"/s/a:9": {Present: true, Session: 6, Data: up2}, // old session, not wanted
	}}
	got := Make(Input{Want: want, State: st, Now: t0})
	wantOps := []op{
		{Path: "/s/a:1", Data: up},
		{Path: "/s/a:2", Delete: true}, // never dealt with: deleted once
		{Path: "/s/a:5", Data: up2},
		{Path: "/s/a:6", Delete: true},
		{Path: "/s/a:8", Delete: true},
		{Path: "/s/a:9", Delete: true},
	}
	if diff := cmp.Diff(wantOps, ops(got)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if _, ok := got.Steps[2].Action.(SetData); !ok {
		t.Errorf("new data for a znode this session holds: %T, want SetData", got.Steps[2].Action)
	}
	// A new session: everything wanted up is registered again.
	st = &State{Session: 8, Done: map[string]Done{"/s/a:1": {Present: true, Session: 7, Data: up}, "/s/a:2": {Present: false}}}
	got = Make(Input{Want: wantOf(map[string][]byte{"/s/a:1": up, "/s/a:2": nil}), State: st, Now: t0})
	if diff := cmp.Diff([]op{{Path: "/s/a:1", Data: up}}, ops(got)); diff != "" {
		t.Errorf("after expiry (-want +got):\n%s", diff)
	}
	if _, ok := got.Steps[0].Action.(Create); !ok {
		t.Errorf("registered in an old session: %T, want Create", got.Steps[0].Action)
	}
}

// Whatever the starting point, carrying out the plan with success makes the
// next plan empty; a failure leaves the path to be done again; a new
// session re-registers every path wanted up and nothing else.
func TestMakeConverges(t *testing.T) {
	paths := []string{"/p/a:1", "/p/a:2", "/p/b:1", "/p/b:2"}
	datas := [][]byte{nil, []byte("x"), []byte("y")}
	rapid.Check(t, func(t *rapid.T) {
		data := map[string][]byte{}
		st := &State{Done: map[string]Done{}}
		for _, p := range paths {
			if rapid.Bool().Draw(t, "wanted "+p) {
				data[p] = rapid.SampledFrom(datas).Draw(t, "data "+p)
			}
			switch rapid.IntRange(0, 3).Draw(t, "have "+p) {
			case 1:
				st.Done[p] = Done{Present: false}
			case 2:
				st.Done[p] = Done{Present: true}
			case 3:
				st.Done[p] = Done{Present: true, Session: int64(rapid.IntRange(1, 2).Draw(t, "session")), Data: rapid.SampledFrom(datas[1:]).Draw(t, "had")}
			}
		}
		want := wantOf(data)
		st.Session = int64(rapid.IntRange(1, 2).Draw(t, "current"))
		plan := Make(Input{Want: want, State: st, Now: t0})
		seen := map[string]bool{}
		for i, s := range plan.Steps {
			p := s.Action.Target()
			if seen[p] {
				t.Fatalf("path %s twice in %v", p, plan)
			}
			seen[p] = true
			if i > 0 && plan.Steps[i-1].Action.Target() > p {
				t.Fatalf("not in path order: %v", plan)
			}
			fail := rapid.IntRange(0, 4).Draw(t, fmt.Sprintf("fail%d", i)) == 0
			var err error
			if fail {
				err = errors.New("boom")
			}
			st.Record(want, Outcome{Step: s, Session: st.Session, Err: err, At: t0})
			if fail {
				again := Make(Input{Want: want, State: st, Now: t0})
				found := false
				for _, a := range again.Steps {
					found = found || a.Action.Target() == p
				}
				if !found {
					t.Fatalf("%v failed and is not planned again: %v", s, again)
				}
			}
		}
		// Now succeed at everything.
		for _, s := range Make(Input{Want: want, State: st, Now: t0}).Steps {
			st.Record(want, Outcome{Step: s, Session: st.Session, At: t0})
		}
		st.Forget(want)
		if again := Make(Input{Want: want, State: st, Now: t0}); !again.Empty() {
			t.Fatalf("not converged: %v (state %+v)", again, st)
		}
		for p, h := range st.Done {
			if _, ok := want[p]; !ok {
				t.Fatalf("%s not wanted but remembered: %+v", p, h)
			}
		}
		next := *st
		next.Session++
		var wantUp []op
		for _, p := range paths {
			if d, ok := data[p]; ok && d != nil {
				wantUp = append(wantUp, op{Path: p, Data: d})
			}
		}
		if diff := cmp.Diff(wantUp, ops(Make(Input{Want: want, State: &next, Now: t0}))); diff != "" {
			t.Fatalf("after a session change (-want +got):\n%s", diff)
		}
	})
}

func TestJudge(t *testing.T) {
	ours, other := []byte("ours"), []byte("theirs")
	held := Done{Present: true, Session: 7, Data: ours}
	cases := []struct {
		name   string
		data   []byte
		wanted bool
		h      Done
		known  bool
		exists bool
		owner  int64
		got    []byte
		want   drift
	}{
		{"as registered", ours, true, held, true, true, 7, ours, driftNone},
		{"deleted", ours, true, held, true, false, 0, nil, driftDeleted},
		{"overwritten", ours, true, held, true, true, 7, other, driftOverwritten},
		{"taken by another session", ours, true, held, true, true, 9, ours, driftTaken},
		{"persistent in its place", ours, true, held, true, true, 0, ours, driftTaken},
		{"registered in an old session: the plan registers it", ours, true, Done{Present: true, Session: 6, Data: ours}, true, false, 0, nil, driftNone},
		{"an operation pending", ours, true, Done{Present: true}, true, false, 0, nil, driftNone},
		{"new data not written yet", []byte("new"), true, held, true, true, 7, ours, driftNone},
		{"never dealt with", ours, true, Done{}, false, false, 0, nil, driftNone},
		{"no longer wanted", nil, false, held, true, false, 0, nil, driftNone},
		{"down, absent", nil, true, Done{}, true, false, 0, nil, driftNone},
		{"down, another's", nil, true, Done{}, true, true, 9, other, driftForeign},
		{"down, not deleted yet", nil, true, held, true, true, 7, ours, driftNone},
	}
	for _, c := range cases {
		if got := judge(c.data, c.wanted, c.h, c.known, c.exists, c.owner, c.got, 7); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if got := judge(ours, true, held, true, false, 0, nil, 0); got != driftNone {
		t.Errorf("without a session: %v, want none", got)
	}
}

// A znode the registrar believes it holds drifts exactly when ZooKeeper
// holds anything else than its data in its session.
func TestJudgeProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		datas := [][]byte{[]byte("a"), []byte("b"), nil}
		data := rapid.SampledFrom(datas[:2]).Draw(t, "data")
		session := int64(rapid.IntRange(1, 3).Draw(t, "session"))
		exists := rapid.Bool().Draw(t, "exists")
		owner := int64(rapid.IntRange(0, 3).Draw(t, "owner"))
		got := rapid.SampledFrom(datas).Draw(t, "got")
		if !exists {
			owner, got = 0, nil
		}
		d := judge(data, true, Done{Present: true, Session: session, Data: data}, true, exists, owner, got, session)
		same := exists && owner == session && bytes.Equal(got, data)
		if same != (d == driftNone) {
			t.Fatalf("exists %v owner %d got %q: %v", exists, owner, got, d)
		}
	})
}

func TestRestoreDue(t *testing.T) {
	s := time.Second
	cases := []struct {
		last  time.Time
		every time.Duration
		now   time.Time
		want  time.Time
	}{
		{time.Time{}, 2 * s, t0, t0},              // never restored: at once
		{t0, 2 * s, t0.Add(s), t0.Add(2 * s)},     // held back to one interval after the last
		{t0, 2 * s, t0.Add(2 * s), t0.Add(2 * s)}, // an interval later: at once
		{t0, 2 * s, t0.Add(5 * s), t0.Add(5 * s)}, // long after: at once
		{t0, 0, t0, t0},                           // no interval: at once
	}
	for _, c := range cases {
		if got := restoreDue(c.last, c.every, c.now); !got.Equal(c.want) {
			t.Errorf("restoreDue(%v, %v, %v) = %v, want %v", c.last, c.every, c.now, got, c.want)
		}
	}
}

// A znode held and then deleted, overwritten or replaced is restored, at
// once or one check interval after the last restore; carried out, the
// restore ends the drift and counts for the next one.
func TestMakeRestores(t *testing.T) {
	ours := []byte(`{"metadata": "{\"state\": \"ready\"}"}`)
	const p = "/s/web/h:1"
	want := Want{p: {Data: ours, Every: 2 * time.Second}}
	for _, c := range []struct {
		seen   Seen
		reason string
		owner  int64
	}{
		{Seen{}, "deleted by another client", 0},
		{Seen{Exists: true, Owner: 7, Data: []byte("{}")}, "data overwritten by another client", 0},
		{Seen{Exists: true, Owner: 9, Data: ours}, "replaced by another session", 9},
	} {
		st := &State{Session: 7, Done: map[string]Done{p: {Present: true, Session: 7, Data: ours}}}
		st.Inspected(want, p, c.seen)
		got := Make(Input{Want: want, State: st, Now: t0})
		wantSteps := []Step{{Restore{Path: p, Data: ours, Owner: c.owner}, c.reason}}
		if diff := cmp.Diff(wantSteps, got.Steps); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.reason, diff)
		}
		st.Record(want, Outcome{Step: got.Steps[0], Session: 7, At: t0})
		if again := Make(Input{Want: want, State: st, Now: t0}); !again.Empty() {
			t.Errorf("%s: restored, and planned again: %v", c.reason, again)
		}
		// Again a second later: held back until an interval after the last.
		st.Inspected(want, p, c.seen)
		got = Make(Input{Want: want, State: st, Now: t0.Add(time.Second)})
		if len(got.Steps) != 1 || got.Steps[0].Action.(Restore).NotBefore != t0.Add(2*time.Second) || got.Steps[0].Due(t0.Add(time.Second)) {
			t.Errorf("%s: a second restore at once: %v", c.reason, got)
		}
		if !got.Steps[0].Due(t0.Add(2 * time.Second)) {
			t.Errorf("%s: not due an interval later", c.reason)
		}
	}
}

// While a port is down, another session's znode is left alone, said once
// per owner; found gone or of another owner, it is said again.
func TestMakeLeavesForeignAlone(t *testing.T) {
	const p = "/s/web/h:1"
	want := Want{p: {Every: time.Second}}
	st := &State{Session: 7, Done: map[string]Done{p: {Present: false}}}
	plan := func() Plan { return Make(Input{Want: want, State: st, Now: t0}) }
	st.Inspected(want, p, Seen{Exists: true, Owner: 9, Data: []byte("theirs")})
	got := plan()
	if diff := cmp.Diff([]Step{{LeaveAlone{Path: p, Owner: 9}, "the port is down and another session holds the znode: another reporter may own it"}}, got.Steps); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	st.Record(want, Outcome{Step: got.Steps[0], At: t0})
	if !plan().Empty() {
		t.Errorf("said twice: %v", plan())
	}
	st.Inspected(want, p, Seen{Exists: true, Owner: 9, Data: []byte("theirs, changed")})
	if !plan().Empty() {
		t.Errorf("said again when its data changed: %v", plan())
	}
	st.Inspected(want, p, Seen{Exists: true, Owner: 10, Data: []byte("another's")})
	if got := plan(); len(got.Steps) != 1 || got.Steps[0].Action != (LeaveAlone{Path: p, Owner: 10}) {
		t.Errorf("a new owner: %v", got)
	}
	// Up again: ours replaces it.
	ours := []byte("ours")
	want = Want{p: {Data: ours, Every: time.Second}}
	st.Forget(want)
	if diff := cmp.Diff([]op{{Path: p, Data: ours}}, ops(plan())); diff != "" {
		t.Errorf("up again (-want +got):\n%s", diff)
	}
	if len(st.LeftAlone) != 0 {
		t.Errorf("still remembered as left alone: %v", st.LeftAlone)
	}
}

// Resync makes everything registered again, and everything known absent
// deleted again.
func TestResync(t *testing.T) {
	up := []byte("up")
	want := wantOf(map[string][]byte{"/s/a:1": up, "/s/a:2": nil})
	st := &State{Session: 7}
	for _, s := range Make(Input{Want: want, State: st, Now: t0}).Steps {
		st.Record(want, Outcome{Step: s, Session: 7, At: t0})
	}
	st.Resync()
	if diff := cmp.Diff([]op{{Path: "/s/a:1", Data: up}, {Path: "/s/a:2", Delete: true}}, ops(Make(Input{Want: want, State: st, Now: t0}))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// A dry run from outside: the reporter's session is the one holding most
// of its znodes.
func TestFromRegistry(t *testing.T) {
	a, b := []byte(`{"metadata": "{\"state\": \"ready\"}"}`), []byte(`{"metadata": "{\"state\": \"drain\"}"}`)
	want := Want{"/s/w/h:1": {Data: a}, "/s/w/h:2": {Data: a}, "/s/w/h:3": {Data: b}, "/s/w/h:4": {}, "/s/w/h:5": {}, "/s/w/h:6": {Data: a}}
	st := FromRegistry(want, map[string]Seen{
		"/s/w/h:1": {Exists: true, Owner: 7, Data: a}, // in order
		"/s/w/h:2": {Exists: true, Owner: 9, Data: a}, // another session's
		"/s/w/h:3": {Exists: true, Owner: 7, Data: a}, // to drain
		"/s/w/h:4": {Exists: true, Owner: 7, Data: a}, // down
		"/s/w/h:5": {},                                // down, absent
		"/s/w/h:6": {},                                // up, absent
		"/s/x/h:1": {Exists: true, Owner: 9, Data: a}, // not wanted: ignored
	})
	if st.Session != 7 {
		t.Errorf("session %#x, want 0x7", st.Session)
	}
	got := Make(Input{Want: want, State: st, Now: t0}).String()
	wantText := `+ create      /s/w/h:2 {"state": "ready"}  # registered in session 0x9, not the current 0x7
~ set_data    /s/w/h:3 {"state": "drain"}  # state ready → drain
- delete      /s/w/h:4  # the port is down
+ create      /s/w/h:6 {"state": "ready"}  # the port is up
`
	if got != wantText {
		t.Errorf("got:\n%s\nwant:\n%s", got, wantText)
	}
	if st := FromRegistry(want, nil); st.Session != 0 || len(Make(Input{Want: want, State: st, Now: t0}).Steps) != 6 {
		t.Errorf("nothing found: session %#x", st.Session)
	}
}

func TestSummary(t *testing.T) {
	var p Plan
	for i := range 5 {
		p.Steps = append(p.Steps, Step{Delete{Path: fmt.Sprintf("/s/w/h:%d", i)}, "the port is down"})
	}
	p.Steps = append(p.Steps, Step{Create{Path: "/s/w/h:9", Data: []byte(`{"metadata": "{}"}`)}, "the port is up"})
	if got := p.Summary(6); got != p.String() {
		t.Errorf("a short plan is summed up:\n%s", got)
	}
	want := "6 steps (create 1, delete 5); the first 2:\n- delete      /s/w/h:0  # the port is down\n- delete      /s/w/h:1  # the port is down\n... 4 more\n"
	if got := p.Summary(2); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if !strings.HasPrefix(Plan{}.String(), "No changes.") {
		t.Errorf("empty plan: %q", Plan{}.String())
	}
}

func TestServicePort(t *testing.T) {
	if s, p := ServicePort("/lighthouse/services/web/app01.example.com:8080"); s != "web" || p != 8080 {
		t.Errorf("got %s %d", s, p)
	}
}
