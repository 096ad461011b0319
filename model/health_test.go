package model

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// The original's own cases (tests/check_tests.py), research §7.1.
func TestCheckStateResizeLikeOriginal(t *testing.T) {
	s := NewCheckState(2, 2)
	if got := s.Results(); !cmp.Equal(got, []bool{false, false}) {
		t.Fatalf("fresh: %v", got)
	}
	s, _ = s.Record(true)
	if got := s.Results(); !cmp.Equal(got, []bool{false, true}) {
		t.Fatalf("after a pass: %v", got)
	}
	s = s.Resize(2, 3)
	if got := s.Results(); !cmp.Equal(got, []bool{false, false, true}) {
		t.Fatalf("fall 2→3 prepends a failure: %v", got)
	}
	s3 := NewCheckState(3, 2)
	s3, _ = s3.Record(true)
	s3 = s3.Resize(2, 2)
	if got := s3.Results(); !cmp.Equal(got, []bool{false, true}) {
		t.Fatalf("rise 3→2 drops the oldest: %v", got)
	}
	swapped := NewCheckState(3, 2)
	swapped, _ = swapped.Record(true)
	before := swapped.Results()
	swapped = swapped.Resize(2, 3)
	if got := swapped.Results(); !cmp.Equal(got, before) {
		t.Fatalf("rise/fall swapped 3/2→2/3 keeps the history: %v, was %v", got, before)
	}
}

func TestCheckStateRiseFall(t *testing.T) {
	s := NewCheckState(2, 2)
	steps := []struct {
		pass    bool
		change  CheckChange
		passing bool
	}{
		{true, Unchanged, false},
		{true, NowPassing, true},
		{false, Unchanged, true},
		{true, Unchanged, true},
		{false, Unchanged, true},
		{false, NowFailing, false},
		{false, Unchanged, false},
		{true, Unchanged, false},
		{true, NowPassing, true},
	}
	for i, st := range steps {
		var ch CheckChange
		s, ch = s.Record(st.pass)
		if ch != st.change || s.Passing() != st.passing {
			t.Fatalf("step %d (%v): got %v passing=%v, want %v passing=%v", i, st.pass, ch, s.Passing(), st.change, st.passing)
		}
	}
}

func TestCheckStateIsAValue(t *testing.T) {
	s := NewCheckState(1, 3)
	s2, _ := s.Record(true)
	if s.Passing() || !cmp.Equal(s.Results(), []bool{false, false, false}) {
		t.Errorf("Record changed its receiver: %v %v", s.Passing(), s.Results())
	}
	_ = s2.Resize(5, 5)
	if !cmp.Equal(s2.Results(), []bool{false, false, true}) {
		t.Errorf("Resize changed its receiver: %v", s2.Results())
	}
	var zero CheckState
	if z, _ := zero.Record(true); !z.Passing() {
		t.Errorf("the zero value acts as rise 1, fall 1: %v", z.Results())
	}
}

func TestPortHealth(t *testing.T) {
	checks := []Check{{Type: "http", Rise: 1, Fall: 1}, {Type: "tcp", Rise: 2, Fall: 1}}
	h := NewPortHealth(checks)
	if h.Up() {
		t.Fatal("fresh port is up")
	}
	pass := []CheckResult{{Type: "http", Pass: true}, {Type: "tcp", Pass: true}}
	h, ts := h.Record(pass)
	if h.Up() || len(ts) != 1 || ts[0].Type != "http" || ts[0].Change != NowPassing {
		t.Fatalf("after one round: up=%v %v", h.Up(), ts)
	}
	h, _ = h.Record(pass)
	if !h.Up() {
		t.Fatal("all checks passing, port down")
	}
	// Editing rise keeps state; adding a check starts it fresh.
	h2 := h.Configure([]Check{{Type: "http", Rise: 3, Fall: 1}, {Type: "tcp", Rise: 2, Fall: 1}})
	if !h2.Up() {
		t.Error("resizing a check flapped the port")
	}
	h3 := h.Configure(append(checks, Check{Type: "redis", Rise: 1, Fall: 1}))
	if h3.Up() {
		t.Error("a new check counts as passing before it ran")
	}
	if !h.Up() {
		t.Error("Configure changed its receiver")
	}
	h4, ts := h.Record([]CheckResult{{Type: "tcp", Pass: false, Detail: "refused"}, {Type: "redis", Pass: false}})
	if h4.Up() || len(ts) != 1 || ts[0].Change != NowFailing || ts[0].Detail != "refused" || ts[0].Count != 1 {
		t.Errorf("tcp failing: up=%v %+v", h4.Up(), ts)
	}
	if !NewPortHealth(nil).Up() {
		t.Error("a port without checks is up (as in the original)")
	}
}

// refDeque is the original's algorithm transcribed as directly as possible:
// a deque with maxlen, resized by deque(list, maxlen) or by prepending
// False.
type refDeque struct {
	rise, fall int
	d          []bool
	passing    bool
}

func (r *refDeque) resize(rise, fall int) {
	r.rise, r.fall = rise, fall
	n := max(rise, fall)
	for len(r.d) < n {
		r.d = append([]bool{false}, r.d...)
	}
	for len(r.d) > n {
		r.d = r.d[1:]
	}
}

func (r *refDeque) run(pass bool) {
	r.d = append(r.d[1:], pass)
	if r.passing {
		anyTrue := false
		for _, b := range r.d[len(r.d)-r.fall:] {
			anyTrue = anyTrue || b
		}
		if !anyTrue {
			r.passing = false
		}
	}
	if !r.passing {
		allPass := true
		for _, b := range r.d[len(r.d)-r.rise:] {
			allPass = allPass && b
		}
		if allPass {
			r.passing = true
		}
	}
}

// Without resizes: never up without rise trailing passes, never down
// without fall trailing failures, and always up after rise passes in a row,
// down after fall failures in a row.
func TestCheckStateProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rise := rapid.IntRange(1, 6).Draw(t, "rise")
		fall := rapid.IntRange(1, 6).Draw(t, "fall")
		runs := rapid.SliceOf(rapid.Bool()).Draw(t, "runs")
		s := NewCheckState(rise, fall)
		trailingPass, trailingFail := 0, 0
		for i, pass := range runs {
			was := s.Passing()
			var ch CheckChange
			s, ch = s.Record(pass)
			if pass {
				trailingPass, trailingFail = trailingPass+1, 0
			} else {
				trailingPass, trailingFail = 0, trailingFail+1
			}
			if s.Passing() && !was && trailingPass < rise {
				t.Fatalf("run %d: up after %d trailing passes, rise %d", i, trailingPass, rise)
			}
			if !s.Passing() && was && trailingFail < fall {
				t.Fatalf("run %d: down after %d trailing failures, fall %d", i, trailingFail, fall)
			}
			if trailingPass >= rise && !s.Passing() {
				t.Fatalf("run %d: %d passes in a row, rise %d, still not passing", i, trailingPass, rise)
			}
			if trailingFail >= fall && s.Passing() {
				t.Fatalf("run %d: %d failures in a row, fall %d, still passing", i, trailingFail, fall)
			}
			wantCh := Unchanged
			switch {
			case s.Passing() && !was:
				wantCh = NowPassing
			case !s.Passing() && was:
				wantCh = NowFailing
			}
			if ch != wantCh {
				t.Fatalf("run %d: change %v, want %v", i, ch, wantCh)
			}
		}
	})
}

// With resizes interleaved, the state follows the original's deque exactly;
// a flip up needs rise real trailing passes (prepended entries are
// failures), a flip down needs fall trailing failures in the window; a
// resize keeps the newest results and the passing flag.
func TestCheckStateMatchesOriginalWithResizes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rise := rapid.IntRange(1, 6).Draw(t, "rise")
		fall := rapid.IntRange(1, 6).Draw(t, "fall")
		s := NewCheckState(rise, fall)
		ref := &refDeque{passing: false}
		ref.resize(rise, fall)
		trailingPass := 0
		steps := rapid.IntRange(0, 60).Draw(t, "steps")
		for i := 0; i < steps; i++ {
			if rapid.IntRange(0, 4).Draw(t, fmt.Sprintf("op%d", i)) == 0 {
				r := rapid.IntRange(1, 6).Draw(t, fmt.Sprintf("rise%d", i))
				f := rapid.IntRange(1, 6).Draw(t, fmt.Sprintf("fall%d", i))
				before := s.Results()
				was := s.Passing()
				s = s.Resize(r, f)
				ref.resize(r, f)
				after := s.Results()
				n := max(r, f)
				if len(after) != n || s.Passing() != was {
					t.Fatalf("resize to %d/%d: len %d passing %v (was %v)", r, f, len(after), s.Passing(), was)
				}
				k := min(n, len(before))
				if !cmp.Equal(after[n-k:], before[len(before)-k:]) {
					t.Fatalf("resize lost the newest results: %v → %v", before, after)
				}
				for _, b := range after[:n-k] {
					if b {
						t.Fatalf("resize prepended a pass: %v → %v", before, after)
					}
				}
				if s.Rise() != r || s.Fall() != f {
					t.Fatalf("rise/fall %d/%d, want %d/%d", s.Rise(), s.Fall(), r, f)
				}
			} else {
				pass := rapid.Bool().Draw(t, fmt.Sprintf("pass%d", i))
				was := s.Passing()
				s, _ = s.Record(pass)
				ref.run(pass)
				if pass {
					trailingPass++
				} else {
					trailingPass = 0
				}
				res := s.Results()
				if s.Passing() && !was {
					if trailingPass < s.Rise() {
						t.Fatalf("step %d: up after %d real trailing passes, rise %d", i, trailingPass, s.Rise())
					}
				}
				if !s.Passing() && was {
					for _, b := range res[len(res)-s.Fall():] {
						if b {
							t.Fatalf("step %d: down with a pass among the last %d results %v", i, s.Fall(), res)
						}
					}
				}
			}
			if !cmp.Equal(s.Results(), ref.d) || s.Passing() != ref.passing {
				t.Fatalf("step %d: got %v passing=%v, the original's deque %v passing=%v", i, s.Results(), s.Passing(), ref.d, ref.passing)
			}
		}
	})
}

// A port is up exactly when every one of its checks passes.
func TestPortHealthUpIsAllPassing(t *testing.T) {
	types := []string{"http", "redis", "tcp"}
	rapid.Check(t, func(t *rapid.T) {
		var checks []Check
		for _, typ := range types {
			if rapid.Bool().Draw(t, "has "+typ) {
				checks = append(checks, Check{Type: typ, Rise: rapid.IntRange(1, 3).Draw(t, "rise"), Fall: rapid.IntRange(1, 3).Draw(t, "fall")})
			}
		}
		h := NewPortHealth(checks)
		for round := rapid.IntRange(0, 20).Draw(t, "rounds"); round > 0; round-- {
			var rs []CheckResult
			for _, c := range checks {
				rs = append(rs, CheckResult{Type: c.Type, Pass: rapid.Bool().Draw(t, "pass")})
			}
			h, _ = h.Record(rs)
			want := true
			for _, typ := range h.CheckTypes() {
				s, _ := h.Check(typ)
				want = want && s.Passing()
			}
			if h.Up() != want {
				t.Fatalf("Up %v, checks passing %v", h.Up(), want)
			}
		}
	})
}
