package plan

import (
	"bytes"
	"fmt"
	"sort"
	"time"

	"lighthouse/model"
	"lighthouse/model/configtext"
	"lighthouse/model/haproxyapi"
	"lighthouse/render"
)

// Input is everything a plan is computed from. Time is an input: the planner
// never reads the clock.
type Input struct {
	Config     *model.Config
	Membership model.Membership
	Version    model.Version
	Observed   Observed
	// Now is the time of planning.
	Now time.Time
	// History is what the outcomes of earlier plans taught (a Planner
	// fills it in).
	History History
	// ReadsPending counts the clusters whose first membership read is not
	// done yet, and StartNotBefore is how long a start of HAProxy waits for
	// them (the shell's bound: ZooKeeper may not answer). A HAProxy that
	// does not run is started once, with the complete membership, rather
	// than on empty backends that the reads then fill one by one.
	ReadsPending   int
	StartNotBefore time.Time
}

// BusyRetry is how long after a refusal the removal of a busy server is
// tried again.
const BusyRetry = time.Second

// Make computes the plan that brings the observed HAProxy to the desired
// config. It is pure: same input, same plan. A Planner gives the same plans
// for less work, one change at a time.
func Make(in Input) Plan {
	p, _ := makePlan(in, nil)
	return p
}

// makePlan is Make given the previous plan's memo (nil: none); it returns
// this plan's memo with it.
func makePlan(in Input, prev *planMemo) (Plan, *planMemo) {
	var p Plan
	if in.Config == nil || in.Config.Balancer == nil {
		p.Diagnostics = append(p.Diagnostics, model.Diagnostic{Severity: model.Error, File: "balancers/haproxy.yaml", Message: "no valid balancer config: nothing to plan"})
		return p, prev
	}
	b := in.Config.Balancer
	obs, restarting := restart(in)
	if len(restarting) > 0 && obs.Running {
		in.History.LastReload = in.Now // the start loads the file: restart_interval counts from it
	}
	loaded := obs.loadedConfig()
	running := obs.Servers
	switch {
	case running != nil:
	case obs.Loaded != nil:
		running = serversOf(loaded.backends)
	case obs.Running:
		// Neither the socket nor the loaded config tell: the file is the
		// best guess, so that unknown membership keeps its servers.
		running = serversOf(parseConfig(obs.File.String()).backends)
	}

	nodes := desiredNodes(in.Config, in.Membership, running)
	if prev == nil {
		prev = &planMemo{}
	}
	renderer := prev.renderer
	res := renderer.Render(render.Input{Config: in.Config, Nodes: nodes, Version: in.Version, Running: runningAddr(running)})
	memo := &planMemo{renderer: renderer, skeleton: res.Skeleton, loaded: obs.Loaded, checked: map[string][]render.ServerLine{}}
	p.Diagnostics = append(p.Diagnostics, res.Diagnostics...)
	if note := haproxyapi.For(in.Version).Note; note != "" {
		p.Diagnostics = append(p.Diagnostics, model.Diagnostic{Severity: model.Warning, File: "balancers/haproxy.yaml", Message: note})
	}
	desired := res.Config
	fp := Fingerprint(desired)
	want := fromRender(res, prev, memo)
	rejected := in.History.Rejected != "" && in.History.Rejected == fp
	unwritable := !rejected && in.History.Unwritable

	add := func(a Action, why string, args ...any) {
		p.Steps = append(p.Steps, Step{Action: a, Reason: fmt.Sprintf(why, args...)})
	}
	install := func(why string, background bool) bool {
		if rejected {
			p.Diagnostics = append(p.Diagnostics, model.Diagnostic{Severity: model.Error, File: b.ConfigFile,
				Message: fmt.Sprintf("haproxy -c rejected candidate %s; the last good config stays in force until the inputs change", short(fp))})
			return false
		}
		if unwritable {
			p.Diagnostics = append(p.Diagnostics, model.Diagnostic{Severity: model.Error, File: b.ConfigFile,
				Message: "the config file cannot be written now; the last good config stays in force, and writing is tried again"})
			return false
		}
		add(Validate{Path: b.ConfigFile, Data: desired, Fingerprint: fp, Background: background}, "check the candidate before it replaces the live file")
		add(WriteFile{Path: b.ConfigFile, Data: desired, Fingerprint: fp}, "%s", why)
		return true
	}

	p.Steps = append(p.Steps, restarting...)
	if !obs.Running {
		if in.ReadsPending > 0 && in.StartNotBefore.After(in.Now) {
			add(Start{NotBefore: in.StartNotBefore}, "HAProxy is not running; it starts once the first read of every cluster is done (%d to go)", in.ReadsPending)
			return p, memo
		}
		if install("HAProxy is not running", false) {
			add(Start{}, "HAProxy is not running")
			p.Steps = append(p.Steps, afterLoad(nil, want)...)
		}
		return p, memo
	}

	why := structuralChange(obs.Loaded != nil, loaded, want, in.History.RuntimeFailed, prev, memo)
	var runtime []Step
	if why == "" {
		var fallback string
		runtime, fallback = serverSteps(in, running, want)
		why = fallback
	}
	if why == "" {
		p.Steps = append(p.Steps, runtime...)
		if !obs.File.Equal(desired) {
			reason := "keep the file equal to what runs"
			if len(runtime) == 0 {
				reason = "the file differs from the rendered config"
			}
			install(reason, true)
		}
		return p, memo
	}
	if rejected || unwritable {
		// The candidate cannot be installed, but the loaded config still
		// runs: membership changes go on through the runtime API in every
		// backend the candidate leaves as it was.
		p.Steps = append(p.Steps, containedSteps(in, running, loaded, want, &p.Diagnostics)...)
		install(why, false)
		return p, memo
	}
	// A reload is needed. Departing servers stop taking new requests at
	// once, before the (possibly delayed) reload.
	p.Steps = append(p.Steps, drainDeparted(in.Membership, running, want)...)
	// A file equal to the candidate was validated before it was written:
	// only its reload is left to do.
	if !obs.File.Equal(desired) {
		if !install(why, false) {
			return p, memo
		}
	}
	r := Reload{}
	if !in.History.LastReload.IsZero() {
		if t := in.History.LastReload.Add(b.RestartInterval); t.After(in.Now) {
			r.NotBefore = t
		}
	}
	kept := map[string][]Server(nil)
	if in.Version.AtLeast(1, 6) {
		add(SaveState{Path: render.StateFile(b), NotBefore: r.NotBefore}, "servers keep their health, drain, maint and weight across the reload")
		kept = running
	}
	add(r, "%s", why)
	p.Steps = append(p.Steps, afterLoad(kept, want)...)
	return p, memo
}

// afterLoad sets the servers of a config HAProxy just loaded to the
// administrative state they should be in, where the load leaves them in
// another: HAProxy starts every server ready, but for the state the server
// state file kept of the servers in kept (those that ran before a reload).
func afterLoad(kept map[string][]Server, want parsedConfig) []Step {
	var steps []Step
	for _, be := range want.names {
		for _, s := range want.backends[be] {
			loaded := model.ServerReady
			if old := find(kept[be], s.Name); old != nil {
				loaded = old.State
			}
			if st := wantState(s); st != loaded {
				why := "HAProxy loads it " + string(loaded)
				if st == model.ServerDrain {
					why = "node drains (state: drain in its znode); " + why
				}
				steps = append(steps, Step{Action: SetServerState{Backend: be, Server: s.Name, State: st}, Reason: why})
			}
		}
	}
	return steps
}

// fromRender takes the structure and the servers of a render: the
// skeleton's template lines stand for the server lines. The skeleton is
// parsed only when it changed since the previous plan.
func fromRender(res render.Result, prev, memo *planMemo) parsedConfig {
	if prev.skeleton != nil && bytes.Equal(prev.skeleton, res.Skeleton) {
		memo.want = prev.want
	} else {
		memo.want = parseConfig(string(res.Skeleton))
		memo.want.backends = nil
		memo.want.names = make([]string, 0, len(res.Backends))
		for name := range res.Backends {
			memo.want.names = append(memo.want.names, name)
		}
		sort.Strings(memo.want.names)
	}
	p := memo.want
	p.backends = res.Backends
	return p
}

// Fingerprint identifies a config by its bytes: their CRC-32C, which every
// Text carries, and their length. It tells configs apart; it does not
// defend against forgery.
func Fingerprint(config configtext.Text) string {
	return fmt.Sprintf("%08x%x", config.Checksum(), config.Len())
}

// desiredNodes is the node list of every cluster. Where membership is
// unknown, the servers that run stay: unknown membership never removes a
// server.
func desiredNodes(cfg *model.Config, m model.Membership, running map[string][]Server) map[string][]model.Node {
	out := make(map[string][]model.Node, len(cfg.Clusters))
	for name := range cfg.Clusters {
		mem, ok := m[name]
		nodes := mem.Nodes
		if !ok || !mem.Known {
			nodes = append([]model.Node(nil), nodes...)
			have := make(map[string]bool, len(nodes))
			for _, n := range nodes {
				have[n.Name()] = true
			}
			for _, s := range running[name] {
				if have[s.Name] {
					continue
				}
				if n, ok := nodeFromServer(s); ok {
					nodes = append(nodes, n)
				}
			}
		}
		out[name] = nodes
	}
	return out
}

// runningAddr answers render.Input.Running from the servers that run.
func runningAddr(running map[string][]Server) func(cluster, server string) (string, bool) {
	return func(cluster, server string) (string, bool) {
		for _, s := range running[cluster] {
			if s.Name == server {
				return s.Addr, true
			}
		}
		return "", false
	}
}

// nodeFromServer recovers a node from a running server named "host:port".
func nodeFromServer(s Server) (model.Node, bool) {
	host, _, ok := cutLast(s.Name, ':')
	if !ok {
		return model.Node{}, false
	}
	n := model.Node{Host: host, IP: s.Addr, Port: s.Port, Metadata: map[string]any{}}
	// The weight and drain it runs with stay too.
	if s.Weight != DefaultWeight && s.Weight >= model.MinWeight && s.Weight <= model.MaxWeight {
		n.Metadata[model.MetaWeight] = int64(s.Weight)
	}
	if s.State == model.ServerDrain {
		n.Metadata[model.MetaState] = model.StateDrain
	}
	return n, n.Validate() == nil
}
