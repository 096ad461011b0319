package golden

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"lighthouse/plan/registration"
)

// The sessions of the registration golden cases: the reporter's, the one
// after a new-session line, and another client's.
const (
	ourSession   int64 = 0x7
	newSession   int64 = 0x8
	theirSession int64 = 0x9
)

// goldenHost is the host every registration golden case registers.
var goldenHost = registration.Host{Name: "app01.example.com", IP: "10.0.0.11"}

// TestRegistrationGolden plans each case of golden/registration: the
// reporter (in session 0x7) has carried out its plan for before/ (config
// and checks), and now plans for after/ (each defaulting to before/'s).
// A `checks` file has lines "SERVICE PORT up|down", SERVICE a service
// file's stem; a port it does not name is not judged yet (no checks file:
// the reporter has just started). An optional file `state` says what
// happened since, one event a line:
//
//	new-session         the session is now 0x8
//	stopping            the reporter is stopping (drain_on_stop)
//	failed PATH         the last operation on PATH failed
//	deleted PATH        an inspection found PATH absent
//	overwritten PATH    ... found PATH with other data, in the reporter's session
//	taken PATH          ... found PATH with the reporter's data, in session 0x9
//	foreign PATH        ... found PATH with other data, in session 0x9
//	left-alone PATH     the znode at PATH was said to be left alone
//	restored PATH AGO   PATH was last restored AGO ago (a Go duration)
//
// want/plan.txt holds Plan.String() of the discovery's plan, then the
// warnings of loading the config the plan is for. Carrying out the plan and planning
// again must give an empty plan.
func TestRegistrationGolden(t *testing.T) {
	for _, dir := range caseDirs(t, "registration") {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			beforeSnap := loadSnapshot(t, filepath.Join(dir, "before", "config"))
			afterSnap := beforeSnap
			if _, err := os.Stat(filepath.Join(dir, "after", "config")); err == nil {
				afterSnap = loadSnapshot(t, filepath.Join(dir, "after", "config"))
			}
			beforeCfg, afterCfg := &beforeSnap.Config, &afterSnap.Config
			beforeHealth := loadChecks(t, filepath.Join(dir, "before", "checks"), nil)
			afterHealth := loadChecks(t, filepath.Join(dir, "after", "checks"), beforeHealth)
			events := readLines(t, filepath.Join(dir, "state"))
			stopping := slices.ContainsFunc(events, func(e []string) bool { return e[0] == "stopping" })

			before := registration.Wanted(beforeCfg, beforeHealth, goldenHost, false)
			after := registration.Wanted(afterCfg, afterHealth, goldenHost, stopping)
			names := discoveries(before, after)
			if len(names) > 1 {
				t.Fatalf("the case registers with %d discoveries: one only", len(names))
			}
			st := &registration.State{Session: ourSession}
			var want registration.Want
			if len(names) == 1 {
				converge(st, before[names[0]], planNow.Add(-time.Hour))
				want = after[names[0]]
			}
			st.Forget(want)
			for _, e := range events {
				happened(t, st, want, e)
			}
			p := registration.Make(registration.Input{Want: want, State: st, Now: planNow})
			checkGolden(t, filepath.Join(dir, "want", "plan.txt"), []byte(p.String()+afterSnap.Diagnostics.String()), false)

			for _, s := range p.Steps {
				st.Record(want, registration.Outcome{Step: s, Session: st.Session, At: planNow})
			}
			if again := registration.Make(registration.Input{Want: want, State: st, Now: planNow}); !again.Empty() {
				t.Errorf("planning again after carrying out the plan:\n%s", again)
			}
		})
	}
}

// converge carries out the plans for want until there is nothing left to
// do, every step succeeding.
func converge(st *registration.State, want registration.Want, now time.Time) {
	st.Forget(want)
	for _, s := range registration.Make(registration.Input{Want: want, State: st, Now: now}).Steps {
		st.Record(want, registration.Outcome{Step: s, Session: st.Session, At: now})
	}
}

// happened applies one line of a case's state file.
func happened(t *testing.T, st *registration.State, want registration.Want, e []string) {
	t.Helper()
	arg := func(i int) string {
		if len(e) <= i {
			t.Fatalf("state: %q needs %d arguments", strings.Join(e, " "), i)
		}
		return e[i]
	}
	switch e[0] {
	case "new-session":
		st.Session = newSession
	case "stopping":
	case "failed":
		st.Record(want, registration.Outcome{Step: registration.Step{Action: registration.Create{Path: arg(1)}},
			Err: errors.New("connection lost"), At: planNow})
	case "deleted":
		st.Inspected(want, arg(1), registration.Seen{})
	case "overwritten":
		st.Inspected(want, arg(1), registration.Seen{Exists: true, Owner: st.Session, Data: []byte(`{"overwritten": true}`)})
	case "taken":
		st.Inspected(want, arg(1), registration.Seen{Exists: true, Owner: theirSession, Data: want[arg(1)].Data})
	case "foreign":
		st.Inspected(want, arg(1), registration.Seen{Exists: true, Owner: theirSession, Data: []byte(`{"theirs": true}`)})
	case "left-alone":
		st.Record(want, registration.Outcome{Step: registration.Step{Action: registration.LeaveAlone{Path: arg(1), Owner: theirSession}}, At: planNow})
	case "restored":
		ago, err := time.ParseDuration(arg(2))
		if err != nil {
			t.Fatalf("state: %v", err)
		}
		if st.Restored == nil {
			st.Restored = map[string]time.Time{}
		}
		st.Restored[arg(1)] = planNow.Add(-ago)
	default:
		t.Fatalf("state: unknown line %q", strings.Join(e, " "))
	}
}

// loadChecks reads a checks file; a missing one is def.
func loadChecks(t *testing.T, path string, def registration.Health) registration.Health {
	t.Helper()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return def
	}
	h := registration.Health{}
	for _, f := range readLines(t, path) {
		if len(f) != 3 || f[2] != "up" && f[2] != "down" {
			t.Fatalf("%s: %q is not SERVICE PORT up|down", path, strings.Join(f, " "))
		}
		port, err := strconv.Atoi(f[1])
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if h[f[0]] == nil {
			h[f[0]] = map[int]bool{}
		}
		h[f[0]][port] = f[2] == "up"
	}
	return h
}

// readLines returns the fields of each non-empty line of the file at path;
// none when there is no file.
func readLines(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 0 {
			out = append(out, f)
		}
	}
	return out
}

// discoveries lists the discoveries wanted before or after, sorted.
func discoveries(wants ...map[string]registration.Want) []string {
	var names []string
	for _, w := range wants {
		for name := range w {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names
}
