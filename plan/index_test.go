package plan

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"lighthouse/effects"
	"lighthouse/golden/synth"
	"lighthouse/model"
	"lighthouse/render"
)

// The planner reads the desired config from render's skeleton and server
// lists, and the loaded one from its text: both must index alike.
func TestFromRenderMatchesParsedText(t *testing.T) {
	type input struct {
		name    string
		cfg     *model.Config
		nodes   map[string][]model.Node
		version model.Version
	}
	var inputs []input
	dirs, _ := filepath.Glob("../golden/render/*")
	for _, dir := range dirs {
		files, err := effects.ReadConfigDir(filepath.Join(dir, "config"))
		if err != nil {
			continue
		}
		snap := model.Load(nil, files)
		nodes := map[string][]model.Node{}
		if data, err := os.ReadFile(filepath.Join(dir, "membership.json")); err == nil {
			m, _ := model.DecodeMembershipFile("membership.json", data)
			for k, v := range m {
				nodes[k] = v.Nodes
			}
		}
		vtext, _ := os.ReadFile(filepath.Join(dir, "version"))
		v, _ := model.ParseVersion(string(vtext))
		inputs = append(inputs, input{filepath.Base(dir), &snap.Config, nodes, v})
	}
	snap := model.Load(nil, synth.Files(50))
	mem, _ := model.DecodeMembershipFile("m.json", synth.Membership(50, 5))
	nodes := map[string][]model.Node{}
	for k, v := range mem {
		nodes[k] = v.Nodes
	}
	inputs = append(inputs, input{"synth", &snap.Config, nodes, v26})
	if len(inputs) < 20 {
		t.Fatalf("only %d inputs", len(inputs))
	}
	for _, in := range inputs {
		if in.cfg.Balancer == nil {
			continue
		}
		res := render.Render(render.Input{Config: in.cfg, Nodes: in.nodes, Version: in.version})
		got, want := fromRender(res, &planMemo{}, &planMemo{}), parseConfig(res.Config.String())
		if names := slices.Sorted(maps.Keys(got.backends)); !slices.Equal(names, got.names) {
			t.Errorf("%s: names %q, want the backends %q", in.name, got.names, names)
		}
		got.names = nil
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(parsedConfig{}), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: (-text +render):\n%s", in.name, diff)
		}
	}
}
