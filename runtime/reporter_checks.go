package runtime

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"lighthouse/model"
)

// check runs the rounds of one service until ctx is done. It starts after
// the previous checker of the service (prev) has stopped, so rounds never
// overlap; a round starts interval after the start of the previous one, or
// at once if that one took longer.
func (r *Reporter) check(ctx context.Context, id string, gen int, pc probeConfig, prev <-chan struct{}, done chan struct{}) {
	defer r.wg.Done()
	defer close(done)
	if prev != nil {
		select {
		case <-prev:
		case <-ctx.Done():
			return
		}
	}
	interval := pc.Interval
	if interval <= 0 { // Load rejects it; never spin anyway
		interval = time.Second
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		res := round(ctx, r.Prober, pc)
		if ctx.Err() != nil {
			return
		}
		select {
		case r.results <- roundResult{id: id, gen: gen, results: res}:
		case <-ctx.Done():
			return
		}
		timer.Reset(max(interval-time.Since(start), 0))
	}
}

// CheckRound runs one round of the checks of a service as the reporter
// does, and returns the results by port, each port's in the order of
// sv.Checks.
func CheckRound(ctx context.Context, p Prober, sv model.Service) map[int][]model.CheckResult {
	return round(ctx, p, probeConfigOf(sv))
}

// round runs every check of every port at once, each under its timeout,
// and waits for all of them.
func round(ctx context.Context, p Prober, pc probeConfig) map[int][]model.CheckResult {
	out := make(map[int][]model.CheckResult, len(pc.Ports))
	for _, port := range pc.Ports { // before any check runs: they read out
		out[port] = make([]model.CheckResult, len(pc.Checks))
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, port := range pc.Ports {
		for i, c := range pc.Checks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				err := p.Probe(ctx, pc.Host, port, c)
				res := model.CheckResult{Type: c.Type, Pass: err == nil, Took: time.Since(start)}
				if err != nil {
					res.Detail = err.Error()
				}
				mu.Lock()
				out[port][i] = res
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	return out
}

// record applies a round's results to the ports' health.
func (r *Reporter) record(res roundResult) {
	run, ok := r.services[res.id]
	if !ok || run.gen != res.gen {
		return // from before a config change
	}
	for _, port := range slices.Sorted(maps.Keys(res.results)) {
		p, ok := run.ports[port]
		if !ok {
			continue
		}
		var ts []model.CheckTransition
		p.health, ts = p.health.Record(res.results[port])
		for _, t := range ts {
			if t.Change == model.NowPassing {
				r.Log.Info("check passing", "service", res.id, "port", port, "check", t.Type, "passes", t.Count)
				delete(p.reasons, t.Type)
			} else {
				r.Log.Warn("check failing", "service", res.id, "port", port, "check", t.Type, "failures", t.Count, "err", ClipDetail(t.Detail))
				p.noteReason(t.Type, t.Detail)
			}
		}
		up := p.health.Up()
		for _, c := range res.results[port] {
			r.Metrics.Check(run.cfg.Name, port, c.Type, c.Pass, c.Took)
			switch {
			case c.Pass:
			case !up && p.noteReason(c.Type, c.Detail):
				// Down, and this reason is new: once at info, not every round.
				r.Log.Info("check failed", "service", res.id, "port", port, "check", c.Type, "err", ClipDetail(c.Detail))
			default:
				r.Log.Debug("check failed", "service", res.id, "port", port, "check", c.Type, "err", ClipDetail(c.Detail))
			}
		}
		if up {
			p.reasons = nil
		}
		switch {
		case up && (!p.judged || !p.up):
			r.Log.Info("service up", "service", res.id, "cluster", run.cfg.Name, "port", port)
		case !up && p.judged && p.up:
			r.Log.Warn("service down", "service", res.id, "cluster", run.cfg.Name, "port", port)
		case !up && !p.judged:
			r.Log.Debug("service not up yet", "service", res.id, "cluster", run.cfg.Name, "port", port)
		}
		p.judged, p.up = true, up
	}
	run.rounds++
	if r.checked() {
		r.Health.SetPart("checks", "")
		r.Health.SetStarted()
	}
	r.publish()
}

// noteReason records the reason a check failed for and reports whether it
// differs from the one recorded before.
func (p *portRun) noteReason(check, detail string) bool {
	key := reasonKey(detail)
	if old, ok := p.reasons[check]; ok && old == key {
		return false
	}
	if p.reasons == nil {
		p.reasons = map[string]string{}
	}
	p.reasons[check] = key
	return true
}

// ephemeralPort is the local port of a connection in an error ("read tcp
// 127.0.0.1:41234->127.0.0.1:80: ..."): new on every round, it is no new
// reason.
var ephemeralPort = regexp.MustCompile(`:[0-9]+->`)

// reasonKey is what tells two failure reasons apart.
func reasonKey(detail string) string {
	return ephemeralPort.ReplaceAllString(ClipDetail(detail), ":_->")
}

// maxDetail is the most of a check's failure detail that a log line
// echoes: a detail may quote what the service answered (a tcp check's
// response line, up to 64 KiB).
const maxDetail = 512

// ClipDetail cuts a failure detail to maxDetail bytes, at a rune boundary,
// and says how long it was.
func ClipDetail(s string) string {
	if len(s) <= maxDetail {
		return s
	}
	cut := maxDetail
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes in all)", s[:cut], len(s))
}

func checkTypes(cs []model.Check) string {
	var ts []string
	for _, c := range cs {
		ts = append(ts, c.Type)
	}
	return strings.Join(ts, ",")
}
