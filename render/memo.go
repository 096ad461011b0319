package render

import "lighthouse/model"

// Memo carries per-cluster work from one Render to the next: the validated,
// sorted membership of each cluster and its server lines. A render given the
// Memo of an earlier one redoes the work only for the clusters whose nodes
// (or server settings) changed; its output is byte for byte what it would be
// without the Memo. A Memo is never changed after Render returns it, so
// renders may share one.
type Memo struct {
	clusters map[string]*memoEntry
}

type memoEntry struct {
	src     string       // Input.NodesSource, part of the diagnostics
	nodes   []model.Node // a copy of the input nodes
	members *members     // built from nodes
	diags   model.Diagnostics

	// The server lines, once written, and what they were written with.
	written bool
	cookie  bool
	opts    string
	text    string
	sum     partSum // of text
	servers []Server
}

// sameNodes reports whether two node lists render alike: the same nodes in
// the same order, compared on what a render uses (metadata is not).
func sameNodes(a, b []model.Node) bool {
	if len(a) != len(b) {
		return false
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
	}
	return true
}
