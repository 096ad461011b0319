package runtime

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

func TestPlanRegistrations(t *testing.T) {
	up, up2 := []byte("up"), []byte("up2")
	want := map[string][]byte{"/s/a:1": up, "/s/a:2": nil, "/s/a:3": up, "/s/a:4": nil, "/s/a:5": up2}
	have := map[string]regState{
		"/s/a:3": {Present: true, Session: 7, Data: up},  // done: nothing
		"/s/a:4": {Present: false},                       // known absent: nothing
		"/s/a:5": {Present: true, Session: 7, Data: up},  // new data
		"/s/a:6": {Present: true, Session: 7, Data: up},  // no longer wanted
		"/s/a:7": {Present: false},                       // no longer wanted, absent
		"/s/a:8": {Present: true},                        // uncertain, not wanted
		"/s/a:9": {Present: true, Session: 6, Data: up2}, // old session, not wanted
	}
	got := planRegistrations(want, have, 7)
	wantOps := []regOp{
		{Path: "/s/a:1", Data: up},
		{Path: "/s/a:2", Delete: true}, // never dealt with: deleted once
		{Path: "/s/a:5", Data: up2},
		{Path: "/s/a:6", Delete: true},
		{Path: "/s/a:8", Delete: true},
		{Path: "/s/a:9", Delete: true},
	}
	if diff := cmp.Diff(wantOps, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	// A new session: everything wanted up is registered again.
	have = map[string]regState{"/s/a:1": {Present: true, Session: 7, Data: up}, "/s/a:2": {Present: false}}
	got = planRegistrations(map[string][]byte{"/s/a:1": up, "/s/a:2": nil}, have, 8)
	if diff := cmp.Diff([]regOp{{Path: "/s/a:1", Data: up}}, got); diff != "" {
		t.Errorf("after expiry (-want +got):\n%s", diff)
	}
}

// Whatever the starting point, carrying out the plan with success makes the
// next plan empty; a failure leaves the path to be done again; a new
// session re-registers every path wanted up and nothing else.
func TestPlanRegistrationsConverges(t *testing.T) {
	paths := []string{"/p/a:1", "/p/a:2", "/p/b:1", "/p/b:2"}
	datas := [][]byte{nil, []byte("x"), []byte("y")}
	rapid.Check(t, func(t *rapid.T) {
		want := map[string][]byte{}
		have := map[string]regState{}
		for _, p := range paths {
			if rapid.Bool().Draw(t, "wanted "+p) {
				want[p] = rapid.SampledFrom(datas).Draw(t, "data "+p)
			}
			switch rapid.IntRange(0, 3).Draw(t, "have "+p) {
			case 1:
				have[p] = regState{Present: false}
			case 2:
				have[p] = regState{Present: true}
			case 3:
				have[p] = regState{Present: true, Session: int64(rapid.IntRange(1, 2).Draw(t, "session")), Data: rapid.SampledFrom(datas[1:]).Draw(t, "had")}
			}
		}
		session := int64(rapid.IntRange(1, 2).Draw(t, "current"))
		ops := planRegistrations(want, have, session)
		seen := map[string]bool{}
		for i, op := range ops {
			if seen[op.Path] {
				t.Fatalf("path %s twice in %v", op.Path, ops)
			}
			seen[op.Path] = true
			if i > 0 && ops[i-1].Path > op.Path {
				t.Fatalf("not in path order: %v", ops)
			}
			fail := rapid.IntRange(0, 4).Draw(t, fmt.Sprintf("fail%d", i)) == 0
			var err error
			if fail {
				err = fmt.Errorf("boom")
			}
			applyOutcome(have, want, op, session, err)
			if fail {
				again := planRegistrations(want, have, session)
				found := false
				for _, a := range again {
					found = found || a.Path == op.Path
				}
				if !found {
					t.Fatalf("%v failed and is not planned again: %v", op, again)
				}
			}
		}
		// Now succeed at everything.
		for _, op := range planRegistrations(want, have, session) {
			applyOutcome(have, want, op, session, nil)
		}
		forget(have, want)
		if again := planRegistrations(want, have, session); len(again) != 0 {
			t.Fatalf("not converged: %v (have %v)", again, have)
		}
		for p, h := range have {
			if _, ok := want[p]; !ok {
				t.Fatalf("%s not wanted but remembered: %+v", p, h)
			}
		}
		next := planRegistrations(want, have, session+1)
		var wantUp []regOp
		for _, p := range paths {
			if d, ok := want[p]; ok && d != nil {
				wantUp = append(wantUp, regOp{Path: p, Data: d})
			}
		}
		if diff := cmp.Diff(wantUp, next); diff != "" {
			t.Fatalf("after a session change (-want +got):\n%s", diff)
		}
	})
}

func TestJudgeZnode(t *testing.T) {
	ours, other := []byte("ours"), []byte("theirs")
	held := regState{Present: true, Session: 7, Data: ours}
	cases := []struct {
		name   string
		data   []byte
		wanted bool
		h      regState
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
		{"registered in an old session: the plan registers it", ours, true, regState{Present: true, Session: 6, Data: ours}, true, false, 0, nil, driftNone},
		{"an operation pending", ours, true, regState{Present: true}, true, false, 0, nil, driftNone},
		{"new data not written yet", []byte("new"), true, held, true, true, 7, ours, driftNone},
		{"never dealt with", ours, true, regState{}, false, false, 0, nil, driftNone},
		{"no longer wanted", nil, false, held, true, false, 0, nil, driftNone},
		{"down, absent", nil, true, regState{}, true, false, 0, nil, driftNone},
		{"down, another's", nil, true, regState{}, true, true, 9, other, driftForeign},
		{"down, not deleted yet", nil, true, held, true, true, 7, ours, driftNone},
	}
	for _, c := range cases {
		if got := judgeZnode(c.data, c.wanted, c.h, c.known, c.exists, c.owner, c.got, 7); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if got := judgeZnode(ours, true, held, true, false, 0, nil, 0); got != driftNone {
		t.Errorf("without a session: %v, want none", got)
	}
}

// A znode the registrar believes it holds drifts exactly when ZooKeeper
// holds anything else than its data in its session.
func TestJudgeZnodeProperty(t *testing.T) {
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
		d := judgeZnode(data, true, regState{Present: true, Session: session, Data: data}, true, exists, owner, got, session)
		same := exists && owner == session && bytes.Equal(got, data)
		if same != (d == driftNone) {
			t.Fatalf("exists %v owner %d got %q: %v", exists, owner, got, d)
		}
	})
}

func TestRestoreDue(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
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
