package model

import (
	"fmt"
	"regexp"
	"strings"
)

// nameRE is what HAProxy accepts in proxy and server names, and what we
// accept in cluster, meta cluster, proxy and service names (see validName).
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

// nameRule says what isName accepts, in diagnostics.
var nameRule = fmt.Sprintf("may hold only letters, digits and _ . : -, may not be . or .., and has at most %d characters", MaxNameLen)

// MaxNameLen is the longest cluster, meta cluster, proxy or service name.
const MaxNameLen = 200

// isName reports whether s is a valid name: it matches nameRE, is not "."
// or ".." (a cluster name is a znode name, and ZooKeeper refuses those as
// path elements) and is at most MaxNameLen bytes long.
func isName(s string) bool {
	return len(s) <= MaxNameLen && s != "." && s != ".." && nameRE.MatchString(s)
}

// hostRE matches host names and IP literals (IPv6 included) used as upstreams.
var hostRE = regexp.MustCompile(`^[A-Za-z0-9_.:\[\]-]+$`)

// haproxyTimeRE matches HAProxy time values: a number with an optional unit.
var haproxyTimeRE = regexp.MustCompile(`^[0-9]+(us|ms|s|m|h|d)?$`)

// MaxSocketPath is the longest socket_file accepted. HAProxy accepts unix
// socket paths of at most 97 characters, and the writer starts HAProxy with
// a master socket at "<socket_file>.master", 7 characters more.
const MaxSocketPath = 90

// FrontendPrefix starts the name of every cluster's own frontend
// ("fe:web" for cluster web): HAProxy 3.3 and later refuse a frontend and a
// backend of the same name, and the backend keeps the cluster's name. No
// cluster, meta cluster, proxy or service name may start with it, so a
// frontend name can never be another section's.
const FrontendPrefix = "fe:"

func validName(d *decoder, pos Pos, what, name string) bool {
	if !isName(name) {
		d.diags = append(d.diags, pos.Diag(Error, fmt.Sprintf("%s %s %s", what, quote(name), nameRule)))
		return false
	}
	if strings.HasPrefix(name, FrontendPrefix) {
		d.diags = append(d.diags, pos.Diag(Error, fmt.Sprintf("%s %s may not start with %q: HAProxy frontends of clusters are named so", what, quote(name), FrontendPrefix)))
		return false
	}
	return true
}

func decodeLogging(d *decoder, o *obj) Logging {
	lg := Logging{Level: "info", Format: "text", Stream: "stderr"}
	if o.has("version") {
		// The original's shape: Python dictConfig.
		o.get("version")
		for _, k := range []string{"disable_existing_loggers", "incremental"} {
			o.get(k)
		}
		if root := o.sub("root"); root != nil {
			if lv, ok := root.str("level", false); ok {
				if l, ok := logLevel(lv); ok {
					lg.Level = l
				} else {
					d.errorf(root.values["level"], "root.level", "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got %s", quote(lv))
				}
			}
			root.get("handlers")
			root.get("propagate")
			root.unknown()
		}
		if hs := o.sub("handlers"); hs != nil {
			for _, name := range hs.keys {
				h := hs.sub(name)
				if h == nil {
					continue
				}
				stream, _ := h.str("stream", false)
				switch stream {
				case "ext://sys.stdout":
					lg.Stream = "stdout"
				case "ext://sys.stderr":
					lg.Stream = "stderr"
				default:
					d.warnf(hs.keyN[name], h.path, "only stream handlers are supported; this handler is ignored (logs go to %s)", lg.Stream)
				}
				for _, k := range h.keys {
					h.used[k] = true
				}
			}
		}
		for _, k := range []string{"formatters", "filters", "loggers"} {
			if _, ok := o.get(k); ok {
				d.warnf(o.keyN[k], k, "not supported by log/slog; ignored")
			}
		}
		o.unknown()
		return lg
	}
	if lv, ok := o.str("level", false); ok {
		if l, ok := logLevel(lv); ok {
			lg.Level = l
		} else {
			d.errorf(o.values["level"], "level", "must be one of debug, info, warn, error, got %s", quote(lv))
		}
	}
	if f, ok := o.str("format", false); ok {
		if f != "text" && f != "json" {
			d.errorf(o.values["format"], "format", "must be text or json, got %s", quote(f))
		} else {
			lg.Format = f
		}
	}
	if s, ok := o.str("stream", false); ok {
		if s != "stdout" && s != "stderr" {
			d.errorf(o.values["stream"], "stream", "must be stdout or stderr, got %s", quote(s))
		} else {
			lg.Stream = s
		}
	}
	o.unknown()
	return lg
}

func logLevel(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "debug":
		return "debug", true
	case "info":
		return "info", true
	case "warn", "warning":
		return "warn", true
	case "error", "critical":
		return "error", true
	}
	return "", false
}

func decodeBalancer(d *decoder, o *obj) *Balancer {
	b := &Balancer{Pos: Pos{File: d.file, Line: 1}, MetaClusters: map[string]MetaCluster{}, Proxies: map[string]Proxy{}, RestartInterval: DefaultRestartInterval, DrainTimeout: DefaultDrainTimeout, ObserveInterval: DefaultObserveInterval}
	seen := []*obj{o} // every mapping read, for b.Lines
	b.ConfigFile, _ = o.word("config_file", true)
	b.SocketFile, _ = o.word("socket_file", true)
	if len(b.SocketFile) > MaxSocketPath {
		d.errorf(o.values["socket_file"], "socket_file", "must be at most %d characters (HAProxy accepts socket paths of at most 97, and the master socket adds \".master\"), this one has %d", MaxSocketPath, len(b.SocketFile))
	}
	b.PidFile, _ = o.word("pid_file", true)
	b.Global, _ = o.lines("global")
	b.Defaults, _ = o.lines("defaults")
	b.BindAddress, _ = o.word("bind_address", false)
	if ri, ok := o.seconds("restart_interval", false); ok {
		b.RestartInterval = ri
	}
	if dt, ok := o.seconds("drain_timeout", false); ok {
		b.DrainTimeout = dt
	}
	if oi, ok := o.secondsUpTo("observe_interval", MaxObserveInterval); ok {
		b.ObserveInterval = oi
	}
	if mcs := o.sub("meta_clusters"); mcs != nil {
		for _, name := range mcs.keys {
			pos := mcs.pos(name)
			if !validName(d, pos, "meta cluster name", name) {
				mcs.get(name)
				continue
			}
			m := mcs.sub(name)
			if m == nil {
				continue
			}
			seen = append(seen, mcs, m)
			mc := MetaCluster{Pos: pos}
			mc.Port, _ = m.port("port", true)
			mc.Frontend, _ = m.lines("frontend")
			m.unknown()
			b.MetaClusters[name] = mc
		}
	}
	if ps := o.sub("proxies"); ps != nil {
		for _, name := range ps.keys {
			pos := ps.pos(name)
			if !validName(d, pos, "proxy name", name) {
				ps.get(name)
				continue
			}
			p := ps.sub(name)
			if p == nil {
				continue
			}
			seen = append(seen, ps, p)
			px := Proxy{Pos: pos}
			px.Port, _ = p.port("port", true)
			px.BindAddress, _ = p.word("bind_address", false)
			px.Options, _ = p.lines("options")
			if ups, ok := p.get("upstreams"); !ok {
				p.missing("upstreams")
			} else if ups.Kind != sequence {
				d.errorf(ups, join(p.path, "upstreams"), "must be a list of {host, port, max_conn}, got %s", kindName(ups))
			} else {
				for i, un := range ups.Content {
					un = resolve(un)
					key := fmt.Sprintf("%s.upstreams[%d]", p.path, i)
					if un.Kind != mapping {
						d.errorf(un, key, "must be a mapping with host and port, got %s", kindName(un))
						continue
					}
					u := d.object(un, key)
					var up Upstream
					up.Host, _ = u.word("host", true)
					if up.Host != "" && !hostRE.MatchString(up.Host) {
						d.errorf(u.values["host"], join(key, "host"), "must be a host name or IP address, got %s", quote(up.Host))
					}
					up.Port, _ = u.port("port", true)
					up.MaxConn, _ = u.integer("max_conn", false, 1, 1<<30, "an integer")
					u.unknown()
					px.Upstreams = append(px.Upstreams, up)
				}
				if len(ups.Content) == 0 {
					d.errorf(ups, join(p.path, "upstreams"), "must list at least one upstream")
				}
			}
			p.unknown()
			b.Proxies[name] = px
		}
	}
	if _, present := o.values["stats"]; present {
		s := o.sub("stats")
		if s == nil && o.values["stats"].Tag == "!!null" {
			d.errorf(o.values["stats"], "stats", "must be a mapping with at least a port")
		}
		if s != nil {
			seen = append(seen, s)
			st := &Stats{Pos: o.pos("stats"), URI: "/"}
			st.Port, _ = s.port("port", true)
			st.BindAddress, _ = s.word("bind_address", false)
			if uri, ok := s.word("uri", false); ok {
				if !strings.HasPrefix(uri, "/") {
					d.errorf(s.values["uri"], "stats.uri", "must start with /, got %s", quote(uri))
				} else {
					st.URI = uri
				}
			}
			if t := s.sub("timeouts"); t != nil {
				seen = append(seen, t)
				read := func(k string) string {
					v, txt, ok := t.scalar(k, false)
					if !ok {
						return ""
					}
					if (v.Tag != "!!int" && v.Tag != "!!str") || !haproxyTimeRE.MatchString(txt) {
						d.errorf(v, "stats.timeouts."+k, "must be milliseconds or an HAProxy time like \"4s\", got %s", kindName(v))
						return ""
					}
					return txt
				}
				st.TimeoutConnect = read("connect")
				st.TimeoutClient = read("client")
				st.TimeoutServer = read("server")
				t.unknown()
			}
			s.unknown()
			b.Stats = st
		}
	}
	o.unknown()
	b.Lines = keyLines(seen...)
	return b
}

func decodeDiscovery(d *decoder, o *obj, name string) Discovery {
	ds := Discovery{Pos: Pos{File: d.file, Line: 1}, Name: name, SessionTimeout: DefaultSessionTimeout}
	if hs, ok := o.get("hosts"); !ok {
		o.missing("hosts")
	} else if hs.Kind != sequence {
		d.errorf(hs, "hosts", "must be a list of \"host:port\" strings, got %s", kindName(hs))
	} else {
		for i, h := range hs.Content {
			h = resolve(h)
			key := fmt.Sprintf("hosts[%d]", i)
			if h.Kind != scalarKind || checkText(h.Value) != "" || !hostPortRE.MatchString(h.Value) {
				d.errorf(h, key, "must be \"host:port\", got %s", kindName(h))
				continue
			}
			ds.Hosts = append(ds.Hosts, h.Value)
		}
		if len(hs.Content) == 0 {
			d.errorf(hs, "hosts", "must list at least one ZooKeeper server")
		}
	}
	if p, ok := o.word("path", true); ok {
		if !strings.HasPrefix(p, "/") {
			d.errorf(o.values["path"], "path", "must be an absolute znode path starting with /, got %s", quote(p))
		} else if bad := badZnodePath(strings.TrimRight(p, "/")); bad != "" {
			d.errorf(o.values["path"], "path", "%s, got %s", bad, quote(p))
		} else {
			ds.Path = strings.TrimRight(p, "/")
			if ds.Path == "" {
				ds.Path = "/"
			}
		}
	}
	if st, ok := o.seconds("session_timeout", false); ok {
		if st < MinSessionTimeout || st > MaxSessionTimeout {
			d.errorf(o.values["session_timeout"], "session_timeout", "must be %v to %v, got %v", MinSessionTimeout, MaxSessionTimeout, st)
		} else {
			ds.SessionTimeout = st
		}
	}
	ds.ResyncJitter = DefaultResyncJitter
	if j, ok := o.secondsUpTo("resync_jitter", MaxResyncJitter); ok {
		ds.ResyncJitter = j
	}
	seen := decodeSecurity(d, o, &ds)
	o.unknown()
	ds.Lines = keyLines(append(seen, o)...)
	return ds
}

// badZnodePath says why ZooKeeper would refuse path ("" when it would not):
// an empty element (//) or an element . or .. .
func badZnodePath(path string) string {
	for _, e := range strings.Split(path, "/")[1:] {
		switch e {
		case "":
			return "must not hold an empty element (//)"
		case ".", "..":
			return "must not hold an element . or .."
		}
	}
	return ""
}

var hostPortRE = regexp.MustCompile(`^[A-Za-z0-9_.\[\]:-]+:[0-9]{1,5}$`)

func decodeCluster(d *decoder, o *obj, stem string) Cluster {
	c := Cluster{Pos: Pos{File: d.file, Line: 1}, Name: stem}
	if n, ok := o.word("name", false); ok {
		c.Name = n
	}
	validName(d, Pos{File: d.file, Line: 1, Key: "name"}, "cluster name", c.Name)
	c.Discovery, _ = o.word("discovery", true)
	if mc, ok := o.word("meta_cluster", false); ok {
		if validName(d, o.pos("meta_cluster"), "meta cluster name", mc) {
			c.MetaCluster = mc
		}
	}
	h := o.sub("haproxy")
	if h == nil {
		if !o.has("haproxy") {
			o.missing("haproxy")
		}
		o.unknown()
		c.Lines = keyLines(o)
		return c
	}
	if h.has("port") {
		c.HAProxy.Port, _ = h.port("port", false)
	}
	if acl, ok := h.str("acl", false); ok {
		c.HAProxy.ACL = strings.TrimSpace(acl)
	}
	c.HAProxy.Frontend, _ = h.lines("frontend")
	c.HAProxy.Backend, _ = h.lines("backend")
	if so, ok := h.str("server_options", false); ok {
		c.HAProxy.ServerOptions = strings.TrimSpace(so)
	}
	h.unknown()
	o.unknown()
	c.Lines = keyLines(o, h)
	return c
}

// keyLines maps the key paths of the given mappings to their YAML lines.
func keyLines(objs ...*obj) map[string]int {
	m := map[string]int{}
	for _, o := range objs {
		for k, n := range o.keyN {
			m[join(o.path, k)] = n.Line
		}
	}
	return m
}
