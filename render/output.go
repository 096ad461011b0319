package render

import (
	"fmt"
	"strconv"
	"strings"

	"lighthouse/model"
	"lighthouse/render/keywords"
)

// section starts a section; its comment header is written with its first
// stanza, so a section without stanzas leaves no trace.
func (r *renderer) section(title string) { r.pending = title }

// stanza writes a stanza header ("backend web"), preceded by a blank line
// and, for the first stanza of a section, by the section's comment header.
func (r *renderer) stanza(header string) {
	if r.pending != "" {
		if r.sections > 0 {
			r.raw("\n\n")
		}
		r.raw("#\n# " + r.pending + "\n#\n")
		r.pending = ""
		r.sections++
	}
	r.raw("\n" + header + "\n")
}

// raw writes s to the config and the skeleton.
func (r *renderer) raw(s string) {
	r.out.WriteString(s)
	r.skel = append(r.skel, s...)
}

// line writes one directive line, its parts joined by single spaces.
func (r *renderer) line(parts ...string) {
	r.raw("\t")
	for i, p := range parts {
		if i > 0 {
			r.raw(" ")
		}
		r.raw(p)
	}
	r.raw("\n")
}

func (r *renderer) errorAt(pos model.Pos, format string, args ...any) {
	r.diags = append(r.diags, pos.Diag(model.Error, fmt.Sprintf(format, args...)))
}

// claim takes a proxy name. Every frontend, backend and listen section has
// a name of its own: HAProxy 3.3 and later refuse a frontend and a backend
// of the same name (3.2 warns), so no release gets one. It reports false,
// with an error at pos, when the name is taken.
func (r *renderer) claim(kind, name, what string, pos model.Pos) bool {
	if other := r.names[name]; other != "" {
		r.errorAt(pos, "%s %q is left out: HAProxy already has %s under that name", kind, name, other)
		return false
	}
	r.names[name] = what
	return true
}

// text checks a value from the config before it is written into a line.
func (r *renderer) text(pos model.Pos, what, s string) bool {
	if msg := checkText(s); msg != "" {
		r.errorAt(pos, "%s left out: %s", what, msg)
		return false
	}
	return true
}

// word checks a single-token value from the config (an address, a path).
func (r *renderer) word(pos model.Pos, what, s string) bool {
	if !r.text(pos, what, s) {
		return false
	}
	if strings.ContainsAny(s, " \t") {
		r.errorAt(pos, "%s left out: must not contain whitespace, got %q", what, s)
		return false
	}
	return true
}

// port checks a port from the config.
func (r *renderer) port(pos model.Pos, what string, p int) bool {
	if p < 1 || p > 65535 {
		r.errorAt(pos, "%s left out: port %d is out of range 1..65535", what, p)
		return false
	}
	return true
}

// keywords picks the keyword table of the version, with a warning when the
// version has none of its own (see keywords.For).
func (r *renderer) keywords() {
	var note string
	r.kw, note = keywords.For(r.in.Version)
	if note != "" {
		r.diags = append(r.diags, model.Diagnostic{Severity: model.Warning, File: "balancers/haproxy.yaml", Message: note})
	}
}

// directives writes the valid lines of a section and reports the others.
func (r *renderer) directives(sec keywords.Section, lines []model.Line) {
	for _, l := range lines {
		if r.directive(sec, l) {
			r.line(l.Text)
		}
	}
}

// directive reports whether a line from the config may be written into a
// section, with an error at the line when not.
func (r *renderer) directive(sec keywords.Section, l model.Line) bool {
	if msg := checkText(l.Text); msg != "" {
		r.errorAt(l.Pos, "%s", msg)
		return false
	}
	if msg := r.kw.Problem(sec, l.Text); msg != "" {
		r.errorAt(l.Pos, "%s", msg)
		return false
	}
	if msg := checkQuotes(l.Text); msg != "" {
		r.errorAt(l.Pos, "HAProxy cannot parse this line: %s", msg)
		return false
	}
	if name, ok := peersRef(l.Text); ok {
		if why := r.noPeers(name); why != "" {
			r.errorAt(l.Pos, "refers to peers section %q, which this config does not have: %s", name, why)
			return false
		}
	}
	return true
}

// bind writes `bind ADDR:PORT`; addr "" means all interfaces.
func (r *renderer) bind(pos model.Pos, addr string, port int) {
	if !r.word(pos, "bind", addr) || !r.port(pos, "bind", port) {
		return
	}
	r.line("bind " + addr + ":" + strconv.Itoa(port))
}
