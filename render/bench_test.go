package render_test

import (
	"testing"

	"lighthouse/golden/synth"
	"lighthouse/model"
	"lighthouse/render"
)

// bigInput is 1,000 clusters × 50 nodes (50,000 servers), decoded the way
// the writer decodes them.
func bigInput(tb testing.TB) render.Input {
	tb.Helper()
	snap := model.Load(nil, synth.Files(1000))
	if snap.Diagnostics.HasErrors() {
		tb.Fatalf("synthetic config: %v", snap.Diagnostics)
	}
	members, ds := model.DecodeMembershipFile("membership.json", synth.Membership(1000, 50))
	if len(ds) > 0 {
		tb.Fatalf("synthetic membership: %v", ds)
	}
	nodes := make(map[string][]model.Node, len(members))
	for name, m := range members {
		nodes[name] = m.Nodes
	}
	return render.Input{Config: &snap.Config, Nodes: nodes, NodesSource: "membership.json", Version: model.Version{Major: 2, Minor: 6, Patch: 12}}
}

// BenchmarkRender renders 1,000 clusters × 50 nodes. Target: under 50 ms
// and 50 MB allocated per render.
func BenchmarkRender(b *testing.B) {
	in := bigInput(b)
	b.ReportAllocs()
	var res render.Result
	for b.Loop() {
		res = render.Render(in)
	}
	if n := len(res.Backends); n != 1000 || len(res.Diagnostics) > 0 {
		b.Fatalf("got %d backends, diagnostics %v", n, res.Diagnostics)
	}
	b.ReportMetric(float64(res.Config.Len()), "config-bytes")
}

// BenchmarkRenderWithMemo renders 1,000 clusters × 50 nodes again after one
// node of one cluster left, with a Renderer that rendered the previous
// state: what the writer does on a membership change.
func BenchmarkRenderWithMemo(b *testing.B) {
	in := bigInput(b)
	var rr render.Renderer
	rr.Render(in)
	name := synth.ClusterName(7)
	changed := make(map[string][]model.Node, len(in.Nodes))
	for k, v := range in.Nodes {
		changed[k] = v
	}
	changed[name] = in.Nodes[name][1:]
	in.Nodes = changed
	b.ReportAllocs()
	var res render.Result
	for b.Loop() {
		each := rr // every round renders the change from the previous state
		res = each.Render(in)
	}
	if n := len(res.Backends[name]); n != 49 {
		b.Fatalf("got %d servers in %s", n, name)
	}
}
