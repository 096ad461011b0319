package runtime

import (
	"context"
	"maps"
	"slices"
	"time"

	"lighthouse/model"
	"lighthouse/model/haproxyapi"
	"lighthouse/plan"
)

// converge plans and carries out the plan; it returns when to wake up again
// (0: on the next event).
func (w *Writer) converge(ctx context.Context) time.Duration {
	if w.snap == nil || w.snap.Config.Balancer == nil || w.hap == nil {
		return 0
	}
	for round := 0; round < 3; round++ {
		obs, err := w.observe(ctx)
		if err != nil {
			w.failed("observing HAProxy failed; trying again with a backoff", err)
			return w.backoff()
		}
		// What an HAProxy that ran before this writer loaded is not known
		// (the file may have been written after its last reload): the
		// first plan reloads it once. After that the planner knows.
		if obs.Running {
			obs.Loaded = w.planner.Loaded()
		}
		now := time.Now()
		pendingReads, startAt := w.coldStart(obs, now)
		p := w.planner.Plan(plan.Input{Config: &w.snap.Config, Membership: w.members, Version: w.version, Observed: obs,
			Now: now, ReadsPending: pendingReads, StartNotBefore: startAt})
		logDiagnostics(w.Log, p.Diagnostics, &w.planDiags)
		w.Metrics.HAProxyUp(obs.Running)
		if p.Empty() {
			w.believe(obs, p, nil)
			w.recovered()
			w.changedAt = time.Time{} // nothing to change for it
			w.Health.SetReady(w.notReady(obs))
			if w.firstReadsDone() {
				w.Health.SetStarted()
			}
			return 0
		}
		if pending(p, now) {
			w.Log.Debug("waiting for pending steps", "plan", p.Summary(planLogSteps))
		} else {
			w.Log.Info("carrying out plan", "steps", len(p.Steps), "plan", p.Summary(planLogSteps))
		}
		if len(p.Steps) > planLogSteps {
			w.Log.Debug("the whole plan", "plan", p.String())
		}
		wait, err := w.execute(ctx, p)
		w.believe(obs, p, err)
		if (err == nil || err == errHandedOff) && wait == 0 && !w.changedAt.IsZero() {
			w.Metrics.Converged(time.Since(w.changedAt))
			w.changedAt = time.Time{}
		}
		if err == errHandedOff {
			return wait // the file syncer reports back when the file is written
		}
		if err != nil {
			w.failed("a plan step failed; planning again with a backoff", err)
			return w.backoff()
		}
		if wait > 0 {
			return wait
		}
	}
	return 0
}

// maxPartialObserve is the most backends observed one by one: beyond it
// one `show servers state` of everything costs less (about 20 ms at
// 10,000 servers, against 0.3 to 0.7 ms a backend).
const maxPartialObserve = 32

// PartialObserver is an HAProxy that can observe some backends only (see
// observe).
type PartialObserver interface {
	// ObserveBackends is Observe with the servers of those backends only;
	// an error means: observe everything.
	ObserveBackends(ctx context.Context, backends []string) (haproxyapi.Observation, error)
}

// observe reads HAProxy's state. After a plan that went through, the
// writer's belief is what the plan made of the last observation: then
// only the backends whose membership changed since are read, with the
// process and the config file. Everything is read when there is no belief
// (at start, after a start, reload or kill, a failed step, HAProxy
// stopping) and every observe_interval, which also puts right what was
// changed by hand on the admin socket.
func (w *Writer) observe(ctx context.Context) (plan.Observed, error) {
	every := model.DefaultObserveInterval
	if w.balancer != nil && w.balancer.ObserveInterval > 0 {
		every = w.balancer.ObserveInterval
	}
	po, partial := w.hap.(PartialObserver)
	why := ""
	switch {
	case !partial:
		why = "this HAProxy is observed whole"
	case w.belief == nil:
		why = "no belief"
	case time.Since(w.lastFull) >= every:
		why = "observe_interval passed"
	case len(w.touched) > maxPartialObserve:
		why = "many backends changed"
	default:
		rows, err := po.ObserveBackends(ctx, slices.Sorted(maps.Keys(w.touched)))
		part := ObservedFrom(rows)
		if err == nil && part.Running && !part.Unresponsive {
			o := *w.belief
			o.File, o.Running, o.Unresponsive = part.File, true, false
			o.Servers = maps.Clone(o.Servers)
			maps.Copy(o.Servers, part.Servers)
			clear(w.touched)
			return o, nil
		}
		why = "observing the changed backends failed"
		if err != nil {
			why += ": " + err.Error()
		}
	}
	w.Log.Debug("observing every backend", "why", why)
	w.belief = nil
	rows, err := w.hap.Observe(ctx)
	obs := ObservedFrom(rows)
	if err == nil {
		w.lastFull = time.Now()
		clear(w.touched)
	}
	return obs, err
}

// believe keeps what the plan made of obs as what HAProxy runs, unless the
// plan failed, started, reloaded or killed HAProxy: the next observation
// then reads everything. A removal that waits or that HAProxy refused
// (requests in flight) leaves its backend to be read again.
func (w *Writer) believe(obs plan.Observed, p plan.Plan, err error) {
	w.belief = nil
	if (err != nil && err != errHandedOff) || !obs.Running || obs.Unresponsive || obs.Servers == nil {
		return
	}
	for _, s := range p.Steps {
		switch a := s.Action.(type) {
		case plan.Start, plan.Reload, plan.Kill:
			return
		case plan.RemoveServer:
			w.touched[a.Backend] = true
		}
	}
	if p.Empty() {
		w.belief = &obs
		return
	}
	b := plan.Apply(obs, p)
	w.belief = &b
}

// notReady says why the writer is not ready, "" when it is: HAProxy runs
// a config with a backend for every configured cluster, and the
// membership of every cluster is known.
func (w *Writer) notReady(obs plan.Observed) string {
	if !obs.Running {
		return "HAProxy is not running"
	}
	for _, name := range w.snap.Config.ClusterNames() {
		if !w.planner.Loaded().HasBackend(name) {
			return "HAProxy's config lacks cluster " + name
		}
		if !w.members[name].Known {
			return "the membership of cluster " + name + " is not known"
		}
	}
	return ""
}

// coldStart says how many watched clusters wait for their first read while
// HAProxy does not run, and until when its start waits for them: the
// session timeout after the session was asked for (ZooKeeper may not
// answer). HAProxy then starts once, with what is known.
func (w *Writer) coldStart(obs plan.Observed, now time.Time) (int, time.Time) {
	if obs.Running || w.disc == nil {
		return 0, time.Time{}
	}
	n := 0
	for _, name := range w.watched {
		if !w.heard[name] {
			n++
		}
	}
	timeout := w.discCfg.SessionTimeout
	if timeout == 0 {
		timeout = model.DefaultSessionTimeout
	}
	if n == 0 {
		return 0, time.Time{}
	}
	if !now.Before(w.discSince.Add(timeout)) {
		if !w.coldLogged {
			w.Log.Warn("starting HAProxy before the first membership read of every cluster: ZooKeeper has not answered within the session timeout", "clusters_pending", n, "session_timeout", timeout)
			w.coldLogged = true
		}
		return 0, time.Time{}
	}
	return n, w.discSince.Add(timeout)
}

// firstReadsDone says whether the first read of every configured cluster's
// membership is done or has failed: HAProxy then runs what is known.
func (w *Writer) firstReadsDone() bool {
	for name := range w.snap.Config.Clusters {
		if !w.heard[name] {
			return false
		}
	}
	return true
}

// errorFiles counts the files with an error among ds.
func errorFiles(ds model.Diagnostics) int {
	files := map[string]bool{}
	for _, d := range ds {
		if d.Severity == model.Error {
			files[d.File] = true
		}
	}
	return len(files)
}

// failed logs a failure of the loop at error level when it starts to fail
// or fails another way, and at debug level while it keeps failing the same
// way: a retry loop logs once per change of state.
func (w *Writer) failed(msg string, err error) {
	if key := msg + ": " + err.Error(); key != w.failure {
		w.failure = key
		w.Log.Error(msg, "err", err)
		return
	}
	w.Log.Debug(msg, "err", err, "retry_in", w.retry)
}

// recovered ends a run of failures: the backoff starts again from its
// least, and the recovery is logged once.
func (w *Writer) recovered() {
	if w.failure != "" {
		w.Log.Info("HAProxy is in sync again after failures")
		w.failure = ""
	}
	w.retry = 0
}

func (w *Writer) backoff() time.Duration {
	switch {
	case w.retry == 0:
		w.retry = 250 * time.Millisecond
	case w.retry < 5*time.Second:
		w.retry *= 2
	}
	return w.retry
}
