package model

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
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

func decodeService(d *decoder, o *obj, stem string) Service {
	s := Service{Pos: Pos{File: d.file, Line: 1}, Name: stem, Host: "127.0.0.1", Metadata: map[string]any{}}
	if n, ok := o.word("name", false); ok {
		s.Name = n
	}
	validName(d, Pos{File: d.file, Line: 1, Key: "name"}, "service name", s.Name)
	s.Discovery, _ = o.word("discovery", true)
	if h, ok := o.word("host", false); ok {
		if !hostRE.MatchString(h) {
			d.errorf(o.values["host"], "host", "must be a host name or IP address, got %s", quote(h))
		} else {
			s.Host = h
		}
	}
	ports := map[int]bool{}
	if pv, ok := o.get("ports"); ok {
		if pv.Kind != sequence {
			d.errorf(pv, "ports", "must be a list of ports, got %s", kindName(pv))
		} else {
			for i, pn := range pv.Content {
				pn = resolve(pn)
				if p, ok := d.intValue(pn, fmt.Sprintf("ports[%d]", i), pn.Value, 1, 65535, "an integer"); ok {
					ports[p] = true
				}
			}
			if len(pv.Content) == 0 {
				d.errorf(pv, "ports", "must list at least one port")
			}
		}
		if o.has("port") {
			d.errorf(o.keyN["port"], "port", "give either port or ports, not both")
			o.get("port")
		}
	} else if p, ok := o.port("port", false); ok {
		ports[p] = true
	} else if !o.has("port") {
		d.errorf(o.node, "port", "required key is missing (port or ports)")
	}
	for p := range ports {
		s.Ports = append(s.Ports, p)
	}
	sort.Ints(s.Ports)
	if mv, ok := o.get("metadata"); ok {
		if mv.Kind != mapping {
			d.errorf(mv, "metadata", "must be a mapping, got %s", kindName(mv))
		} else if v, ok := d.toValue(mv, "metadata"); ok {
			if size := largestNodeSize(v.(map[string]any)); size > MaxNodeData {
				d.errorf(mv, "metadata", "too large: a node with this metadata takes up to %d bytes in ZooKeeper, over the limit of %d", size, MaxNodeData)
			} else {
				s.Metadata = v.(map[string]any)
			}
		}
	}
	if _, ok := s.Metadata[MetaState]; ok {
		d.warnf(o.values["metadata"], "metadata."+MetaState, "is the reporter's own key (ready, or drain after `lighthouse drain`): this value is not published")
		delete(s.Metadata, MetaState)
	}
	if v, ok := s.Metadata[MetaWeight]; ok {
		if w, err := weightValue(v); err != nil {
			d.warnf(o.values["metadata"], "metadata."+MetaWeight, "%v: not published (writers would ignore it)", err)
			delete(s.Metadata, MetaWeight)
		} else {
			s.Weight = w
		}
	}
	if w, ok := o.integer("weight", false, MinWeight, MaxWeight, "an integer"); ok {
		if _, both := s.Metadata[MetaWeight]; both {
			d.errorf(o.values["weight"], "weight", "give either weight or metadata.weight, not both")
		} else {
			s.Weight = w
			md := make(map[string]any, len(s.Metadata)+1)
			for k, v := range s.Metadata {
				md[k] = v
			}
			md[MetaWeight] = int64(w)
			s.Metadata = md
		}
	}
	if dur, ok := o.seconds("drain_on_stop", false); ok {
		if dur > MaxDrainOnStop {
			d.errorf(o.values["drain_on_stop"], "drain_on_stop", "must be at most %s, got %s", MaxDrainOnStop, dur)
		} else {
			s.DrainOnStop = dur
		}
	}
	cs := o.sub("checks")
	if cs == nil {
		if !o.has("checks") {
			o.missing("checks")
		}
		o.unknown()
		s.Lines = keyLines(o)
		return s
	}
	if iv, ok := cs.seconds("interval", true); ok {
		if iv < MinCheckInterval {
			d.errorf(cs.values["interval"], "checks.interval", "must be at least %s, got %s", MinCheckInterval, iv)
		} else {
			s.Interval = iv
		}
	}
	for _, typ := range cs.keys {
		if typ == "interval" {
			continue
		}
		kind, known := checkKinds[typ]
		if !known {
			cs.get(typ)
			d.errorf(cs.keyN[typ], "checks."+typ, "unknown check; known checks are %s", strings.Join(CheckTypes(), ", "))
			continue
		}
		c := cs.sub(typ)
		if c == nil {
			if v := cs.values[typ]; v.Tag == "!!null" {
				d.errorf(v, "checks."+typ, "must be a mapping with at least rise and fall")
			}
			continue
		}
		ch := Check{Type: typ}
		ch.Rise, _ = c.integer("rise", true, 1, 1000, "an integer")
		ch.Fall, _ = c.integer("fall", true, 1, 1000, "an integer")
		if t, ok := c.seconds("timeout", false); ok {
			ch.Timeout = t
			if t < MinCheckTimeout {
				d.errorf(c.values["timeout"], "checks."+typ+".timeout", "must be at least %s, got %s", MinCheckTimeout, t)
			} else if s.Interval > 0 && t > s.Interval {
				d.errorf(c.values["timeout"], "checks."+typ+".timeout", "must not be longer than checks.interval (%s), got %s", s.Interval, t)
			}
		} else {
			ch.Timeout = defaultTimeout(s.Interval)
		}
		kind(d, c, &ch)
		c.unknown()
		s.Checks = append(s.Checks, ch)
	}
	sort.Slice(s.Checks, func(i, j int) bool { return s.Checks[i].Type < s.Checks[j].Type })
	if len(cs.keys) == 1 && s.Interval > 0 {
		d.warnf(cs.node, "checks", "no checks defined: the service counts as up whenever it is configured")
	}
	cs.unknown()
	o.unknown()
	s.Lines = keyLines(o, cs)
	return s
}

// largestNodeSize is the size of the znode data of a node with metadata md
// and the longest host name, IP address and peer a reporter may announce.
func largestNodeSize(md map[string]any) int {
	host := strings.Repeat("h", 253)
	ip := "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
	return len(Node{Host: host, IP: ip, Port: 65535, Peer: &Peer{Name: host, IP: ip, Port: 65535}, Metadata: md}.Encode())
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

// MinCheckInterval is the shortest checks.interval accepted: a shorter one
// makes the reporter a busy loop against its own services.
const MinCheckInterval = 100 * time.Millisecond

// MaxDrainOnStop bounds a service's drain_on_stop: a reporter told to stop
// deregisters at the latest this long after.
const MaxDrainOnStop = 10 * time.Minute

// MinCheckTimeout is the shortest check timeout accepted; a timeout is also
// at most its service's interval.
const MinCheckTimeout = 10 * time.Millisecond

// DefaultCheckTimeout caps the default timeout of a check; a check never
// waits longer than its service's interval.
const DefaultCheckTimeout = 5 * time.Second

func defaultTimeout(interval time.Duration) time.Duration {
	if interval > 0 && interval < DefaultCheckTimeout {
		return interval
	}
	return DefaultCheckTimeout
}

// checkKinds decodes each check type's own keys. A new check type is one
// entry here plus its prober in effects.
var checkKinds = map[string]func(d *decoder, c *obj, ch *Check){
	"http": func(d *decoder, c *obj, ch *Check) {
		if uri, ok := c.word("uri", true); ok {
			if !strings.HasPrefix(uri, "/") {
				d.errorf(c.values["uri"], "checks.http.uri", "must start with /, got %s", quote(uri))
			}
			ch.URI = uri
		}
		ch.Method = "GET"
		if m, ok := c.word("method", false); ok {
			ch.Method = strings.ToUpper(m)
		}
		ch.HTTPS, _ = c.boolean("https")
	},
	"tcp": func(d *decoder, c *obj, ch *Check) {
		_, q, hasQ := c.scalar("query", false)
		_, r, hasR := c.scalar("response", false)
		switch {
		case hasQ && !hasR:
			c.missing("response")
		case hasR && !hasQ:
			c.missing("query")
		}
		ch.Query, ch.Response = q, r
		if strings.Contains(r, "\n") {
			d.errorf(c.values["response"], "checks.tcp.response", "the response is compared with one line; it must not contain a line break")
		}
	},
	"redis": func(d *decoder, c *obj, ch *Check) {},
}

// CheckTypes returns the known check types, sorted.
func CheckTypes() []string { return sortedKeys(checkKinds) }
