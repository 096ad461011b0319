package render_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
	"pgregory.net/rapid"

	"lighthouse/model"
	"lighthouse/render"
)

// The generators below build config directories as YAML bytes (through
// model.Load) and nodes as JSON (through model.DecodeNode) or directly as
// model.Node values (bypassing DecodeNode). Strings come from three pools:
// valid (must be rendered), clean but invalid (the renderer must leave them
// out), and hostile (line breaks and other control characters: the model
// or the renderer must reject them).

var (
	validLines = map[string][]string{
		"global":   {"maxconn 4000", "tune.bufsize 32768", "spread-checks 5", "log stderr format short local0"}, // valid from 1.5 on
		"defaults": {"mode http", "timeout connect 5s", "timeout client 30s", "timeout server 30s", "retries 3", "option redispatch", "no option http-server-close"},
		"frontend": {"option httplog", "maxconn 1000", "http-request set-header X-A b", "capture request header Host len 32", "timeout client 30s"},
		"backend":  {"balance roundrobin", "option httpchk GET /health", "http-check expect status 200", "retries 2", "timeout server 30s", "mode http"},
		"listen":   {"balance roundrobin", "retries 2", "timeout server 30s", "option redispatch"},
	}
	// Invalid in every section, but free of control characters.
	invalidLines = []string{"bogus 1", "frobnicate now", "option nonsense", "http-request set-header X 'unterminated"}
	hostile      = []string{"\n", "\r\n", "\r", "\t", "\x00", "\x1b[31m", "\u0085", "\u2028", "\u2029", "\x7f", "\nlisten evil\n\tbind :1\n", "\xff"}

	validACLs    = []string{"path_beg /api", "hdr(host) -i example.com", "path_beg /zürich"}
	invalidACLs  = []string{"path_beg 'x"}
	validOptions = []string{"check", "check inter 2000", "weight 10 check"}
	badOptions   = []string{"bogus", "check 'x"}
	validHosts   = []string{"app1", "app2.example.com", "a_b", "A", "x-y.z"}
	validIPs     = []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "::1", "2001:db8::2"}
)

// withHostile sometimes spoils s with a hostile string.
func withHostile(t *rapid.T, s, label string) string {
	if rapid.IntRange(0, 39).Draw(t, label+"?") != 20 { // not 0: rapid favours the ends of a range
		return s
	}
	h := rapid.SampledFrom(hostile).Draw(t, label+"!")
	switch rapid.IntRange(0, 2).Draw(t, label+"@") {
	case 0:
		return h + s
	case 1:
		return s + h
	}
	return s[:len(s)/2] + h + s[len(s)/2:]
}

func drawLines(t *rapid.T, section, label string) []string {
	n := rapid.IntRange(0, 4).Draw(t, label+"#")
	var out []string
	for i := 0; i < n; i++ {
		l := fmt.Sprintf("%s[%d]", label, i)
		var s string
		if rapid.IntRange(0, 4).Draw(t, l+"kind") == 0 {
			s = rapid.SampledFrom(invalidLines).Draw(t, l)
		} else {
			s = rapid.SampledFrom(validLines[section]).Draw(t, l)
		}
		out = append(out, withHostile(t, s, l))
	}
	return out
}

func yamlBytes(t *rapid.T, v any) []byte {
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatalf("yaml: %v", err)
	}
	return b
}

// genInput draws a config directory and the nodes of its clusters.
func genInput(t *rapid.T) ([]model.File, map[string][]model.Node, model.Diagnostics) {
	bal := map[string]any{
		"config_file": "/tmp/h.cfg",
		"socket_file": withHostile(t, "/tmp/h.sock", "socket"),
		"pid_file":    "/tmp/h.pid",
		"global":      drawLines(t, "global", "global"),
		"defaults":    drawLines(t, "defaults", "defaults"),
		"bind_address": withHostile(t, rapid.SampledFrom([]string{"127.0.0.1", "::1", "0.0.0.0"}).Draw(t, "bind"),
			"bind"),
	}
	port := 10000
	nextPort := func() int { port++; return port }
	metas := rapid.SliceOfNDistinct(rapid.SampledFrom([]string{"meta_a", "meta_b", "meta_c"}), 0, 3, rapid.ID[string]).Draw(t, "metas")
	mcs := map[string]any{}
	for _, m := range metas {
		mcs[m] = map[string]any{"port": nextPort(), "frontend": drawLines(t, "frontend", "meta."+m)}
	}
	bal["meta_clusters"] = mcs
	proxies := map[string]any{}
	for _, p := range rapid.SliceOfNDistinct(rapid.SampledFrom([]string{"px_a", "px_b"}), 0, 2, rapid.ID[string]).Draw(t, "proxies") {
		var ups []any
		for i := range rapid.IntRange(1, 3).Draw(t, p+".ups") {
			u := map[string]any{"host": withHostile(t, rapid.SampledFrom([]string{"10.9.9.9", "10.9.9.8", "::1"}).Draw(t, fmt.Sprintf("%s.up%d", p, i)), p+".host"),
				"port": rapid.IntRange(80, 82).Draw(t, fmt.Sprintf("%s.up%d.port", p, i))}
			if rapid.Bool().Draw(t, fmt.Sprintf("%s.up%d.mc", p, i)) {
				u["max_conn"] = 100
			}
			ups = append(ups, u)
		}
		px := map[string]any{"port": nextPort(), "upstreams": ups, "options": drawLines(t, "listen", "proxy."+p)}
		if rapid.Bool().Draw(t, p+".bind") {
			px["bind_address"] = "127.0.0.2"
		}
		proxies[p] = px
	}
	bal["proxies"] = proxies
	if rapid.Bool().Draw(t, "stats") {
		bal["stats"] = map[string]any{"port": nextPort(), "uri": withHostile(t, rapid.SampledFrom([]string{"/", "/stats"}).Draw(t, "uri"), "uri"),
			"timeouts": map[string]any{"connect": 4000, "server": "30s"}}
	}
	files := []model.File{
		{Path: "balancers/haproxy.yaml", Data: yamlBytes(t, bal)},
		{Path: "discovery/zookeeper.yaml", Data: []byte(zkYAML)},
	}

	nodes := map[string][]model.Node{}
	var nodeDiags model.Diagnostics
	clusters := rapid.SliceOfNDistinct(rapid.SampledFrom([]string{"c1", "c2", "c3", "c4", "web.api", "Z"}), 0, 5, rapid.ID[string]).Draw(t, "clusters")
	for _, c := range clusters {
		hp := map[string]any{
			"frontend": drawLines(t, "frontend", c+".frontend"),
			"backend":  drawLines(t, "backend", c+".backend"),
		}
		cl := map[string]any{"discovery": "zookeeper", "haproxy": hp}
		if len(metas) > 0 && rapid.Bool().Draw(t, c+".member") {
			cl["meta_cluster"] = rapid.SampledFrom(metas).Draw(t, c+".meta")
			acl := rapid.SampledFrom(validACLs).Draw(t, c+".acl")
			if rapid.IntRange(0, 5).Draw(t, c+".badacl") == 0 {
				acl = rapid.SampledFrom(invalidACLs).Draw(t, c+".acl!")
			}
			hp["acl"] = withHostile(t, acl, c+".acl")
			if rapid.Bool().Draw(t, c+".alsoport") {
				hp["port"] = nextPort()
			}
		} else {
			hp["port"] = nextPort()
		}
		switch rapid.IntRange(0, 3).Draw(t, c+".opts") {
		case 1:
			hp["server_options"] = withHostile(t, rapid.SampledFrom(validOptions).Draw(t, c+".o"), c+".o")
		case 2:
			hp["server_options"] = rapid.SampledFrom(badOptions).Draw(t, c+".o")
		}
		files = append(files, model.File{Path: "clusters/" + c + ".yaml", Data: yamlBytes(t, cl)})
		nodes[c], nodeDiags = genNodes(t, c, nodeDiags)
	}
	return files, nodes, nodeDiags
}

// genNodes draws nodes, half through DecodeNode from JSON (bad ones dropped
// there, as the writer does), half as raw model.Node values that only the
// renderer checks.
func genNodes(t *rapid.T, c string, ds model.Diagnostics) ([]model.Node, model.Diagnostics) {
	var out []model.Node
	for i := range rapid.IntRange(0, 8).Draw(t, c+".nodes") {
		l := fmt.Sprintf("%s.node%d", c, i)
		host := withHostile(t, rapid.SampledFrom(validHosts).Draw(t, l+".host"), l+".host")
		ip := withHostile(t, rapid.SampledFrom(validIPs).Draw(t, l+".ip"), l+".ip")
		port := rapid.SampledFrom([]int{80, 81, 8080, 0, 70000}).Draw(t, l+".port")
		var peer *model.Peer
		if rapid.Bool().Draw(t, l+".peer") {
			peer = &model.Peer{Name: withHostile(t, host, l+".pname"), IP: ip, Port: 1024}
		}
		if rapid.Bool().Draw(t, l+".raw") {
			out = append(out, model.Node{Host: host, IP: ip, Port: port, Peer: peer, Metadata: map[string]any{}})
			continue
		}
		obj := map[string]any{"host": host, "ip": ip, "port": port,
			"metadata": map[string]any{"k": withHostile(t, "vä", l+".md")}}
		if peer != nil {
			obj["peer"] = map[string]any{"name": peer.Name, "ip": peer.IP, "port": peer.Port}
		}
		data, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		n, err := model.DecodeNode(data)
		if err != nil {
			ds = append(ds, model.Diagnostic{File: "gen", Key: c, Message: err.Error()})
			continue
		}
		out = append(out, n)
	}
	return out, ds
}

// ---- the oracle ------------------------------------------------------------

type stanza struct {
	Header string
	Lines  []string
}

func isValid(section, text string) bool { return slices.Contains(validLines[section], text) }

func keep(section string, lines []model.Line) []string {
	var out []string
	for _, l := range lines {
		if isValid(section, l.Text) {
			out = append(out, l.Text)
		}
	}
	return out
}

func addrPort(ip string, port int) string {
	return netip.AddrPortFrom(netip.MustParseAddr(ip), uint16(port)).String()
}

// expectedServers is, per cluster, the distinct valid nodes in render order:
// a name listed with two addresses is left out (no Running is given).
func expectedServers(cfg *model.Config, nodes map[string][]model.Node) map[string][]model.Node {
	out := map[string][]model.Node{}
	for name := range cfg.Clusters {
		var ok []model.Node
		for _, n := range nodes[name] {
			if n.Validate() == nil {
				ok = append(ok, n)
			}
		}
		slices.SortFunc(ok, func(a, b model.Node) int {
			return cmp.Or(strings.Compare(a.Host, b.Host), cmp.Compare(a.Port, b.Port),
				netip.MustParseAddr(a.IP).Compare(netip.MustParseAddr(b.IP)))
		})
		ok = slices.CompactFunc(ok, func(a, b model.Node) bool {
			return a.Name() == b.Name() && netip.MustParseAddr(a.IP) == netip.MustParseAddr(b.IP)
		})
		var distinct []model.Node
		for i, n := range ok {
			twice := i > 0 && ok[i-1].Name() == n.Name() || i+1 < len(ok) && ok[i+1].Name() == n.Name()
			if !twice {
				distinct = append(distinct, n)
			}
		}
		out[name] = distinct
	}
	return out
}

// expect computes the stanzas of the config the renderer must produce for
// version 2.6 (no peers: the generated lines have no stick-table).
func expect(cfg *model.Config, nodes map[string][]model.Node) []stanza {
	b := cfg.Balancer
	var out []stanza
	g := stanza{"global", keep("global", b.Global)}
	if checkClean(b.SocketFile) {
		g.Lines = append(g.Lines, "stats socket "+b.SocketFile+" mode 600 level admin")
	}
	g.Lines = append(g.Lines, "stats timeout 2m", "server-state-file "+b.ConfigFile+".state")
	out = append(out, g)
	out = append(out, stanza{"defaults", append(keep("defaults", b.Defaults), "load-server-state-from-file global")})
	names := cfg.ClusterNames()
	for _, m := range b.MetaClusterNames() {
		mc := b.MetaClusters[m]
		s := stanza{"frontend " + m, bind(b.BindAddress, mc.Port)}
		s.Lines = append(s.Lines, keep("frontend", mc.Frontend)...)
		members := 0
		for _, c := range names {
			cl := cfg.Clusters[c]
			if cl.MetaCluster == m && slices.Contains(validACLs, cl.HAProxy.ACL) {
				s.Lines = append(s.Lines, "acl is_"+c+" "+cl.HAProxy.ACL, "use_backend "+c+" if is_"+c)
				members++
			}
		}
		if members > 0 {
			out = append(out, s)
		}
	}
	for _, c := range names {
		cl := cfg.Clusters[c]
		if cl.HAProxy.Port != 0 {
			s := stanza{"frontend fe:" + c, keep("frontend", cl.HAProxy.Frontend)}
			s.Lines = append(s.Lines, bind(b.BindAddress, cl.HAProxy.Port)...)
			s.Lines = append(s.Lines, "default_backend "+c)
			out = append(out, s)
		}
	}
	servers := expectedServers(cfg, nodes)
	for _, c := range names {
		cl := cfg.Clusters[c]
		s := stanza{"backend " + c, keep("backend", cl.HAProxy.Backend)}
		cookie := slices.ContainsFunc(cl.HAProxy.Backend, func(l model.Line) bool { return l.Text == "mode http" })
		opts := ""
		if slices.Contains(validOptions, cl.HAProxy.ServerOptions) {
			opts = " " + cl.HAProxy.ServerOptions
			if rest, ok := strings.CutPrefix(cl.HAProxy.ServerOptions, "weight 10"); ok {
				opts = rest + " weight 10" // the weight ends the line
			}
		}
		for _, n := range servers[c] {
			line := "server " + n.Name() + " " + addrPort(n.IP, n.Port)
			if cookie {
				line += " cookie " + n.Name()
			}
			s.Lines = append(s.Lines, line+opts)
		}
		out = append(out, s)
	}
	for _, p := range b.ProxyNames() {
		px := b.Proxies[p]
		s := stanza{"listen " + p, bind(px.BindAddress, px.Port)}
		s.Lines = append(s.Lines, keep("listen", px.Options)...)
		seen := map[string]bool{}
		for _, u := range px.Upstreams {
			name := u.Host + ":" + strconv.Itoa(u.Port)
			if seen[name] {
				continue
			}
			seen[name] = true
			addr := name
			if strings.Contains(u.Host, ":") {
				addr = addrPort(u.Host, u.Port)
			}
			line := "server " + name + " " + addr
			if u.MaxConn > 0 {
				line += " maxconn " + strconv.Itoa(u.MaxConn)
			}
			s.Lines = append(s.Lines, line)
		}
		out = append(out, s)
	}
	if st := b.Stats; st != nil {
		s := stanza{"listen stats", append(bind(st.BindAddress, st.Port), "mode http", "stats enable")}
		if checkClean(st.URI) {
			s.Lines = append(s.Lines, "stats uri "+st.URI)
		}
		if !slices.ContainsFunc(b.Defaults, func(l model.Line) bool { return strings.HasPrefix(l.Text, "timeout client ") }) {
			s.Lines = append(s.Lines, "timeout client 30s") // the renderer's default: neither stats nor defaults set it
		}
		s.Lines = append(s.Lines, "timeout connect "+st.TimeoutConnect, "timeout server "+st.TimeoutServer)
		out = append(out, s)
	}
	return out
}

// bind is the bind line for addr:port, none when addr cannot be written.
func bind(addr string, port int) []string {
	if !checkClean(addr) {
		return nil
	}
	return []string{"bind " + addr + ":" + strconv.Itoa(port)}
}

// checkClean is the oracle's notion of a string that may be written: no
// control characters, no Unicode line separators, valid UTF-8.
func checkClean(s string) bool {
	if !utf8Valid(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 {
			return false
		}
	}
	return true
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

var (
	headerRE  = regexp.MustCompile(`^(global|defaults|(frontend|backend|listen|peers) [A-Za-z0-9_.:-]+)$`)
	titles    = []string{"Auto-generated by Lighthouse", "Frontend stanzas for ACL meta clusters", "Per-cluster frontend definitions", "Per-cluster backend definitions", "Per-cluster peer listings", "Individual proxy definitions", "Listener for stats web interface"}
	commentOK = func(l string) bool { return l == "#" || strings.HasPrefix(l, "# ") && slices.Contains(titles, l[2:]) }
)

// parseStanzas splits a rendered config into stanzas, failing on any line
// that is not a blank line, a section comment, a stanza header or a
// directive line (a TAB, then clean text that does not start with a space).
func parseStanzas(t *rapid.T, cfg []byte) []stanza {
	if len(cfg) == 0 || cfg[len(cfg)-1] != '\n' {
		t.Fatalf("config does not end with a newline")
	}
	var out []stanza
	for i, l := range strings.Split(string(cfg[:len(cfg)-1]), "\n") {
		switch {
		case l == "" || commentOK(l):
		case headerRE.MatchString(l):
			out = append(out, stanza{Header: l})
		case strings.HasPrefix(l, "\t") && len(l) > 1 && l[1] != ' ' && l[1] != '\t' && checkClean(l[1:]) && !strings.HasSuffix(l, " ") && len(out) > 0:
			out[len(out)-1].Lines = append(out[len(out)-1].Lines, l[1:])
		default:
			t.Fatalf("line %d has no expected shape: %q", i+1, l)
		}
	}
	return out
}

// No string from YAML or from node data can add, split or reshape a config
// line: the config is exactly the oracle's stanzas, line for line, and the
// Backends match them.
func TestPropertyLineShapes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		files, nodes, _ := genInput(t)
		snap := model.Load(nil, files)
		res := render.Render(render.Input{Config: &snap.Config, Nodes: nodes, NodesSource: "gen", Version: v26})
		if snap.Config.Balancer == nil {
			if res.Config.Len() != 0 {
				t.Fatalf("config rendered without a balancer")
			}
			return
		}
		got := parseStanzas(t, res.Config.Bytes())
		want := expect(&snap.Config, nodes)
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Fatalf("stanzas (-want +got):\n%s\nconfig:\n%s\ndiagnostics:\n%s", diff, res.Config, res.Diagnostics)
		}
		// Every valid node appears exactly once in its backend, in Backends too.
		servers := expectedServers(&snap.Config, nodes)
		for c, ns := range servers {
			var names []string
			for _, s := range res.Backends[c] {
				names = append(names, s.Name)
			}
			var wantNames []string
			for _, n := range ns {
				wantNames = append(wantNames, n.Name())
			}
			if !slices.Equal(names, wantNames) {
				t.Fatalf("backend %s: Backends has %v, want %v", c, names, wantNames)
			}
		}
		if len(res.Backends) != len(snap.Config.Clusters) {
			t.Fatalf("Backends has %d entries for %d clusters", len(res.Backends), len(snap.Config.Clusters))
		}
		for _, d := range res.Diagnostics {
			if strings.ContainsAny(d.String(), "\n\r") {
				t.Fatalf("diagnostic spans lines: %q", d.String())
			}
		}
	})
}

// Identical bytes under any reordering of clusters, nodes and map keys.
func TestPropertyOrderIndependent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		files, nodes, _ := genInput(t)
		snap := model.Load(nil, files)
		first := render.Render(render.Input{Config: &snap.Config, Nodes: nodes, NodesSource: "gen", Version: v26})

		files2 := rapid.Permutation(files).Draw(t, "files")
		snap2 := model.Load(nil, files2)
		nodes2 := map[string][]model.Node{}
		keys := make([]string, 0, len(nodes))
		for k := range nodes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range rapid.Permutation(keys).Draw(t, "keys") {
			nodes2[k] = rapid.Permutation(nodes[k]).Draw(t, "nodes."+k)
		}
		second := render.Render(render.Input{Config: &snap2.Config, Nodes: nodes2, NodesSource: "gen", Version: v26})
		if first.Config.String() != second.Config.String() {
			t.Fatalf("config differs:\n%s", gocmp.Diff(first.Config.String(), second.Config.String()))
		}
		if !bytes.Equal(first.Skeleton, second.Skeleton) {
			t.Fatalf("skeleton differs")
		}
		if a, b := first.Diagnostics.String(), second.Diagnostics.String(); a != b {
			t.Fatalf("diagnostics differ:\n%s", gocmp.Diff(a, b))
		}
		if diff := gocmp.Diff(first.Backends, second.Backends); diff != "" {
			t.Fatalf("backends differ:\n%s", diff)
		}
	})
}

// A Renderer's render, reusing the work of earlier ones, is the render
// without them: over a sequence of inputs (config and nodes changing,
// sometimes not at all), each render of one Renderer equals a fresh render. The config
// snapshot is kept while the files stay the same, as the writer keeps it,
// so that renders replay the memo's structure; stick-table lines refer to
// peers sections, whose nodes come and go.
func TestPropertyMemoChangesNothing(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		files, nodes, _ := genInput(t)
		files = withStickTables(t, files)
		var rr render.Renderer
		var snap *model.Snapshot
		for step := range rapid.IntRange(1, 6).Draw(t, "steps") {
			switch rapid.IntRange(0, 6).Draw(t, fmt.Sprintf("change%d", step)) {
			case 0: // a new input altogether
				files, nodes, _ = genInput(t)
				files, snap = withStickTables(t, files), nil
			case 4: // a new config, the same nodes
				files, _, _ = genInput(t)
				files, snap = withStickTables(t, files), nil
			case 6: // the nodes of one cluster announce peers, or stop
				for k, v := range nodes {
					flipped := append([]model.Node(nil), v...)
					for i := range flipped {
						if flipped[i].Peer != nil {
							flipped[i].Peer = nil
						} else {
							flipped[i].Peer = &model.Peer{Name: flipped[i].Host, IP: flipped[i].IP, Port: 1024}
						}
					}
					nodes[k] = flipped
					break
				}
			case 5: // one node moves to another address
				for k, v := range nodes {
					if len(v) == 0 {
						continue
					}
					moved := append([]model.Node(nil), v...)
					i := rapid.IntRange(0, len(v)-1).Draw(t, "moved."+k)
					moved[i].IP = rapid.SampledFrom(validIPs).Draw(t, "newip."+k)
					nodes[k] = moved
					break
				}
			case 1: // the nodes of one cluster are shuffled or cut
				for k, v := range nodes {
					if rapid.Bool().Draw(t, "cut."+k) && len(v) > 0 {
						nodes[k] = v[:len(v)-1]
					} else {
						nodes[k] = rapid.Permutation(v).Draw(t, "perm."+k)
					}
					break
				}
			case 2: // the same input again
			case 3: // another source, version and node order
				nodes2 := map[string][]model.Node{}
				for k, v := range nodes {
					nodes2[k] = append([]model.Node(nil), v...)
				}
				nodes = nodes2
			}
			if snap == nil {
				snap = model.Load(nil, files)
			}
			version := rapid.SampledFrom([]model.Version{v26, {Major: 1, Minor: 5, Patch: 12}}).Draw(t, "version")
			src := rapid.SampledFrom([]string{"gen", "zookeeper"}).Draw(t, "src")
			fresh := render.Render(render.Input{Config: &snap.Config, Nodes: nodes, NodesSource: src, Version: version})
			memoed := rr.Render(render.Input{Config: &snap.Config, Nodes: nodes, NodesSource: src, Version: version})
			if fresh.Config.String() != memoed.Config.String() {
				t.Fatalf("config differs:\n%s", gocmp.Diff(fresh.Config.String(), memoed.Config.String()))
			}
			if !bytes.Equal(fresh.Skeleton, memoed.Skeleton) {
				t.Fatalf("skeleton differs")
			}
			if a, b := fresh.Diagnostics.String(), memoed.Diagnostics.String(); a != b {
				t.Fatalf("diagnostics differ:\n%s", gocmp.Diff(a, b))
			}
			if diff := gocmp.Diff(fresh.Backends, memoed.Backends); diff != "" {
				t.Fatalf("backends differ:\n%s", diff)
			}
		}
	})
}

// withStickTables adds, to the backends of some clusters, a stick-table
// line that refers to the peers section of a cluster.
func withStickTables(t *rapid.T, files []model.File) []model.File {
	var clusters []string
	for _, f := range files {
		if c, ok := strings.CutPrefix(f.Path, "clusters/"); ok {
			clusters = append(clusters, strings.TrimSuffix(c, ".yaml"))
		}
	}
	out := slices.Clone(files)
	for i, f := range out {
		c, ok := strings.CutPrefix(f.Path, "clusters/")
		if !ok || !rapid.Bool().Draw(t, "stick."+c) {
			continue
		}
		var doc map[string]any
		if yaml.Unmarshal(f.Data, &doc) != nil {
			continue // a file made invalid on purpose
		}
		hp, _ := doc["haproxy"].(map[string]any)
		lines, _ := hp["backend"].([]any)
		ref := rapid.SampledFrom(clusters).Draw(t, "stick.ref."+c)
		hp["backend"] = append(lines, "stick-table type ip size 1k peers "+ref, "stick on src")
		out[i].Data = yamlBytes(t, doc)
	}
	return out
}

// The memo's server lines follow a change of server settings alone.
func TestMemoFollowsServerSettings(t *testing.T) {
	nodes := map[string][]model.Node{"web": {
		{Host: "a.example", IP: "10.0.0.1", Port: 80, Metadata: map[string]any{}},
		{Host: "b.example", IP: "10.0.0.2", Port: 80, Metadata: map[string]any{}},
	}}
	cfgs := []string{
		"discovery: zookeeper\nhaproxy: {port: 8000, backend: [\"mode tcp\"]}\n",
		"discovery: zookeeper\nhaproxy: {port: 8000, backend: [\"mode tcp\"], server_options: \"check\"}\n",
		"discovery: zookeeper\nhaproxy: {port: 8000, backend: [\"mode http\"], server_options: \"check\"}\n",
		"discovery: zookeeper\nhaproxy: {port: 8000, backend: [\"mode http\"], server_options: \"weight 5\"}\n",
		"discovery: zookeeper\nhaproxy: {port: 8000, backend: [\"mode tcp\"]}\n",
	}
	var rr render.Renderer
	for i, c := range cfgs {
		snap := model.Load(nil, []model.File{
			{Path: "balancers/haproxy.yaml", Data: []byte("config_file: /tmp/h.cfg\nsocket_file: /tmp/h.sock\npid_file: /tmp/h.pid\n")},
			{Path: "discovery/zookeeper.yaml", Data: []byte(zkYAML)},
			{Path: "clusters/web.yaml", Data: []byte(c)},
		})
		fresh := render.Render(render.Input{Config: &snap.Config, Nodes: nodes, Version: v26})
		memoed := rr.Render(render.Input{Config: &snap.Config, Nodes: nodes, Version: v26})
		if fresh.Config.String() != memoed.Config.String() || gocmp.Diff(fresh.Backends, memoed.Backends) != "" {
			t.Fatalf("step %d: the memo's render differs:\n%s", i, gocmp.Diff(fresh.Config.String(), memoed.Config.String()))
		}
	}
}

// Server options keep their meaning through SplitWeight: the weight a line
// ends with is what a parse of the line finds, beside the very same
// options (the planner compares them byte for byte).
func TestPropertySplitWeight(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		words := rapid.SliceOfN(rapid.SampledFrom([]string{"check", "weight", "weight", "3", "0", "256", "257", "inter", "2000", "x", " ", "  ", "\t"}), 0, 8).Draw(t, "words")
		opts := strings.TrimSpace(strings.Join(words, " ")) // as model trims server_options
		rest, w := render.SplitWeight(opts)
		if w != 0 && (w < model.MinWeight || w > model.MaxWeight) {
			t.Fatalf("SplitWeight(%q) weight %d", opts, w)
		}
		if w == 0 && rest != opts {
			t.Fatalf("SplitWeight(%q) changed options without a weight: %q", opts, rest)
		}
		n := rapid.IntRange(model.MinWeight, model.MaxWeight).Draw(t, "n")
		line := rest
		if line != "" {
			line += " "
		}
		line += "weight " + strconv.Itoa(n)
		if again, w2 := render.SplitWeight(line); w2 != n || again != rest {
			t.Fatalf("SplitWeight(%q) = %q, %d; want %q, %d", line, again, w2, rest, n)
		}
	})
}
