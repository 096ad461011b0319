package model

import (
	"fmt"
	"path"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// File is one config file as the shell read it: its path relative to the
// config directory (forward slashes) and its bytes.
type File struct {
	Path string
	Data []byte
	// Err, when set, says why the shell could not read the file (Data is
	// then empty): Load reports it at the file and keeps the file's last
	// good version, as for a parse error. A Path ending in "/" with Err set
	// is a subdirectory that could not be listed: each file last read from
	// it keeps its last good version.
	Err error
}

// Snapshot is a loaded config directory: the config in force, the
// diagnostics of this load, and the last good version of every file, which
// the next Load falls back on.
type Snapshot struct {
	Config      Config
	Diagnostics Diagnostics
	good        map[string]parsed
}

// parsed is one file decoded on its own.
type parsed struct {
	file      string
	kind      fileKind
	stem      string
	data      string
	warnings  Diagnostics
	logging   Logging
	drains    []Drain
	balancer  *Balancer
	discovery Discovery
	cluster   Cluster
	service   Service
}

type fileKind int

const (
	kindIgnored fileKind = iota
	kindLogging
	kindDrain
	kindBalancer
	kindDiscovery
	kindCluster
	kindService
)

// classify tells what a path is: which kind of item and its stem.
func classify(p string) (fileKind, string) {
	dir, base := path.Split(p)
	ext := path.Ext(base)
	if ext != ".yaml" && ext != ".yml" {
		return kindIgnored, ""
	}
	stem := strings.TrimSuffix(base, ext)
	if stem == "" || strings.HasPrefix(stem, ".") {
		return kindIgnored, ""
	}
	switch dir {
	case "":
		if stem == "logging" {
			return kindLogging, stem
		}
		if base == DrainFile {
			return kindDrain, stem
		}
	case "balancers/":
		return kindBalancer, stem
	case "discovery/":
		return kindDiscovery, stem
	case "clusters/":
		return kindCluster, stem
	case "services/":
		return kindService, stem
	}
	return kindIgnored, ""
}

// GoodFiles returns the version of each file the snapshot holds in force,
// sorted by path: the file as read when it loaded, else its last good
// version. Loaded first after a restart, Load(Load(nil, good), files), they
// keep each broken file's last good version, as a running process does.
func (s *Snapshot) GoodFiles() []File {
	if s == nil {
		return nil
	}
	out := make([]File, 0, len(s.good))
	for _, p := range sortedKeys(s.good) {
		out = append(out, File{Path: p, Data: []byte(s.good[p].data)})
	}
	return out
}

// IsConfigPath reports whether a relative path is one that Load reads.
func IsConfigPath(p string) bool {
	k, _ := classify(p)
	return k != kindIgnored
}

// Load decodes and validates a whole config directory. prev is the previous
// snapshot, or nil at start. A file that fails now keeps its last good
// version from prev (with a warning saying so); one bad file never affects
// the others. The result does not depend on the order of files.
func Load(prev *Snapshot, files []File) *Snapshot {
	files = append([]File(nil), files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	var prevGood map[string]parsed
	if prev != nil {
		prevGood = prev.good
	}
	s := &Snapshot{good: map[string]parsed{}}
	var accepted []parsed
	// owners maps kind/stem to the one path that defines the item, to catch
	// web.yaml beside web.yml: the one in force before, else the first in
	// path order (stable ownership, as for clusters).
	owners := map[string]string{}
	for _, f := range files {
		kind, stem := classify(f.Path)
		if kind == kindIgnored {
			continue
		}
		id := fmt.Sprintf("%d/%s", kind, stem)
		_, inForce := prevGood[f.Path]
		if o, ok := owners[id]; !ok || inForce && !hasKey(prevGood, o) {
			owners[id] = f.Path
		}
	}
	for _, f := range files {
		if f.Err != nil && strings.HasSuffix(f.Path, "/") {
			// A subdirectory that could not be listed: each file last
			// read from it keeps its last good version.
			s.Diagnostics = append(s.Diagnostics, Diagnostic{Severity: Error, File: f.Path, Message: "cannot list: " + f.Err.Error()})
			for _, p := range sortedKeys(prevGood) {
				if path.Dir(p)+"/" == f.Path {
					s.Diagnostics = append(s.Diagnostics, Diagnostic{Severity: Warning, File: p, Message: "keeping the last good version of this file"})
					accepted = append(accepted, prevGood[p])
				}
			}
			continue
		}
		kind, stem := classify(f.Path)
		if kind == kindIgnored {
			continue
		}
		id := fmt.Sprintf("%d/%s", kind, stem)
		if owner := owners[id]; owner != f.Path {
			s.Diagnostics = append(s.Diagnostics, Diagnostic{Severity: Error, File: f.Path, Message: fmt.Sprintf("%s defines the same item; this file is ignored", owner)})
			continue
		}
		if f.Err != nil {
			s.Diagnostics = append(s.Diagnostics, Diagnostic{Severity: Error, File: f.Path, Message: "cannot read: " + f.Err.Error()})
			if old, ok := prevGood[f.Path]; ok {
				s.Diagnostics = append(s.Diagnostics, Diagnostic{Severity: Warning, File: f.Path, Message: "keeping the last good version of this file"})
				accepted = append(accepted, old)
			}
			continue
		}
		if old, ok := prevGood[f.Path]; ok && old.data == string(f.Data) {
			s.Diagnostics = append(s.Diagnostics, old.warnings...)
			accepted = append(accepted, old)
			continue
		}
		p, diags := parseFile(f.Path, kind, stem, f.Data)
		if diags.HasErrors() {
			s.Diagnostics = append(s.Diagnostics, diags...)
			if old, ok := prevGood[f.Path]; ok {
				s.Diagnostics = append(s.Diagnostics, Diagnostic{Severity: Warning, File: f.Path, Message: "keeping the last good version of this file"})
				accepted = append(accepted, old)
			}
			continue
		}
		p.warnings = diags
		s.Diagnostics = append(s.Diagnostics, diags...)
		accepted = append(accepted, p)
	}
	s.assemble(accepted, prevGood)
	s.Diagnostics.Sort()
	return s
}

func parseFile(p string, kind fileKind, stem string, data []byte) (parsed, Diagnostics) {
	d := &decoder{file: p}
	out := parsed{file: p, kind: kind, stem: stem, data: string(data)}
	o := d.parseYAML(data)
	if o == nil {
		return out, d.diags
	}
	switch kind {
	case kindLogging:
		out.logging = decodeLogging(d, o)
	case kindDrain:
		out.drains = decodeDrains(d, o)
	case kindBalancer:
		if stem != "haproxy" {
			d.errorf(nil, "", "unknown balancer %s: the only balancer is haproxy (balancers/haproxy.yaml)", quote(stem))
			break
		}
		out.balancer = decodeBalancer(d, o)
		checkBalancerListeners(d, out.balancer)
	case kindDiscovery:
		if stem != "zookeeper" {
			d.errorf(nil, "", "unknown discovery method %s: the only method is zookeeper (discovery/zookeeper.yaml)", quote(stem))
			break
		}
		out.discovery = decodeDiscovery(d, o, stem)
	case kindCluster:
		out.cluster = decodeCluster(d, o, stem)
	case kindService:
		out.service = decodeService(d, o, stem)
	}
	return out, d.diags
}

// assemble builds the config from the accepted files and runs the checks that
// span files. An item that fails them falls back to its last good version
// when that one passes, and is left out otherwise.
//
// Ownership is stable: when two cluster files claim the same cluster name
// or listener, the one that was in force before keeps it and the newcomer
// is refused, so adding or editing a file never takes a name or a port
// away from a cluster that serves. Clusters are placed in three rounds:
// files in force and unchanged since prev, then files in force that
// changed (each falling back to its last good version if the new one
// clashes), then new files. Within a round, and on a first load, where
// every file is new, the file whose path sorts first wins.
func (s *Snapshot) assemble(accepted []parsed, prevGood map[string]parsed) {
	cfg := Config{Logging: Logging{Level: "info", Format: "text", Stream: "stderr"}, Discovery: map[string]Discovery{}, Clusters: map[string]Cluster{}, Services: map[string]Service{}}
	var clusters, services []parsed
	var bp *parsed // the balancer, kept once the clusters are placed
	for _, p := range accepted {
		switch p.kind {
		case kindLogging:
			cfg.Logging = p.logging
			s.keep(p)
		case kindDrain:
			cfg.Drains = p.drains
			s.keep(p)
		case kindBalancer:
			cfg.Balancer = p.balancer
			bp = &p
		case kindDiscovery:
			cfg.Discovery[p.stem] = p.discovery
			s.keep(p)
		case kindCluster:
			clusters = append(clusters, p)
		case kindService:
			services = append(services, p)
		}
	}
	round := func(p parsed) int {
		old, ok := prevGood[p.file]
		switch {
		case ok && old.data == p.data:
			return roundUnchanged
		case ok:
			return roundChanged
		}
		return roundNew
	}
	rounds := map[string]int{}
	for _, p := range clusters {
		rounds[p.file] = round(p)
	}
	sort.SliceStable(clusters, func(i, j int) bool { return rounds[clusters[i].file] < rounds[clusters[j].file] })
	pl := place(&cfg, cfg.Balancer, clusters, rounds, prevGood)
	// A changed balancer is a newcomer too: if it takes a name or a port
	// from a cluster in force that its last good version leaves alone, it
	// is refused.
	if bp != nil {
		if old, ok := prevGood[bp.file]; ok && old.data != bp.data && old.balancer != nil {
			var blame Diagnostics
			alt := place(&cfg, old.balancer, clusters, rounds, prevGood)
			for _, p := range clusters {
				if rounds[p.file] == roundNew || pl.kept[p.file] || !alt.kept[p.file] {
					continue
				}
				c := alt.clusters[p.file]
				blame = append(blame, balancerClash(bp.balancer, c).Diag(Error, fmt.Sprintf("clashes with cluster %s (%s), which was in force before and keeps what it holds: this version of the file is refused", clip(c.Name), c.Pos.File)))
			}
			if blame != nil {
				s.Diagnostics = append(s.Diagnostics, blame...)
				s.Diagnostics = append(s.Diagnostics, Diagnostic{Severity: Warning, File: bp.file, Message: "keeping the last good version of this file"})
				bp, pl = &old, alt
				cfg.Balancer = old.balancer
			}
		}
		s.keep(*bp)
	}
	s.Diagnostics = append(s.Diagnostics, pl.diags...)
	for _, p := range pl.keep {
		cfg.Clusters[p.cluster.Name] = p.cluster
		s.keep(p)
	}
	for _, p := range services {
		sv := p.service
		if _, ok := cfg.Discovery[sv.Discovery]; !ok {
			s.Diagnostics = append(s.Diagnostics, sv.At("discovery").Diag(Error, unknownDiscovery(&cfg, sv.Discovery)))
			if old, ok := prevGood[p.file]; ok {
				if _, ok := cfg.Discovery[old.service.Discovery]; ok && old.data != p.data {
					cfg.Services[old.stem] = old.service
					s.keep(old)
				}
			}
			continue
		}
		cfg.Services[p.stem] = sv
		s.keep(p)
	}
	s.Diagnostics = append(s.Diagnostics, sharedZnodes(&cfg)...)
	if len(cfg.Clusters) > 0 && cfg.Balancer == nil {
		s.Diagnostics = append(s.Diagnostics, Diagnostic{Severity: Error, File: "balancers/haproxy.yaml", Message: "clusters are configured but there is no valid balancer config"})
	}
	s.Config = cfg
}

func (s *Snapshot) keep(p parsed) { s.good[p.file] = p }

// sharedZnodes warns of service files that register the same znodes (the
// same discovery, name and a port) with other metadata: which metadata the
// znode holds depends on which file's port is up.
func sharedZnodes(cfg *Config) Diagnostics {
	var ds Diagnostics
	byZnode := map[[2]string][]string{} // discovery and name → service files, in order
	var keys [][2]string
	for _, id := range cfg.ServiceIDs() {
		sv := cfg.Services[id]
		k := [2]string{sv.Discovery, sv.Name}
		if byZnode[k] == nil {
			keys = append(keys, k)
		}
		byZnode[k] = append(byZnode[k], id)
	}
	for _, k := range keys {
		ids := byZnode[k]
		for i, a := range ids {
			for _, b := range ids[i+1:] {
				sa, sb := cfg.Services[a], cfg.Services[b]
				if reflect.DeepEqual(sa.Metadata, sb.Metadata) {
					continue
				}
				for _, port := range sa.Ports {
					if slices.Contains(sb.Ports, port) {
						ds = append(ds, sb.At("metadata").Diag(Warning, fmt.Sprintf(
							"registers %s:%d as %s does, with other metadata: the znode holds the metadata of the first file up, in file order",
							clip(sb.Name), port, sa.Pos.File)))
						break
					}
				}
			}
		}
	}
	return ds
}

func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}
