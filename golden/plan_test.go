package golden

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lighthouse/effects"
	"lighthouse/model"
	"lighthouse/plan"
	"lighthouse/render"
)

// planNow is the clock of every plan golden case.
var planNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// TestPlanGolden plans each case of golden/plan: HAProxy runs the config
// rendered from before/ (config and membership.json), and the plan brings it
// to after/ (after/config defaults to before/config). An optional file
// `state` holds lines "not-running", "unknown CLUSTER" (membership of
// CLUSTER is unknown, its after/ nodes being the last known) and
// "last-reload DURATION" (ago; default 1h), "rejected" (haproxy -c
// rejected the candidate the plan installs) and "busy BACKEND/SERVER SINCE
// LAST" (HAProxy refused to delete the server, first SINCE and last LAST
// ago). want/plan.txt holds
// Plan.String() followed by the diagnostics of after/membership.json and of
// planning.
func TestPlanGolden(t *testing.T) {
	for _, dir := range caseDirs(t, "plan") {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			version, err := model.ParseVersion(readString(t, filepath.Join(dir, "version")))
			if err != nil {
				t.Fatal(err)
			}
			running, lastReload, unknown, rejected, busy := true, time.Hour, map[string]bool{}, false, map[string]plan.Busy{}
			if data, err := os.ReadFile(filepath.Join(dir, "state")); err == nil {
				sc := bufio.NewScanner(bytes.NewReader(data))
				for sc.Scan() {
					f := strings.Fields(sc.Text())
					switch {
					case len(f) == 1 && f[0] == "not-running":
						running = false
					case len(f) == 1 && f[0] == "rejected":
						rejected = true
					case len(f) == 4 && f[0] == "busy":
						since, err1 := time.ParseDuration(f[2])
						last, err2 := time.ParseDuration(f[3])
						if err1 != nil || err2 != nil {
							t.Fatalf("state: %q: %v %v", sc.Text(), err1, err2)
						}
						busy[f[1]] = plan.Busy{Since: planNow.Add(-since), Last: planNow.Add(-last)}
					case len(f) == 2 && f[0] == "unknown":
						unknown[f[1]] = true
					case len(f) == 2 && f[0] == "last-reload":
						if lastReload, err = time.ParseDuration(f[1]); err != nil {
							t.Fatal(err)
						}
					case len(f) > 0:
						t.Fatalf("state: unknown line %q", sc.Text())
					}
				}
			}
			beforeCfg := loadConfig(t, filepath.Join(dir, "before", "config"))
			afterDir := filepath.Join(dir, "after", "config")
			if _, err := os.Stat(afterDir); err != nil {
				afterDir = filepath.Join(dir, "before", "config")
			}
			afterCfg := loadConfig(t, afterDir)
			beforeMem, _ := loadMembership(t, filepath.Join(dir, "before", "membership.json"))
			afterMem, memDiags := loadMembership(t, filepath.Join(dir, "after", "membership.json"))
			for name := range unknown {
				m := afterMem[name]
				m.Known = false
				afterMem[name] = m
			}
			var obs plan.Observed
			if running {
				nodes := map[string][]model.Node{}
				for name, m := range beforeMem {
					nodes[name] = m.Nodes
				}
				cur := render.Render(render.Input{Config: beforeCfg, Nodes: nodes, Version: version}).Config
				obs = plan.Observed{Running: true, Loaded: plan.IndexConfig(cur), File: cur}
			}
			in := plan.Input{Config: afterCfg, Membership: afterMem, Version: version, Observed: obs,
				Now: planNow, History: plan.History{LastReload: planNow.Add(-lastReload), Busy: busy}}
			p := plan.Make(in)
			if rejected {
				for _, s := range p.Steps {
					if v, ok := s.Action.(plan.Validate); ok {
						in.History.Rejected = v.Fingerprint
					}
				}
				p = plan.Make(in)
			}
			got := p.String() + memDiags.String() + p.Diagnostics.String()
			checkGolden(t, filepath.Join(dir, "want", "plan.txt"), []byte(got), false)
			if after := plan.Apply(obs, p); !plan.Make(plan.Input{Config: afterCfg, Membership: afterMem, Version: version, Observed: after,
				Now: planNow, History: plan.History{LastReload: planNow}}).Empty() && !p.Diagnostics.HasErrors() {
				t.Errorf("planning again after applying the plan is not empty")
			}
		})
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

func loadConfig(t *testing.T, dir string) *model.Config {
	t.Helper()
	return &loadSnapshot(t, dir).Config
}

// loadSnapshot loads a config directory that has no errors.
func loadSnapshot(t *testing.T, dir string) *model.Snapshot {
	t.Helper()
	files, err := effects.ReadConfigDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := model.Load(nil, files)
	if s.Diagnostics.HasErrors() {
		t.Fatalf("%s: %s", dir, s.Diagnostics)
	}
	return s
}

func loadMembership(t *testing.T, path string) (model.Membership, model.Diagnostics) {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return model.Membership{}, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return model.DecodeMembershipFile(filepath.Base(path), data)
}
