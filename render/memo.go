package render

import (
	"lighthouse/model"
	"lighthouse/model/configtext"
)

// Renderer renders one config after another, keeping from each render
// the work the next can reuse (a memo): the validated, sorted membership of
// each cluster and its server lines, and the structure of the file
// (everything that depends on the config and the version alone). A render
// redoes the work only for the clusters whose nodes (or server settings)
// changed, and writes the structure again only when the config or the
// version changed; its output is byte for byte what Render gives.
//
// A Renderer keeps each Input's Config and node slices: neither may be
// changed afterwards. A changed config is a new *model.Config, changed
// nodes a new slice (as model.Load and the membership watcher make them).
// The zero value is ready. A memo is never changed once made, so a copy of
// a Renderer renders on its own from the same start.
type Renderer struct {
	memo *renderMemo
}

// Render renders in, reusing the earlier renders' work.
func (rr *Renderer) Render(in Input) Result {
	res, m := render(in, rr.memo)
	rr.memo = m
	return res
}

// renderMemo is one render's work, for the next.
type renderMemo struct {
	clusters  map[string]*memoEntry
	structure *structure
}

// structure is what a render writes that depends on the config and the
// version alone: every line but the server lines of cluster backends and
// the peers sections, with the diagnostics about them. One thing in it
// depends on the nodes: a stick-table line that refers to a cluster's peers
// section is written only when the cluster has peers; peerDeps records what
// the lines depended on. A render with the same config (the same
// *model.Config, which is never changed), the same version and the same
// peerDeps replays the structure instead of writing it again.
type structure struct {
	config  *model.Config
	version model.Version

	backends    []backendSlot   // in order
	beforePeers configtext.Part // after the last backend's servers
	tail        configtext.Part // after the peers sections
	sections    int             // sections written before the peers sections
	skelHead    string          // the skeleton before the peers sections
	skelTail    string          // and after them
	diags       model.Diagnostics
	peersUsed   map[string]bool
	peerDeps    map[string]bool
}

// backendSlot is the text before a cluster backend's server lines (its
// stanza header and directives, and for the first everything before it),
// and how its server lines are written.
type backendSlot struct {
	before  configtext.Part
	cluster string
	cookie  bool
	opts    string
}

type memoEntry struct {
	src     string       // Input.NodesSource, part of the diagnostics
	nodes   []model.Node // the input nodes (never changed)
	members *members     // built from nodes
	diags   model.Diagnostics

	// The server lines, once written, and what they were written with.
	written bool
	cookie  bool
	opts    string
	text    configtext.Part
	servers []ServerLine
}

// sameNodes reports whether two node lists render alike: the same nodes in
// the same order, compared on what a render uses (metadata is not). The
// same slice, which is what the nodes of a cluster that did not change are,
// needs no comparing.
func sameNodes(a, b []model.Node) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] {
		return true
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if x.Host != y.Host || x.IP != y.IP || x.Port != y.Port {
			return false
		}
		switch {
		case x.Peer == nil && y.Peer == nil:
		case x.Peer == nil || y.Peer == nil || *x.Peer != *y.Peer:
			return false
		}
		if !sameServerMetadata(x, y) {
			return false
		}
	}
	return true
}

// sameServerMetadata reports whether two nodes' metadata render the same:
// the weight and the state, and their diagnostics.
func sameServerMetadata(x, y *model.Node) bool {
	xw, xerr := x.Weight()
	yw, yerr := y.Weight()
	xd, xderr := x.Draining()
	yd, yderr := y.Draining()
	return xw == yw && xd == yd && errText(xerr) == errText(yerr) && errText(xderr) == errText(yderr)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
