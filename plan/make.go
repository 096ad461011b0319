package plan

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
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
func makePlan(in Input, prev *Memo) (Plan, *Memo) {
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
		prev = &Memo{}
	}
	res := render.Render(render.Input{Config: in.Config, Nodes: nodes, Version: in.Version, Memo: prev.render, Running: runningAddr(running)})
	memo := &Memo{render: res.Memo, skeleton: res.Skeleton, loaded: obs.Loaded, checked: map[string][]render.Server{}}
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
func fromRender(res render.Result, prev, memo *Memo) parsedConfig {
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

// structuralChange says why the loaded config cannot become the desired one
// without a reload, or "" when only servers differ.
//
// The backends whose servers' settings it finds equal go into memo; the
// ones prev has for the same loaded config, with the very same servers, are
// not compared again.
func structuralChange(known bool, loaded, want parsedConfig, runtimeFailed bool, prev, memo *Memo) string {
	switch {
	case !known:
		return "the config HAProxy runs is not known"
	case runtimeFailed:
		return "a runtime change failed; converge by reloading"
	case loaded.skeleton != want.skeleton:
		return "structural change: " + firstDifference(loaded.skeleton, want.skeleton)
	}
	again := prev.loaded != nil && prev.loaded == memo.loaded
	for _, b := range want.names {
		list, old := want.backends[b], loaded.backends[b]
		if again && sameSlice(prev.checked[b], list) || sameOptions(list, old) {
			memo.checked[b] = list
			continue
		}
		opts := make(map[string]string, len(old))
		for _, s := range old {
			opts[s.Name] = s.Options
		}
		for _, s := range list {
			if o, ok := opts[s.Name]; ok && o != s.Options {
				return fmt.Sprintf("server options of %s/%s changed", b, s.Name)
			}
		}
		memo.checked[b] = list
	}
	return ""
}

// sameSlice reports whether a and b are the very same servers.
func sameSlice(a, b []render.Server) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// sameOptions is the fast path of structuralChange: the same servers in the
// same order with the same options.
func sameOptions(a, b []render.Server) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Options != b[i].Options {
			return false
		}
	}
	return true
}

// firstDifference names the first section that differs between two
// skeletons, and how.
func firstDifference(a, b string) string {
	old, oldOrder := sections(a)
	now, nowOrder := sections(b)
	for _, h := range nowOrder {
		body, ok := old[h]
		if !ok {
			return h + " added"
		}
		if d := lineDifference(body, now[h]); d != "" {
			return d + " in " + h
		}
	}
	for _, h := range oldOrder {
		if _, ok := now[h]; !ok {
			return h + " removed"
		}
	}
	return "section order changed"
}

// sections splits a skeleton into section header → directive lines.
func sections(skeleton string) (map[string][]string, []string) {
	m := map[string][]string{}
	var order []string
	cur := ""
	for _, line := range strings.Split(skeleton, "\n") {
		if line == "" {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			cur = line
			order = append(order, cur)
			m[cur] = nil
			continue
		}
		m[cur] = append(m[cur], strings.TrimSpace(line))
	}
	return m, order
}

func lineDifference(old, now []string) string {
	for i := 0; i < len(old) || i < len(now); i++ {
		switch {
		case i >= len(old):
			return fmt.Sprintf("%q added", now[i])
		case i >= len(now):
			return fmt.Sprintf("%q removed", old[i])
		case old[i] != now[i]:
			return fmt.Sprintf("%q became %q", old[i], now[i])
		}
	}
	return ""
}

// serverSteps turns a membership-only change into runtime API steps. When a
// change cannot be made at runtime it returns the reason to reload instead.
//
// What HAProxy can do at runtime is the data of its release (haproxyapi):
// whether servers can be added and deleted at all (2.4 on), which settings
// `add server` accepts, whether that includes `cookie` (3.0 on), and which
// balance algorithms take new servers.
func serverSteps(in Input, running map[string][]Server, want parsedConfig) ([]Step, string) {
	v, b, cfg := in.Version, in.Config.Balancer, in.Config
	api := haproxyapi.For(v)
	dynamic := api.DynamicServers
	var steps []Step
	add := func(a Action, why string, args ...any) {
		steps = append(steps, Step{Action: a, Reason: fmt.Sprintf(why, args...)})
	}
	for _, be := range want.names {
		if inSync(running[be], want.backends[be]) {
			continue
		}
		cur := make(map[string]Server, len(running[be]))
		for _, s := range running[be] {
			cur[s.Name] = s
		}
		wanted := make(map[string]bool, len(want.backends[be]))
		for _, s := range want.backends[be] {
			wanted[s.Name] = true
			old, ok := cur[s.Name]
			if !ok {
				if !dynamic {
					return nil, fmt.Sprintf("server %s/%s joined; HAProxy %s cannot add servers at runtime", be, s.Name, v)
				}
				opts := s.Options
				if !api.CookieAtRuntime() && !setsCookie(cfg, b, be) {
					// Without a cookie directive in the backend HAProxy
					// ignores server cookies, and before 3.0 add server
					// refuses them.
					opts = withoutCookie(opts)
				}
				if kw := api.Refused(opts); kw != "" {
					return nil, fmt.Sprintf("server %s/%s joined; HAProxy %d.%d cannot add a server with %q at runtime", be, s.Name, v.Major, v.Minor, kw)
				}
				if algo := staticBalance(api, cfg, b, be); algo != "" {
					return nil, fmt.Sprintf("server %s/%s joined; backend %s balances with %q, which takes no servers at runtime", be, s.Name, be, algo)
				}
				if s.Weight > 0 {
					opts = strings.TrimSpace(opts + " weight " + strconv.Itoa(s.Weight))
				}
				add(AddServer{Backend: be, Server: s.Name, Addr: s.Addr, Port: s.Port, Options: opts}, "node joined cluster %s", be)
				if slices.Contains(strings.Fields(opts), "check") {
					add(EnableHealth{Backend: be, Server: s.Name}, "server_options ask for health checks")
				}
				if s.Drain {
					add(SetServerState{Backend: be, Server: s.Name, State: model.ServerDrain}, "node joined cluster %s draining (state: drain in its znode)", be)
				} else {
					add(SetServerState{Backend: be, Server: s.Name, State: model.ServerReady}, "node joined cluster %s", be)
				}
				continue
			}
			if old.Addr != s.Addr || old.Port != s.Port {
				add(SetServerAddr{Backend: be, Server: s.Name, Addr: s.Addr, Port: s.Port}, "node moved from %s", hostPort(old.Addr, old.Port))
			}
			if w := effectiveWeight(s.Weight); old.Weight != w {
				if algo := staticBalance(api, cfg, b, be); algo != "" {
					// HAProxy sets the weight of such a backend's server
					// only to 0 or its initial weight.
					return nil, fmt.Sprintf("weight of %s/%s changes to %d; backend %s balances with %q, whose weights change only through a reload", be, s.Name, w, be, algo)
				}
				add(SetWeight{Backend: be, Server: s.Name, Weight: w}, "%s", weightReason(s.Weight, old.Weight))
			}
			switch state := wantState(s); {
			case old.State == state:
			case state == model.ServerDrain:
				add(SetServerState{Backend: be, Server: s.Name, State: model.ServerDrain}, "node drains (state: drain in its znode): no new requests, those in flight finish")
			case old.State == model.ServerDrain:
				add(SetServerState{Backend: be, Server: s.Name, State: model.ServerReady}, "node is ready again (no drain in its znode)")
			default:
				add(SetServerState{Backend: be, Server: s.Name, State: model.ServerReady}, "node is a member of cluster %s", be)
			}
		}
		names := make([]string, 0, len(cur))
		for name := range cur {
			if !wanted[name] {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			if cur[name].State != model.ServerMaint {
				add(SetServerState{Backend: be, Server: name, State: model.ServerMaint}, "node left cluster %s: no new requests, those in flight finish", be)
			}
			if dynamic {
				bz, busy := in.History.Busy[be+"/"+name]
				switch {
				case !busy:
					add(RemoveServer{Backend: be, Server: name}, "node left cluster %s", be)
				case !in.Now.Before(bz.Since.Add(b.DrainTimeout)):
					add(ShutdownSessions{Backend: be, Server: name}, "requests still in flight after drain_timeout (%s)", b.DrainTimeout)
					add(RemoveServer{Backend: be, Server: name}, "node left cluster %s", be)
				default:
					add(RemoveServer{Backend: be, Server: name, NotBefore: bz.Last.Add(BusyRetry)},
						"node left cluster %s; requests in flight, cut at %s", be, bz.Since.Add(b.DrainTimeout).UTC().Format("15:04:05"))
				}
			}
		}
	}
	return steps, ""
}

// containedSteps are the runtime steps that keep membership moving while
// the desired config cannot be installed (haproxy -c rejected it): for each
// backend whose section, server template included, is the same in the
// loaded config and in the candidate, the steps serverSteps would take.
// A backend whose own section changed may be what the candidate is
// rejected for; it keeps its servers until the inputs change, and so does
// one whose change needs a reload, with a diagnostic.
func containedSteps(in Input, running map[string][]Server, loaded, want parsedConfig, diags *model.Diagnostics) []Step {
	b := in.Config.Balancer
	have, _ := sections(loaded.skeleton)
	next, _ := sections(want.skeleton)
	var steps []Step
	for _, be := range want.names {
		sec, ok := have["backend "+be]
		if !ok || !slices.Equal(sec, next["backend "+be]) {
			continue
		}
		one := parsedConfig{names: []string{be}, backends: map[string][]render.Server{be: want.backends[be]}}
		s, fallback := serverSteps(in, running, one)
		if fallback != "" {
			*diags = append(*diags, model.Diagnostic{Severity: model.Warning, File: b.ConfigFile,
				Message: fmt.Sprintf("backend %s waits for a config HAProxy accepts: %s", be, fallback)})
			continue
		}
		steps = append(steps, s...)
	}
	return steps
}

// inSync is the fast path of serverSteps: the backend runs exactly the
// wanted servers, in the same order, in the wanted state and weight.
func inSync(running []Server, want []render.Server) bool {
	if len(running) != len(want) {
		return false
	}
	for i := range want {
		r, w := &running[i], &want[i]
		if r.Name != w.Name || r.Addr != w.Addr || r.Port != w.Port || r.State != wantState(*w) || r.Weight != effectiveWeight(w.Weight) {
			return false
		}
	}
	return true
}

// wantState is the administrative state a wanted server should be in.
func wantState(s render.Server) model.ServerState {
	if s.Drain {
		return model.ServerDrain
	}
	return model.ServerReady
}

// weightReason says why a server's weight changes to want (0: unset) from
// had.
func weightReason(want, had int) string {
	if want == 0 {
		return fmt.Sprintf("weight unset (HAProxy's default, %d); was %d", DefaultWeight, had)
	}
	return fmt.Sprintf("weight %d from the node's znode or server_options; was %d", want, had)
}

// drainDeparted puts servers that left a known cluster into maintenance, so
// that they take no new request while a reload waits.
func drainDeparted(m model.Membership, running map[string][]Server, want parsedConfig) []Step {
	var steps []Step
	backends := make([]string, 0, len(running))
	for be := range running {
		backends = append(backends, be)
	}
	sort.Strings(backends)
	for _, be := range backends {
		mem, ok := m[be]
		if !ok || !mem.Known {
			continue
		}
		wanted := make(map[string]bool)
		for _, s := range want.backends[be] {
			wanted[s.Name] = true
		}
		for _, s := range running[be] {
			if !wanted[s.Name] && s.State != model.ServerMaint {
				steps = append(steps, Step{Action: SetServerState{Backend: be, Server: s.Name, State: model.ServerMaint}, Reason: fmt.Sprintf("node left cluster %s: no new requests, those in flight finish", be)})
			}
		}
	}
	return steps
}

// staticBalance returns the balance algorithm of a cluster's backend when
// HAProxy cannot add servers to it at runtime, or "".
func staticBalance(api haproxyapi.API, cfg *model.Config, b *model.Balancer, backend string) string {
	algo, consistent := "", false
	scan := func(lines []model.Line) {
		for _, l := range lines {
			f := strings.Fields(l.Text)
			if len(f) >= 2 && f[0] == "balance" {
				algo = f[1]
			}
			if len(f) >= 2 && f[0] == "hash-type" {
				consistent = f[1] == "consistent"
			}
		}
	}
	scan(b.Defaults)
	if c, ok := cfg.Clusters[backend]; ok {
		scan(c.HAProxy.Backend)
	}
	if algo == "" || api.DynamicBalance(algo, consistent) {
		return ""
	}
	return algo
}

// setsCookie reports whether a cluster's backend (or the defaults) has a
// cookie directive, which is when server cookies take effect.
func setsCookie(cfg *model.Config, b *model.Balancer, backend string) bool {
	has := func(lines []model.Line) bool {
		for _, l := range lines {
			if strings.HasPrefix(l.Text, "cookie ") {
				return true
			}
		}
		return false
	}
	c := cfg.Clusters[backend]
	return has(b.Defaults) || has(c.HAProxy.Backend)
}

// withoutCookie drops a "cookie VALUE" setting from server options.
func withoutCookie(options string) string {
	f := strings.Fields(options)
	out := f[:0]
	for i := 0; i < len(f); i++ {
		if f[i] == "cookie" {
			i++
			continue
		}
		out = append(out, f[i])
	}
	return strings.Join(out, " ")
}
