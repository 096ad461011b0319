package model

import (
	"fmt"
	"strconv"
	"strings"
)

// DrainFile is the file of a config directory that `lighthouse drain` and
// `lighthouse undrain` keep: the services and ports the reporter publishes
// with state: drain. It lives beside logging.yaml, so the reporter's watch
// of the directory sees it change, and a drain outlives a restart.
const DrainFile = "drain.yaml"

// MaxDrains bounds the entries of the drain file.
const MaxDrains = 10000

// Drain is one entry of the drain file: "SERVICE", "SERVICE:PORT",
// "*:PORT" or "*". A service is named by its file stem or by its `name`.
type Drain struct {
	Service string // "" for every service
	Port    int    // 0 for every port
}

// String is the entry as the drain file writes it.
func (d Drain) String() string {
	s := d.Service
	if s == "" {
		s = "*"
	}
	if d.Port != 0 {
		s += ":" + strconv.Itoa(d.Port)
	}
	return s
}

// ParseDrain reads an entry of the drain file.
func ParseDrain(s string) (Drain, error) {
	// Service names may hold ':': the port is what follows the last one.
	svc, port, hasPort := s, "", false
	if i := strings.LastIndexByte(s, ':'); i >= 0 && i+1 < len(s) && strings.Trim(s[i+1:], "+0123456789") == "" {
		svc, port, hasPort = s[:i], s[i+1:], true
	}
	var d Drain
	if svc != "*" {
		if !isName(svc) || strings.HasPrefix(svc, FrontendPrefix) {
			return d, fmt.Errorf("%s is not \"*\" or a service name: %s", quote(svc), nameRule)
		}
		d.Service = svc
	}
	if hasPort {
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 || port[0] == '+' {
			return d, fmt.Errorf("port %s is not an integer 1..65535", quote(port))
		}
		d.Port = p
	}
	return d, nil
}

// Covers reports whether the entry drains port of the service of file
// stem id.
func (d Drain) Covers(id string, s Service, port int) bool {
	return (d.Service == "" || d.Service == id || d.Service == s.Name) && (d.Port == 0 || d.Port == port)
}

// Draining reports whether the drain file drains port of the service of
// file stem id.
func (c *Config) Draining(id string, s Service, port int) bool {
	for _, d := range c.Drains {
		if d.Covers(id, s, port) {
			return true
		}
	}
	return false
}

// decodeDrains reads the drain file: `drain:` and a list of entries.
func decodeDrains(d *decoder, o *obj) []Drain {
	var out []Drain
	v, ok := o.get("drain")
	if !ok {
		o.unknown()
		return nil
	}
	if v.Kind != sequence {
		d.errorf(v, "drain", "must be a list of entries (\"web\", \"web:8001\", \"*:8001\", \"*\"), got %s", kindName(v))
		o.unknown()
		return nil
	}
	if len(v.Content) > MaxDrains {
		d.errorf(v, "drain", "has %d entries, over the limit of %d", len(v.Content), MaxDrains)
		o.unknown()
		return nil
	}
	seen := map[Drain]bool{}
	for i, e := range v.Content {
		e = resolve(e)
		key := fmt.Sprintf("drain[%d]", i)
		if e.Kind != scalarKind || (e.Tag != "!!str" && e.Tag != "!!int") {
			d.errorf(e, key, "must be a string such as \"web:8001\", got %s", kindName(e))
			continue
		}
		dr, err := ParseDrain(e.Value)
		if err != nil {
			d.errorf(e, key, "%v", err)
			continue
		}
		if !seen[dr] {
			seen[dr] = true
			out = append(out, dr)
		}
	}
	o.unknown()
	return out
}

// WithDrain is list with d added (in order, once).
func WithDrain(list []Drain, d Drain) []Drain {
	for _, x := range list {
		if x == d {
			return list
		}
	}
	return append(append([]Drain(nil), list...), d)
}

// WithoutDrain is list without the entries d undoes: all of them when d
// is "*", every entry of d's service when d names no port, else d alone.
// removed says how many went.
func WithoutDrain(list []Drain, d Drain) (out []Drain, removed int) {
	for _, x := range list {
		undo := d == (Drain{}) || x == d || d.Port == 0 && x.Service == d.Service
		if undo {
			removed++
			continue
		}
		out = append(out, x)
	}
	return out, removed
}

// EncodeDrains is the drain file holding list.
func EncodeDrains(list []Drain) []byte {
	var b strings.Builder
	b.WriteString("# Kept by `lighthouse drain` and `lighthouse undrain`: the reporter publishes\n")
	b.WriteString("# these services and ports with state: drain. \"*\" is every service or port.\n")
	if len(list) == 0 {
		b.WriteString("drain: []\n")
		return []byte(b.String())
	}
	b.WriteString("drain:\n")
	for _, d := range list {
		fmt.Fprintf(&b, "  - %q\n", d.String())
	}
	return []byte(b.String())
}
