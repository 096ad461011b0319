package golden

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"lighthouse/effects"
	"lighthouse/internal/testenv"
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
	v, err := model.ParseVersion(string(vdata))
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

// TestRenderEveryRelease renders every case under render/ for each
// supported HAProxy release (the case's inputs, the release's version) and
// runs that release's `haproxy -c` on it: it must pass with no alert and no
// warning of ours. A warning is the user's when it names a line of the file
// that holds a line from the config (a directive, an ACL, server options,
// an upstream), or when it is a warning that only a directive the user wrote
// can cause (userWarnings) and the config has that directive.
func TestRenderEveryRelease(t *testing.T) {
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		for _, dir := range caseDirs(t, "render") {
			t.Run(filepath.Base(dir), func(t *testing.T) {
				cfg, user := renderFor(t, dir, r.Version)
				if len(cfg) == 0 {
					t.Skip("nothing rendered")
				}
				cfg = []byte(testenv.WithStateFile(t, string(cfg)))
				ok, out := testenv.HAProxyCheckRelease(t, r, string(cfg))
				if !ok || strings.Contains(out, "[ALERT]") {
					t.Fatalf("haproxy %s -c rejects the config rendered for it:\n%s\nconfig:\n%s", r.Version, out, cfg)
				}
				lines := strings.Split(string(cfg), "\n")
				for _, w := range warnings(out) {
					if why := userWarning(w, lines, user); why == "" {
						t.Errorf("haproxy %s -c warns, and no line of the config causes it: %s", r.Version, w)
					} else {
						t.Logf("user's warning (%s): %s", why, w)
					}
				}
			})
		}
	})
}

// renderFor renders a case for version v; user holds every text from the
// config that the renderer copies into the file.
func renderFor(t *testing.T, dir string, v model.Version) (config []byte, user []string) {
	t.Helper()
	files, err := effects.ReadConfigDir(filepath.Join(dir, "config"))
	if err != nil {
		t.Fatal(err)
	}
	snap := model.Load(nil, files)
	var nodes map[string][]model.Node
	if data, err := os.ReadFile(filepath.Join(dir, "membership.json")); err == nil {
		members, _ := model.DecodeMembershipFile("membership.json", data)
		nodes = map[string][]model.Node{}
		for name, m := range members {
			nodes[name] = m.Nodes
		}
	}
	res := render.Render(render.Input{Config: &snap.Config, Nodes: nodes, NodesSource: "membership.json", Version: v})
	add := func(ls []model.Line) {
		for _, l := range ls {
			user = append(user, l.Text)
		}
	}
	if b := snap.Config.Balancer; b != nil {
		add(b.Global)
		add(b.Defaults)
		for _, mc := range b.MetaClusters {
			add(mc.Frontend)
		}
		for _, p := range b.Proxies {
			add(p.Options)
			for _, u := range p.Upstreams {
				user = append(user, u.Host)
			}
		}
	}
	for _, c := range snap.Config.Clusters {
		add(c.HAProxy.Frontend)
		add(c.HAProxy.Backend)
		if c.HAProxy.ACL != "" {
			user = append(user, c.HAProxy.ACL)
		}
		if c.HAProxy.ServerOptions != "" {
			user = append(user, c.HAProxy.ServerOptions)
		}
	}
	return res.Config.Bytes(), user
}

// warnings returns the [WARNING] lines of haproxy -c's output.
func warnings(out string) []string {
	var ws []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "[WARNING]") {
			ws = append(ws, strings.TrimSpace(l))
		}
	}
	return ws
}

// userWarnings are warnings that name no line but that only a directive
// the user wrote can cause: the warning's pattern, then a pattern of the
// user's lines that cause it ($1 stands for the warning's first group).
var userWarnings = []struct {
	warning *regexp.Regexp
	cause   string
}{
	// A log format without a log target.
	{regexp.MustCompile(`log format ignored for (frontend|proxy) '[^']*' since it has no log address`), `^(option (httplog|tcplog|httpslog)|log-format)\b`},
	// More threads than CPUs.
	{regexp.MustCompile(`(binds|enables) \d+ threads (to|running on) a total of \d+ CPUs`), `^(nbthread|cpu-map)\b`},
	// A directive the user wrote, quoted by the warning.
	{regexp.MustCompile(`'([a-z][a-z0-9_-]*( [a-z][a-z0-9_-]*)?)' (ignored for proxy|rule always has precedence)`), `^$1\b`},
	{regexp.MustCompile(`the '([a-z_-]+)' rule always has precedence`), `^$1\b`},
	// A peers section that does not name this host: the user's
	// stick-table line asked for it; in production the node is a peer.
	{regexp.MustCompile(`Removing incomplete section 'peers ([A-Za-z0-9_.:-]+)'`), `^stick-table .*\bpeers $1\b`},
}

var warningLine = regexp.MustCompile(`\[[^\]]*:(\d+)\]`)

// userWarning says why warning w is the user's, or "" when it is not.
func userWarning(w string, lines, user []string) string {
	if m := warningLine.FindStringSubmatch(w); m != nil {
		n, _ := strconv.Atoi(m[1])
		if n < 1 || n > len(lines) {
			return ""
		}
		line := strings.TrimSpace(lines[n-1])
		for _, u := range user {
			if u != "" && strings.Contains(line, u) {
				return fmt.Sprintf("line %d holds %q from the config", n, u)
			}
		}
		return ""
	}
	for _, uw := range userWarnings {
		m := uw.warning.FindStringSubmatch(w)
		if m == nil {
			continue
		}
		cause := uw.cause
		if len(m) > 1 {
			cause = strings.ReplaceAll(cause, "$1", regexp.QuoteMeta(m[1]))
		}
		re := regexp.MustCompile(cause)
		for _, u := range user {
			if re.MatchString(u) {
				return fmt.Sprintf("the config has %q", u)
			}
		}
	}
	return ""
}
