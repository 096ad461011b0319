package plan

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"lighthouse/model"
	"lighthouse/model/haproxyapi"
	"lighthouse/render"
)

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
		one := parsedConfig{names: []string{be}, backends: map[string][]render.ServerLine{be: want.backends[be]}}
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
func inSync(running []Server, want []render.ServerLine) bool {
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
func wantState(s render.ServerLine) model.ServerState {
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
