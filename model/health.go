package model

import (
	"sort"
	"time"
)

// CheckState is the rise/fall memory of one health check of one port: the
// results of its last max(Rise, Fall) runs, oldest first, and whether the
// check is passing. It is the original's deque-based Check
// (lighthouse/check.py) as a value: methods never change the receiver, they
// return the next state.
//
// The rules, as in the original:
//   - A fresh state holds max(rise, fall) failures and is not passing, so a
//     check turns passing only after rise consecutive passes.
//   - Record appends a result (dropping the oldest). A passing check whose
//     last fall results are all failures stops passing; a check that is not
//     passing and whose last rise results are all passes starts passing.
//   - Resize changes rise and fall and keeps the history: a shorter window
//     drops the oldest results, a longer one prepends failures. Whether the
//     check passes is not re-evaluated until the next Record; the prepended
//     failures count as failures then.
type CheckState struct {
	rise, fall int
	results    []bool // oldest first; len == max(rise, fall)
	passing    bool
}

// CheckChange says how one Record changed a check.
type CheckChange int

const (
	// Unchanged means the check passes as much as it did before.
	Unchanged CheckChange = iota
	// NowPassing means the check has passed rise times in a row.
	NowPassing
	// NowFailing means the check has failed fall times in a row.
	NowFailing
)

// String returns "unchanged", "now passing" or "now failing".
func (c CheckChange) String() string {
	switch c {
	case NowPassing:
		return "now passing"
	case NowFailing:
		return "now failing"
	}
	return "unchanged"
}

// NewCheckState is the state of a check that has never run. Rise and fall
// below 1 count as 1 (Load accepts only 1..1000).
func NewCheckState(rise, fall int) CheckState {
	rise, fall = max(rise, 1), max(fall, 1)
	return CheckState{rise: rise, fall: fall, results: make([]bool, max(rise, fall))}
}

// Rise is the number of consecutive passes that make the check pass.
func (s CheckState) Rise() int { return s.rise }

// Fall is the number of consecutive failures that make it fail.
func (s CheckState) Fall() int { return s.fall }

// Passing reports whether the check passes.
func (s CheckState) Passing() bool { return s.passing }

// Results returns the remembered results, oldest first (a copy).
func (s CheckState) Results() []bool { return append([]bool(nil), s.results...) }

// Record returns the state after one more run of the check.
func (s CheckState) Record(pass bool) (CheckState, CheckChange) {
	if len(s.results) == 0 { // the zero value
		s = NewCheckState(s.rise, s.fall)
	}
	next := CheckState{rise: s.rise, fall: s.fall, passing: s.passing}
	next.results = make([]bool, len(s.results))
	copy(next.results, s.results[1:])
	next.results[len(next.results)-1] = pass
	change := Unchanged
	if next.passing && allFalse(next.last(next.fall)) {
		next.passing, change = false, NowFailing
	}
	if !next.passing && allTrue(next.last(next.rise)) {
		next.passing, change = true, NowPassing
	}
	return next, change
}

// Resize returns the state with new rise and fall values and the history
// kept: the window becomes max(rise, fall) long, dropping the oldest
// results or prepending failures. Passing is unchanged.
func (s CheckState) Resize(rise, fall int) CheckState {
	rise, fall = max(rise, 1), max(fall, 1)
	n := max(rise, fall)
	next := CheckState{rise: rise, fall: fall, passing: s.passing, results: make([]bool, n)}
	if len(s.results) >= n {
		copy(next.results, s.results[len(s.results)-n:])
	} else {
		copy(next.results[n-len(s.results):], s.results)
	}
	return next
}

func (s CheckState) last(n int) []bool { return s.results[len(s.results)-n:] }

func allTrue(bs []bool) bool {
	for _, b := range bs {
		if !b {
			return false
		}
	}
	return true
}

func allFalse(bs []bool) bool {
	for _, b := range bs {
		if b {
			return false
		}
	}
	return true
}

// PortHealth is the health of one port of a service: the state of each of
// its checks, by check type. The port is up when every check passes; a
// service with no checks is up whenever it is configured (as in the
// original). Methods return new values and leave the receiver unchanged.
type PortHealth struct {
	checks map[string]CheckState
}

// NewPortHealth is the health of a port whose checks have never run.
func NewPortHealth(checks []Check) PortHealth {
	return PortHealth{}.Configure(checks)
}

// Configure follows a changed service config: checks that stay keep their
// history and state, resized to their new rise and fall (so editing a
// service does not flap it, unlike the original, which re-created its
// checks); a new check type starts fresh, not passing; removed check types
// are forgotten.
func (h PortHealth) Configure(checks []Check) PortHealth {
	next := PortHealth{checks: make(map[string]CheckState, len(checks))}
	for _, c := range checks {
		if old, ok := h.checks[c.Type]; ok {
			next.checks[c.Type] = old.Resize(c.Rise, c.Fall)
		} else {
			next.checks[c.Type] = NewCheckState(c.Rise, c.Fall)
		}
	}
	return next
}

// Up reports whether every check passes.
func (h PortHealth) Up() bool {
	for _, s := range h.checks {
		if !s.passing {
			return false
		}
	}
	return true
}

// Check returns the state of one check type.
func (h PortHealth) Check(typ string) (CheckState, bool) {
	s, ok := h.checks[typ]
	return s, ok
}

// CheckTypes returns the configured check types, sorted.
func (h PortHealth) CheckTypes() []string { return sortedKeys(h.checks) }

// CheckResult is the outcome of one run of one check.
type CheckResult struct {
	Type string
	Pass bool
	// Detail says why a check failed ("" when it passed); only logged.
	Detail string
	// Took is how long the check ran; only measured.
	Took time.Duration
}

// CheckTransition is a check that changed in a Record.
type CheckTransition struct {
	Type   string
	Change CheckChange
	// Detail is the failure detail of the run that made it fail.
	Detail string
	// Rise or Fall of the check: the count that was reached.
	Count int
}

// Record applies one round of results: one per check type. Results of check
// types the port does not have are ignored (they come from a round that
// started before a config change); a check with no result keeps its state.
// The transitions are sorted by check type.
func (h PortHealth) Record(results []CheckResult) (PortHealth, []CheckTransition) {
	next := PortHealth{checks: make(map[string]CheckState, len(h.checks))}
	for typ, s := range h.checks {
		next.checks[typ] = s
	}
	var ts []CheckTransition
	for _, r := range results {
		s, ok := next.checks[r.Type]
		if !ok {
			continue
		}
		s, change := s.Record(r.Pass)
		next.checks[r.Type] = s
		switch change {
		case NowPassing:
			ts = append(ts, CheckTransition{Type: r.Type, Change: change, Count: s.rise})
		case NowFailing:
			ts = append(ts, CheckTransition{Type: r.Type, Change: change, Detail: r.Detail, Count: s.fall})
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Type < ts[j].Type })
	return next, ts
}
