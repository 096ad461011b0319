package render

import (
	"strings"

	"lighthouse/model"
	"lighthouse/render/keywords"
)

// global writes the global section: the user's lines, the admin stats
// socket, and the server state file when the version keeps states.
func (r *renderer) global() {
	r.section(titleHeader)
	r.stanza("global")
	keep := r.keepsState()
	for _, l := range r.b.Global {
		if keep && (l.Text == "server-state-file" || strings.HasPrefix(l.Text, "server-state-file ")) {
			r.errorAt(l.Pos, "the writer sets server-state-file itself (%s), to keep server states across reloads; remove this line", StateFile(r.b))
			continue
		}
		if r.directive(keywords.Global, l) {
			r.line(l.Text)
		}
	}
	if r.word(r.b.At("socket_file"), "stats socket", r.b.SocketFile) {
		r.line("stats socket", r.b.SocketFile, "mode 600 level admin")
	}
	r.line("stats timeout 2m")
	if keep && r.word(r.b.At("config_file"), "server-state-file", StateFile(r.b)) {
		r.line("server-state-file", StateFile(r.b))
	}
}

// keepsState reports whether the config keeps server states across
// reloads: HAProxy reads a server state file from 1.6 on.
func (r *renderer) keepsState() bool { return r.in.Version.AtLeast(1, 6) }

// StateFile is the server state file of a balancer config: the writer
// saves `show servers state` there before every reload, and HAProxy loads
// it when it starts.
func StateFile(b *model.Balancer) string { return b.ConfigFile + ".state" }

// loadStateLine is the defaults line that makes every backend load its
// servers' states from the global server state file. A defaults line of
// the user's that sets load-server-state-from-file takes its place.
const loadStateLine = "load-server-state-from-file global"

// defaults writes the defaults section: the user's lines and the line
// that loads the server states, when there is either.
func (r *renderer) defaults() {
	load := r.keepsState() && !r.defaultsSet("load-server-state-from-file")
	if len(r.b.Defaults) == 0 && !load {
		return
	}
	r.stanza("defaults")
	r.directives(keywords.Defaults, r.b.Defaults)
	if load {
		r.line(loadStateLine)
	}
}

// defaultsSet reports whether the defaults section has a line starting
// with directive ("timeout client").
func (r *renderer) defaultsSet(directive string) bool {
	for _, l := range r.b.Defaults {
		if l.Text == directive || strings.HasPrefix(l.Text, directive+" ") {
			return true
		}
	}
	return false
}
