package registration

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"time"

	"lighthouse/model"
)

// Host is the identity a reporter registers its nodes under.
type Host struct {
	Name string // FQDN: the node's host and its peer's name
	IP   string // the node's and the peer's IP
}

// Health says which ports the checks found up, by service (its file stem)
// and port. A port not judged yet (no round of checks recorded) is absent.
type Health map[string]map[int]bool

// Znode is what one znode should be.
type Znode struct {
	// Data is the node data to register; nil: the znode must be absent.
	Data []byte
	// Every is how often the znode may be restored: its service's check
	// interval.
	Every time.Duration
}

// Want is what one discovery should hold, by znode path.
type Want map[string]Znode

// Equal reports whether w and o want the same.
func (w Want) Equal(o Want) bool {
	return maps.EqualFunc(w, o, func(a, b Znode) bool {
		return a.Every == b.Every && (a.Data == nil) == (b.Data == nil) && bytes.Equal(a.Data, b.Data)
	})
}

// Wanted computes, for each discovery that a service reports to, the znode
// of every judged port: its node data when the port is up, nil (must be
// absent) when it is down, and its service's check interval. Ports not
// judged yet are left out. Two service files that map to the same znode
// (same name and port): it is up if either is, with the data of the first
// up one in file order, and restored at the shorter interval (model.Load
// warns when their metadata differ).
//
// Each node's metadata is its service's, with MetaState: drain when the
// drain file names the port, or when stopping and the service has
// drain_on_stop; ready otherwise.
func Wanted(cfg *model.Config, health Health, host Host, stopping bool) map[string]Want {
	out := map[string]Want{}
	for _, id := range cfg.ServiceIDs() {
		sv := cfg.Services[id]
		ports, judged := health[id]
		d, ok := cfg.Discovery[sv.Discovery]
		if !judged || !ok {
			continue
		}
		w, ok := out[sv.Discovery]
		if !ok {
			w = Want{}
			out[sv.Discovery] = w
		}
		for _, port := range slices.Sorted(maps.Keys(ports)) {
			state := model.StateReady
			if cfg.Draining(id, sv, port) || stopping && sv.DrainOnStop > 0 {
				state = model.StateDrain
			}
			md := make(map[string]any, len(sv.Metadata)+1)
			maps.Copy(md, sv.Metadata)
			md[model.MetaState] = state
			node := model.Node{Host: host.Name, IP: host.IP, Port: port,
				Peer:     &model.Peer{Name: host.Name, IP: host.IP, Port: model.DefaultPeerPort},
				Metadata: md}
			p := strings.TrimSuffix(d.Path, "/") + "/" + sv.Name + "/" + node.Name()
			z, seen := w[p]
			if !seen || sv.Interval < z.Every {
				z.Every = sv.Interval
			}
			if ports[port] && z.Data == nil {
				z.Data = node.Encode()
			}
			w[p] = z
		}
	}
	return out
}
