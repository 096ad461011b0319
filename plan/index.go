package plan

import (
	"net/netip"
	"strconv"
	"strings"

	"lighthouse/model/configtext"
	"lighthouse/render"
)

// Index is a config split into structure and servers, for planning.
type Index struct {
	parsed      parsedConfig
	fingerprint string
}

// HasBackend says whether the config has a backend of that name.
func (x *Index) HasBackend(name string) bool {
	if x == nil {
		return false
	}
	_, ok := x.parsed.backends[name]
	return ok
}

// IndexConfig indexes a config as render writes it.
func IndexConfig(config configtext.Text) *Index {
	return &Index{parsed: parseConfig(config.String()), fingerprint: Fingerprint(config)}
}

// parsedConfig is an HAProxy config split into its structure and its
// membership: the server lines of backends and the peer lines of peers
// sections are membership; everything else is structure.
type parsedConfig struct {
	skeleton string
	backends map[string][]render.ServerLine
	names    []string // the backends, sorted (set for rendered configs only)
}

// parseConfig reads a config in the shape render writes: a section header
// at column 0, its directives indented.
func parseConfig(text string) parsedConfig {
	out := parsedConfig{backends: map[string][]render.ServerLine{}}
	var sk strings.Builder
	sk.Grow(len(text) / 8)
	section, name := "", ""
	s := text
	for len(s) > 0 {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			section, name, _ = strings.Cut(line, " ")
			if section == "backend" {
				out.backends[name] = out.backends[name][:0:0]
			}
			sk.WriteString(line)
			sk.WriteByte('\n')
			continue
		}
		d := strings.TrimLeft(line, " \t")
		if d == "" || d[0] == '#' {
			continue // a comment, such as a render skeleton's template line
		}
		if section == "backend" && strings.HasPrefix(d, "server ") {
			if c, ok := parseServerLine(d); ok {
				out.backends[name] = append(out.backends[name], c)
				continue
			}
		}
		if section == "peers" && strings.HasPrefix(d, "peer ") {
			continue
		}
		sk.WriteString(line)
		sk.WriteByte('\n')
	}
	out.skeleton = sk.String()
	return out
}

// parseServerLine reads "server NAME ADDR:PORT [OPTIONS]".
func parseServerLine(d string) (render.ServerLine, bool) {
	f := strings.SplitN(d, " ", 4)
	if len(f) < 3 {
		return render.ServerLine{}, false
	}
	ap, err := netip.ParseAddrPort(f[2])
	if err != nil {
		host, port, ok := cutLast(f[2], ':')
		p, perr := strconv.Atoi(port)
		if !ok || perr != nil {
			return render.ServerLine{}, false
		}
		c := render.ServerLine{Name: f[1], Addr: host, Port: p}
		if len(f) == 4 {
			c.Options, c.Weight = render.SplitWeight(f[3])
		}
		return c, true
	}
	c := render.ServerLine{Name: f[1], Addr: ap.Addr().String(), Port: int(ap.Port())}
	if len(f) == 4 {
		c.Options, c.Weight = render.SplitWeight(f[3])
	}
	return c, true
}

func cutLast(s string, sep byte) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}
