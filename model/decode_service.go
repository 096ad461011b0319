package model

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

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
