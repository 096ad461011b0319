package plan

import (
	"lighthouse/model"
	"lighthouse/model/configtext"
	"lighthouse/model/haproxyapi"
	"lighthouse/render"
)

// Observed is what the shell saw of HAProxy.
type Observed struct {
	// Running is true when an HAProxy master runs on the pid file.
	Running bool
	// Unresponsive is true when the master runs but its worker stopped
	// answering the admin socket (a few probes in a row without an answer
	// within their short deadline): a stopped or wedged worker. The
	// planner kills and starts HAProxy again.
	Unresponsive bool
	// Loaded is the config HAProxy last started or reloaded with, indexed;
	// nil when unknown (the planner then assumes the config has to be
	// loaded). The shell keeps it, so that it is not parsed for every plan.
	Loaded *Index
	// File is the config file on disk now; empty when it does not exist.
	File configtext.Text
	// Servers are the servers of each backend as `show servers state`
	// reports them; nil when the admin socket could not be asked, in which
	// case the server lines of Loaded stand in for them (all ready).
	Servers map[string][]Server
}

// loadedConfig is the index of Loaded, or an empty config when unknown.
func (o Observed) loadedConfig() parsedConfig {
	if o.Loaded != nil {
		return o.Loaded.parsed
	}
	return parsedConfig{backends: map[string][]render.ServerLine{}}
}

// Server is one server of a backend, as the runtime API reports it: the
// row the shell's observation holds (Name, Addr, Port, State, Weight),
// taken as it is.
type Server = haproxyapi.ServerRow

// Apply is the pure meaning of a plan: the observed state after the shell
// carried out every step successfully.
func Apply(o Observed, p Plan) Observed {
	servers := o.Servers
	if servers == nil {
		servers = serversOf(o.loadedConfig().backends)
	}
	out := Observed{Running: o.Running, Loaded: o.Loaded, File: o.File, Servers: cloneServers(servers)}
	var saved map[string][]Server // the server states a SaveState step kept
	for _, s := range p.Steps {
		switch a := s.Action.(type) {
		case Validate:
		case WriteFile:
			out.File = a.Data
		case Kill:
			out = Observed{File: out.File}
		case SaveState:
			saved = cloneServers(out.Servers)
		case Start, Reload:
			out.Running, out.Unresponsive = true, false
			out.Loaded = IndexConfig(out.File)
			out.Servers = serversOf(out.Loaded.parsed.backends)
			if _, ok := a.(Reload); ok && saved != nil {
				// HAProxy loads the saved administrative states (drain,
				// maint) of the servers that are still there.
				for be, list := range out.Servers {
					for i := range list {
						if old := find(saved[be], list[i].Name); old != nil {
							list[i].State = old.State
						}
					}
				}
			}
			saved = nil
		case AddServer:
			out.Servers[a.Backend] = append(out.Servers[a.Backend], Server{Name: a.Server, Addr: a.Addr, Port: a.Port, State: model.ServerMaint, Weight: weightOf(a.Options)})
		case RemoveServer:
			list := out.Servers[a.Backend]
			for i := range list {
				if list[i].Name == a.Server {
					out.Servers[a.Backend] = append(list[:i:i], list[i+1:]...)
					break
				}
			}
		case SetServerState:
			if sv := find(out.Servers[a.Backend], a.Server); sv != nil {
				sv.State = a.State
			}
		case SetServerAddr:
			if sv := find(out.Servers[a.Backend], a.Server); sv != nil {
				sv.Addr, sv.Port = a.Addr, a.Port
			}
		case SetWeight:
			if sv := find(out.Servers[a.Backend], a.Server); sv != nil {
				sv.Weight = a.Weight
			}
		case ShutdownSessions, EnableHealth:
		default:
			panic("plan: Apply does not know " + s.Action.Kind())
		}
	}
	return out
}

func find(list []Server, name string) *Server {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

func cloneServers(m map[string][]Server) map[string][]Server {
	out := make(map[string][]Server, len(m))
	for k, v := range m {
		out[k] = append([]Server(nil), v...)
	}
	return out
}

// DefaultWeight is the weight of a server whose line sets none.
const DefaultWeight = 1

// effectiveWeight is the weight HAProxy gives a server whose line sets
// weight w (0: none).
func effectiveWeight(w int) int {
	if w == 0 {
		return DefaultWeight
	}
	return w
}

// weightOf is the weight HAProxy gives a server with these options.
func weightOf(options string) int {
	_, w := render.SplitWeight(options)
	return effectiveWeight(w)
}

// serversOf turns the server lines of a config into runtime servers, all
// ready (as HAProxy starts them).
func serversOf(backends map[string][]render.ServerLine) map[string][]Server {
	out := make(map[string][]Server, len(backends))
	for b, list := range backends {
		servers := make([]Server, 0, len(list))
		for _, c := range list {
			servers = append(servers, Server{Name: c.Name, Addr: c.Addr, Port: c.Port, State: model.ServerReady, Weight: effectiveWeight(c.Weight)})
		}
		out[b] = servers
	}
	return out
}
