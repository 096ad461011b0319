package render_test

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"lighthouse/internal/testenv"
	"lighthouse/model"
	"lighthouse/render"
)

// genValid draws a valid input: only valid directive lines, valid nodes
// (with peers), stick-tables that refer to the peers sections of clusters,
// and one of the versions whose output differs (1.4, 1.5, 2.6).
func genValid(t *rapid.T) (render.Input, []model.File) {
	bal := map[string]any{
		"config_file":  "/tmp/h.cfg",
		"socket_file":  "/tmp/lighthouse-check.sock",
		"pid_file":     "/tmp/h.pid",
		"bind_address": rapid.SampledFrom([]string{"", "127.0.0.1", "::1"}).Draw(t, "bind"),
		"global":       rapid.SliceOfNDistinct(rapid.SampledFrom(validLines["global"]), 0, 3, rapid.ID[string]).Draw(t, "global"),
		// mode http first: HAProxy refuses an http frontend before a tcp backend.
		"defaults": append([]string{"mode http", "timeout connect 5s", "timeout client 30s", "timeout server 30s"},
			rapid.SliceOfNDistinct(rapid.SampledFrom([]string{"retries 3", "option redispatch", "no option http-server-close", "balance leastconn"}), 0, 2, rapid.ID[string]).Draw(t, "defaults")...),
	}
	if bal["bind_address"] == "" {
		delete(bal, "bind_address")
	}
	port := 20000
	nextPort := func() int { port++; return port }
	metas := rapid.SliceOfNDistinct(rapid.SampledFrom([]string{"meta_a", "meta_b"}), 0, 2, rapid.ID[string]).Draw(t, "metas")
	mcs := map[string]any{}
	for _, m := range metas {
		mcs[m] = map[string]any{"port": nextPort(), "frontend": rapid.SliceOfNDistinct(rapid.SampledFrom(validLines["frontend"]), 0, 2, rapid.ID[string]).Draw(t, m)}
	}
	bal["meta_clusters"] = mcs
	proxies := map[string]any{}
	for _, p := range rapid.SliceOfNDistinct(rapid.SampledFrom([]string{"px_a", "px_b"}), 0, 2, rapid.ID[string]).Draw(t, "proxies") {
		var ups []any
		for i := range rapid.IntRange(1, 3).Draw(t, p+".ups") {
			u := map[string]any{"host": rapid.SampledFrom([]string{"10.9.9.9", "10.9.9.8", "::1"}).Draw(t, fmt.Sprintf("%s%d", p, i)), "port": 80 + i} // distinct
			if rapid.Bool().Draw(t, "mc") {
				u["max_conn"] = rapid.IntRange(1, 1000).Draw(t, "maxconn")
			}
			ups = append(ups, u)
		}
		px := map[string]any{"port": nextPort(), "upstreams": ups, "options": rapid.SliceOfNDistinct(rapid.SampledFrom(validLines["listen"]), 0, 2, rapid.ID[string]).Draw(t, p+".opts")}
		if rapid.Bool().Draw(t, p+".bind") {
			px["bind_address"] = "127.0.0.2"
		}
		proxies[p] = px
	}
	bal["proxies"] = proxies
	if rapid.Bool().Draw(t, "stats") {
		st := map[string]any{"port": nextPort(), "uri": rapid.SampledFrom([]string{"/", "/stats", "/haproxy?stats"}).Draw(t, "uri")}
		if rapid.Bool().Draw(t, "stats.bind") {
			st["bind_address"] = "127.0.0.1"
		}
		if rapid.Bool().Draw(t, "stats.timeouts") {
			st["timeouts"] = map[string]any{"connect": 4000, "client": "1m", "server": "30s"}
		}
		bal["stats"] = st
	}
	files := []model.File{{Path: "balancers/haproxy.yaml", Data: yamlBytes(t, bal)}, {Path: "discovery/zookeeper.yaml", Data: []byte(zkYAML)}}

	nodes := map[string][]model.Node{}
	for _, c := range rapid.SliceOfNDistinct(rapid.SampledFrom([]string{"c1", "c2", "c3", "web.api", "Z"}), 0, 4, rapid.ID[string]).Draw(t, "clusters") {
		backend := rapid.SliceOfNDistinct(rapid.SampledFrom(validLines["backend"]), 0, 3, rapid.ID[string]).Draw(t, c+".backend")
		for i := range rapid.IntRange(0, 6).Draw(t, c+".nodes") {
			n := model.Node{
				Host:     rapid.SampledFrom(validHosts).Draw(t, "host"),
				IP:       rapid.SampledFrom(validIPs).Draw(t, "ip"),
				Port:     30000 + i, // distinct names: a name with two addresses is an error
				Metadata: map[string]any{},
			}
			if rapid.Bool().Draw(t, fmt.Sprintf("%s.peer%d", c, i)) {
				n.Peer = &model.Peer{Name: n.Host, IP: n.IP, Port: model.DefaultPeerPort}
			}
			nodes[c] = append(nodes[c], n)
		}
		// Refer to the cluster's peers section when it will have one.
		hasPeer := false
		for _, n := range nodes[c] {
			hasPeer = hasPeer || n.Peer != nil
		}
		if hasPeer && rapid.Bool().Draw(t, c+".stick") {
			backend = append(backend, "stick-table type ip size 1m peers "+c)
		}
		hp := map[string]any{"frontend": rapid.SliceOfNDistinct(rapid.SampledFrom(validLines["frontend"]), 0, 2, rapid.ID[string]).Draw(t, c+".frontend"), "backend": backend}
		cl := map[string]any{"discovery": "zookeeper", "haproxy": hp}
		if len(metas) > 0 && rapid.Bool().Draw(t, c+".member") {
			cl["meta_cluster"] = rapid.SampledFrom(metas).Draw(t, c+".meta")
			hp["acl"] = rapid.SampledFrom(validACLs).Draw(t, c+".acl")
			if rapid.Bool().Draw(t, c+".alsoport") {
				hp["port"] = nextPort()
			}
		} else {
			hp["port"] = nextPort()
		}
		if rapid.Bool().Draw(t, c+".opts") {
			hp["server_options"] = rapid.SampledFrom(validOptions).Draw(t, c+".o")
		}
		files = append(files, model.File{Path: "clusters/" + c + ".yaml", Data: yamlBytes(t, cl)})
	}
	v := rapid.SampledFrom([]model.Version{{Major: 1, Minor: 4, Patch: 24}, {Major: 1, Minor: 5, Patch: 12}, {Major: 2, Minor: 6, Patch: 12}}).Draw(t, "version")
	snap := model.Load(nil, files)
	if snap.Diagnostics.HasErrors() {
		t.Fatalf("generated config does not load:\n%s", snap.Diagnostics)
	}
	return render.Input{Config: &snap.Config, Nodes: nodes, NodesSource: "gen", Version: v}, files
}

// Random valid inputs render without errors into configs that the
// installed HAProxy accepts (`haproxy -c`): 200 of them, 20 under -short.
// Without haproxy the test is skipped, except when CI is set.
func TestHAProxyAcceptsRandomConfigs(t *testing.T) {
	testenv.Require(t, "haproxy")
	runs := 2
	if testing.Short() {
		runs = 1 // rapid itself runs a fifth of its checks under -short
	}
	for i := range runs {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			rapid.Check(t, func(rt *rapid.T) {
				in, _ := genValid(rt)
				res := render.Render(in)
				for _, d := range res.Diagnostics {
					// Stick-tables refer to peers sections that 1.4 lacks.
					if d.Severity == model.Error && !(strings.Contains(d.Message, "peers section") && !in.Version.AtLeast(1, 5)) {
						rt.Fatalf("valid input gave an error: %s", d)
					}
				}
				ok, out := testenv.HAProxyCheck(t, res.Config.String())
				if !ok || strings.Contains(out, "[ALERT]") {
					rt.Fatalf("haproxy -c rejects the config for %s:\n%s\n%s", in.Version, out, res.Config.String())
				}
			})
		})
	}
}
