package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lighthouse/effects"
	"lighthouse/model"
	"lighthouse/render"
)

// TestLocate maps every line of every render case's config back to the
// config: each line inside a section comes from an item of the config, a
// line located at a directive the user wrote is that directive, and each
// case locates some lines at directives.
func TestLocate(t *testing.T) {
	for _, dir := range caseDirs(t, "render") {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			files, err := effects.ReadConfigDir(filepath.Join(dir, "config"))
			if err != nil {
				t.Fatal(err)
			}
			cfg := &model.Load(nil, files).Config
			if cfg.Balancer == nil {
				t.Skip("no balancer")
			}
			data, err := os.ReadFile(filepath.Join(dir, "want", "haproxy.cfg"))
			if err != nil {
				t.Fatal(err)
			}
			user := map[model.Pos]string{}
			add := func(ls []model.Line) {
				for _, l := range ls {
					user[l.Pos] = l.Text
				}
			}
			add(cfg.Balancer.Global)
			add(cfg.Balancer.Defaults)
			for _, mc := range cfg.Balancer.MetaClusters {
				add(mc.Frontend)
			}
			for _, px := range cfg.Balancer.Proxies {
				add(px.Options)
			}
			for _, c := range cfg.Clusters {
				add(c.HAProxy.Frontend)
				add(c.HAProxy.Backend)
			}
			directives := 0
			text := string(data)
			for i, line := range strings.Split(text, "\n") {
				if line == "" || line[0] != '\t' {
					continue
				}
				pos, ok := render.Locate(cfg, text, i+1)
				if !ok || pos.File == "" {
					t.Errorf("line %d %q: located nowhere (%+v)", i+1, line, pos)
					continue
				}
				if want, ok := user[pos]; ok {
					directives++
					if want != strings.TrimSpace(line) {
						t.Errorf("line %d %q: located at %+v, which is %q", i+1, line, pos, want)
					}
				}
			}
			if len(user) > 0 && directives == 0 {
				t.Errorf("no line is located at one of the %d directives", len(user))
			}
			if _, ok := render.Locate(cfg, text, 1); ok {
				t.Errorf("the header comment is located")
			}
		})
	}
}
