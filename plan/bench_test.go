package plan

import (
	"testing"
	"time"

	"lighthouse/golden/synth"
	"lighthouse/model"
)

// BenchmarkPlanOneNodeChange plans one node leaving one cluster while
// HAProxy runs 1,000 clusters × 50 nodes, with the previous plan's memo as
// the writer passes it on. Target: under 10 ms.
func BenchmarkPlanOneNodeChange(b *testing.B) {
	snap := model.Load(nil, synth.Files(1000))
	mem, ds := model.DecodeMembershipFile("membership.json", synth.Membership(1000, 50))
	if snap.Diagnostics.HasErrors() || len(ds) > 0 {
		b.Fatal(snap.Diagnostics, ds)
	}
	in := Input{Config: &snap.Config, Membership: mem, Version: v26, Now: t0}
	var pl Planner // as the writer keeps it
	first := pl.Plan(in)
	in.Observed = Apply(Observed{}, first)
	// The writer plans again once HAProxy runs: nothing to do.
	in.Now = t0.Add(time.Minute)
	idle := pl.Plan(in)
	if !idle.Empty() {
		b.Fatalf("converged HAProxy, yet a plan:\n%s", idle)
	}
	// One node of one cluster leaves.
	name := synth.ClusterName(7)
	m := mem[name]
	m.Nodes = m.Nodes[1:]
	changed := model.Membership{}
	for k, v := range mem {
		changed[k] = v
	}
	changed[name] = m
	in.Membership = changed
	b.ReportAllocs()
	var p Plan
	for b.Loop() {
		each := pl // every round plans the change after the idle plan
		p = each.Plan(in)
	}
	if p.HasReload() || len(p.Steps) != 4 {
		b.Fatalf("unexpected plan:\n%s", p)
	}
}
