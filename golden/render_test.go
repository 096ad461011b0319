package golden

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lighthouse/effects"
	"lighthouse/effects/testenv"
	"lighthouse/model"
	"lighthouse/render"
)

// renderCase renders one golden case the way `lighthouse render` does:
// config load, membership and render diagnostics together, sorted.
func renderCase(t *testing.T, dir string) (config, diagnostics []byte) {
	t.Helper()
	files, err := effects.ReadConfigDir(filepath.Join(dir, "config"))
	if err != nil {
		t.Fatal(err)
	}
	snap := model.Load(nil, files)
	ds := append(model.Diagnostics(nil), snap.Diagnostics...)

	var nodes map[string][]model.Node
	data, err := os.ReadFile(filepath.Join(dir, "membership.json"))
	switch {
	case err == nil:
		members, mds := model.DecodeMembershipFile("membership.json", data)
		ds = append(ds, mds...)
		nodes = map[string][]model.Node{}
		for name, m := range members {
			nodes[name] = m.Nodes
		}
	case !errors.Is(err, fs.ErrNotExist):
		t.Fatal(err)
	}

	vdata, err := os.ReadFile(filepath.Join(dir, "version"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := render.ParseVersion(string(vdata))
	if err != nil {
		t.Fatalf("%s/version: %v", dir, err)
	}

	res := render.Render(render.Input{Config: &snap.Config, Nodes: nodes, NodesSource: "membership.json", Version: v})
	ds = append(ds, res.Diagnostics...)
	ds.Sort()
	return res.Config.Bytes(), []byte(ds.String())
}

// TestRender renders every case under render/ and compares the config and
// the diagnostics with want/.
func TestRender(t *testing.T) {
	for _, dir := range caseDirs(t, "render") {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			config, diags := renderCase(t, dir)
			checkGolden(t, filepath.Join(dir, "want", "haproxy.cfg"), config, false)
			checkGolden(t, filepath.Join(dir, "want", "diagnostics.txt"), diags, true)
		})
	}
}

// TestRenderHAProxyCheck runs the installed `haproxy -c` on every
// want/haproxy.cfg. Without haproxy the test is skipped, except when CI is
// set: then it fails.
func TestRenderHAProxyCheck(t *testing.T) {
	testenv.Require(t, "haproxy")
	for _, dir := range caseDirs(t, "render") {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cfg, err := os.ReadFile(filepath.Join(dir, "want", "haproxy.cfg"))
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg) == 0 {
				t.Skip("nothing rendered")
			}
			ok, out := testenv.HAProxyCheck(t, string(cfg))
			if !ok {
				t.Errorf("haproxy -c rejects want/haproxy.cfg:\n%s", out)
			}
			if strings.Contains(out, "[ALERT]") {
				t.Errorf("haproxy -c alerts:\n%s", out)
			}
		})
	}
}
