package plan

import (
	"errors"
	"strings"
	"testing"
	"time"

	"lighthouse/model"
)

// done is the outcome of carrying out every step of p at at.
func done(p Plan, at time.Time) Outcome {
	o := Outcome{At: at}
	for _, s := range p.Steps {
		o.Done = append(o.Done, s.Action)
	}
	return o
}

// The Planner learns from outcomes what the observed HAProxy does not
// show: what it loaded and when, and the failures that change the next
// plan.
func TestPlannerRecordsOutcomes(t *testing.T) {
	in := Input{Config: testConfig(tcpCluster("cache", 9999)), Membership: model.Membership{"cache": known(node("c1.example", "10.0.0.1", 6379))}, Version: v26, Now: t0}
	var pl Planner
	first := pl.Plan(in)
	if got := kinds(first); !strings.HasSuffix(got, "start haproxy") {
		t.Fatalf("first plan:\n%s", first)
	}
	pl.Record(done(first, t0))
	if pl.Loaded() == nil || !pl.Loaded().HasBackend("cache") || pl.history.LastReload != t0 {
		t.Fatalf("after the start: loaded %v, last reload %v", pl.Loaded(), pl.history.LastReload)
	}

	// HAProxy runs; its observation does not say what it loaded: the
	// planner's record stands in, so nothing is reloaded.
	obs := Apply(Observed{}, first)
	obs.Loaded = nil
	in.Observed, in.Now = obs, t0.Add(time.Minute)
	if p := pl.Plan(in); !p.Empty() {
		t.Fatalf("converged, yet:\n%s", p)
	}
	pl.Replaced()
	if p := pl.Plan(in); !p.HasReload() {
		t.Fatalf("another HAProxy: what it loaded is not known, yet no reload:\n%s", p)
	}

	// A runtime change that failed makes the next plan converge by a reload.
	in.Observed = Apply(Observed{}, first)
	in.Membership = model.Membership{"cache": known(node("c2.example", "10.0.0.2", 6379))}
	p := pl.Plan(in)
	pl.Record(Outcome{At: in.Now, Failed: p.Steps[0].Action, Err: errors.New("no answer")})
	if !pl.Plan(in).HasReload() {
		t.Fatalf("after a failed runtime change, no reload")
	}
	pl.Record(Outcome{At: in.Now, Done: []Action{Reload{}}})
	if pl.history.RuntimeFailed {
		t.Errorf("a reload did not clear the failed runtime change")
	}
}

// A candidate haproxy -c rejected is not tried again; a file that could not
// be written is tried again after a backoff that doubles.
func TestPlannerRejectedAndUnwritable(t *testing.T) {
	in := Input{Config: testConfig(tcpCluster("cache", 9999)), Membership: model.Membership{"cache": known(node("c1.example", "10.0.0.1", 6379))}, Version: v26, Now: t0}
	in.Observed = converged(t, in)
	in.Config = testConfig(tcpCluster("cache", 9998))
	var pl Planner
	p := pl.Plan(in)
	v := p.Steps[0].Action.(Validate)
	pl.Record(Outcome{At: t0, Failed: v, Err: errors.New("rejected"), Rejected: true})
	if again := pl.Plan(in); !again.Empty() || !again.Diagnostics.HasErrors() {
		t.Fatalf("a rejected candidate is tried again:\n%s%s", again, again.Diagnostics)
	}

	in.Config = testConfig(tcpCluster("cache", 9997))
	w := pl.Plan(in).Steps[1].Action.(WriteFile)
	for i, wait := range []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second} {
		at := in.Now
		pl.Record(Outcome{At: at, Failed: w, Err: errors.New("disk full")})
		if got := pl.WriteRetryAt(); !got.Equal(at.Add(wait)) {
			t.Fatalf("failure %d: retry at %v, want %v", i+1, got, at.Add(wait))
		}
		in.Now = at.Add(wait - time.Millisecond)
		if p := pl.Plan(in); len(p.Steps) != 0 && p.Steps[0].Action.Kind() == "validate" {
			t.Fatalf("failure %d: installed before the backoff passed:\n%s", i+1, p)
		}
		in.Now = at.Add(wait)
		if p := pl.Plan(in); p.Steps[0].Action.Kind() != "validate" {
			t.Fatalf("failure %d: not tried again once the backoff passed:\n%s", i+1, p)
		}
	}
	pl.Record(done(pl.Plan(in), in.Now))
	if !pl.WriteRetryAt().IsZero() || pl.history.Unwritable {
		t.Errorf("a written file left the backoff on")
	}
}

// A removal refused for requests in flight is remembered from its first
// refusal; the server's removal or its leaving HAProxy forgets it.
func TestPlannerBusy(t *testing.T) {
	var pl Planner
	rm := RemoveServer{Backend: "cache", Server: "c1.example:6379"}
	pl.Record(Outcome{At: t0, Busy: []RemoveServer{rm}})
	pl.Record(Outcome{At: t0.Add(time.Second), Busy: []RemoveServer{rm}})
	if got := pl.history.Busy[rm.Target()]; got.Since != t0 || got.Last != t0.Add(time.Second) || !pl.IsBusy(rm.Target()) {
		t.Fatalf("busy %+v", got)
	}
	pl.Record(Outcome{At: t0.Add(2 * time.Second), Done: []Action{rm}})
	if pl.IsBusy(rm.Target()) {
		t.Fatalf("removed, still busy")
	}
	pl.Record(Outcome{At: t0, Busy: []RemoveServer{rm}})
	pl.Plan(Input{Observed: Observed{Running: true, Servers: map[string][]Server{"cache": {{Name: "c2.example:6379"}}}}})
	if pl.IsBusy(rm.Target()) {
		t.Fatalf("the server no longer runs, yet it is still busy")
	}
}

// A start that failed on the file on disk is not tried on that file again
// before StartRetry; when nothing else can be installed, it is then.
func TestPlannerStartFailed(t *testing.T) {
	in := Input{Config: testConfig(tcpCluster("cache", 9999)), Membership: model.Membership{"cache": known(node("c1.example", "10.0.0.1", 6379))}, Version: v26, Now: t0}
	file := Apply(Observed{}, Make(in)).File
	in.Observed = Observed{File: file}
	var pl Planner
	p := pl.Plan(in)
	if kinds(p) != "start haproxy" {
		t.Fatalf("a file on disk and no HAProxy:\n%s", p)
	}
	pl.Record(Outcome{At: t0, Failed: Start{}, Err: errors.New("exit status 1")})
	if pl.history.StartFailed != Fingerprint(file) || !pl.history.StartFailedAt.Equal(t0) {
		t.Fatalf("start failed on %q at %v, want %q at %v", pl.history.StartFailed, pl.history.StartFailedAt, Fingerprint(file), t0)
	}
	in.Now = t0.Add(StartRetry - 100*time.Millisecond) // the write fails, and is not tried again within StartRetry
	w := pl.Plan(in).Steps[1].Action.(WriteFile)
	pl.Record(Outcome{At: in.Now, Failed: w, Err: errors.New("disk full")})
	in.Now = t0.Add(StartRetry - time.Millisecond)
	if p := pl.Plan(in); !p.Empty() {
		t.Fatalf("the file a start failed on is started on again before StartRetry:\n%s", p)
	}
	in.Now = t0.Add(StartRetry)
	p = pl.Plan(in)
	if kinds(p) != "start haproxy" || !strings.Contains(p.Steps[0].Reason, "try that file again") {
		t.Fatalf("nothing can be written and StartRetry passed, yet:\n%s", p)
	}
	pl.Record(done(p, in.Now))
	if pl.history.StartFailed != "" || !pl.history.StartFailedAt.IsZero() {
		t.Errorf("a start that went through left the failure recorded")
	}
}
