package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"lighthouse/model/haproxyapi"
	"lighthouse/plan"
)

// execute carries out the steps in order and stops at the first failure;
// what happened goes back to the planner as one Outcome. A reload that
// must wait stops execution and returns the wait.
func (w *Writer) execute(ctx context.Context, p plan.Plan) (time.Duration, error) {
	var out plan.Outcome
	locked := false
	var wait time.Duration // until the earliest pending step
	defer func() {
		if locked {
			w.fileMu.Unlock()
		}
		out.At = time.Now()
		w.planner.Record(out)
	}()
	// Runtime changes go out together, in order, up to the next step that
	// is not one (a file, a start, a reload).
	var batch []plan.Step
	flush := func() error {
		defer func() { batch = batch[:0] }()
		return w.applyRuntime(ctx, batch, &wait, &out)
	}
	for _, s := range p.Steps {
		var err error
		switch a := s.Action.(type) {
		case plan.RemoveServer:
			if d := time.Until(a.NotBefore); d > 0 {
				wait = earliest(wait, d) // pending: the steps after it go on
				continue
			}
			batch = append(batch, s)
			continue
		case plan.AddServer, plan.EnableHealth, plan.ShutdownSessions, plan.SetServerState, plan.SetServerAddr, plan.SetWeight:
			batch = append(batch, s)
			continue
		}
		if err := flush(); err != nil {
			return 0, err
		}
		switch a := s.Action.(type) {
		case plan.Validate:
			if a.Background {
				// Only the file is behind what runs: the syncer brings it
				// up to date while the loop takes the next change.
				w.handOff(a)
				return wait, errHandedOff
			}
			if !locked {
				w.fileMu.Lock()
				locked = true
				w.fileGen.Add(1)
				w.syncing = ""
			}
			err = w.hap.Validate(ctx, a.Data)
			var rej rejection
			if errors.As(err, &rej) {
				out.Rejected = true
				w.logRejection(rej, a.Data)
				w.Metrics.Reload("rejected")
			} else if err != nil {
				w.writeFailed(err)
			}
		case plan.WriteFile:
			if err = w.hap.Install(ctx, a.Data); err == nil {
				w.writeOK()
			} else {
				w.writeFailed(err)
			}
		case plan.Kill:
			if err = w.hap.Kill(ctx); err == nil {
				w.Log.Warn("killed HAProxy", "why", s.Reason)
			}
		case plan.Start:
			if d := time.Until(a.NotBefore); d > 0 {
				return earliest(wait, d), nil // an update that completes the reads plans again sooner
			}
			if err = w.hap.Start(ctx); err == nil {
				w.Log.Info("started HAProxy")
			}
		case plan.SaveState:
			if d := time.Until(a.NotBefore); d > 0 {
				return earliest(wait, d), nil // the reload after it waits too
			}
			if err = w.hap.SaveState(ctx, a.Path); err != nil {
				// No reason to hold the reload back: servers then start
				// as the config says, and the next plans set them again.
				w.Log.Warn("saving server states before the reload failed; reloading without them", "err", err)
				err = nil
			}
		case plan.Reload:
			if d := time.Until(a.NotBefore); d > 0 {
				w.Log.Info("reload waits for restart_interval", "not_before", a.NotBefore.Format(time.RFC3339Nano))
				return earliest(wait, d), nil
			}
			if err = w.hap.Reload(ctx); err == nil {
				w.Log.Info("reloaded HAProxy")
				w.Metrics.Reload("ok")
			} else {
				w.Metrics.Reload("failed")
			}
		default:
			err = fmt.Errorf("unknown action %s", s.Action.Kind())
		}
		w.Metrics.Action(s.Action.Kind(), err == nil)
		if err != nil {
			out.Failed, out.Err = s.Action, err
			return 0, fmt.Errorf("%s %s: %w", s.Action.Kind(), s.Action.Target(), err)
		}
		out.Done = append(out.Done, s.Action)
	}
	if err := flush(); err != nil {
		return 0, err
	}
	return wait, nil
}

// applyRuntime carries out a run of runtime changes through HAProxy's
// Apply, and adds what happened to out. A server HAProxy refused to delete
// while requests are in flight is a fact for the next plan, not a failure:
// it waits at least plan.BusyRetry. The first other failure ends the plan.
func (w *Writer) applyRuntime(ctx context.Context, steps []plan.Step, wait *time.Duration, out *plan.Outcome) error {
	if len(steps) == 0 {
		return nil
	}
	changes := make([]haproxyapi.Change, len(steps))
	for i, s := range steps {
		c, ok := runtimeChange(s.Action)
		if !ok { // execute batches runtime changes only
			out.Failed, out.Err = s.Action, errNotRuntime
			return fmt.Errorf("%s %s: %w", s.Action.Kind(), s.Action.Target(), errNotRuntime)
		}
		changes[i] = c
	}
	results := w.hap.Apply(ctx, changes)
	for i, err := range results {
		s := steps[i]
		switch a := s.Action.(type) {
		case plan.RemoveServer:
			var busy interface{ Busy() bool }
			if errors.As(err, &busy) && busy.Busy() {
				// In maintenance already: no new requests reach it while
				// those in flight finish.
				if !w.planner.IsBusy(a.Target()) {
					w.Log.Info("server still has requests in flight; it is deleted when they finish, or after drain_timeout", "server", a.Target())
				}
				out.Busy = append(out.Busy, a)
				*wait = earliest(*wait, plan.BusyRetry)
				continue
			}
		case plan.ShutdownSessions:
			if err == nil {
				w.Log.Info("cut the requests still in flight after drain_timeout", "server", a.Target())
			}
		}
		w.Metrics.Action(s.Action.Kind(), err == nil)
		if err != nil {
			out.Failed, out.Err = s.Action, err
			return fmt.Errorf("%s %s: %w", s.Action.Kind(), s.Action.Target(), err)
		}
		out.Done = append(out.Done, s.Action)
	}
	if len(results) < len(steps) {
		s := steps[len(results)]
		out.Failed, out.Err = s.Action, errNotCarriedOut
		return fmt.Errorf("%s %s: %w", s.Action.Kind(), s.Action.Target(), errNotCarriedOut)
	}
	return nil
}

// errNotCarriedOut is the failure of a runtime change HAProxy's Apply did
// not get to (it stopped after an earlier failure in the batch).
var errNotCarriedOut = errors.New("not carried out")

// errNotRuntime is the failure of a step that is not a runtime change
// handed to applyRuntime.
var errNotRuntime = errors.New("not a runtime change")

// pending reports whether every step of p waits for a time after now: the
// plan is logged once it is due, not at every retry.
func pending(p plan.Plan, now time.Time) bool {
	for _, s := range p.Steps {
		switch a := s.Action.(type) {
		case plan.RemoveServer:
			if !a.NotBefore.After(now) {
				return false
			}
		case plan.Start:
			if !a.NotBefore.After(now) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// earliest is the sooner of two waits, 0 standing for none.
func earliest(a, b time.Duration) time.Duration {
	if a == 0 || b < a {
		return b
	}
	return a
}
