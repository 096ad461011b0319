// The layering test: every rule about what may import what, and what the
// pure core may do, in one place, each with its reason. The checkers are
// tested themselves on code made to break each rule.
package lighthouse_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// layer is a group of packages (the package named, below the module, and
// its subpackages, unless a longer layer name claims them) and the layers
// its production code may import. Test files are not bound.
type layer struct {
	name string
	// pure: the layer's files do no I/O, read no clock and start no
	// goroutines (see impurities).
	pure bool
	may  []string
	why  string
}

// layers are the layers, from the bottom. Imports only point down:
// cmd → runtime → plan → render → model, with effects beside the core,
// importing only model.
var layers = []layer{
	{name: "model", pure: true, may: []string{"model"},
		why: "the vocabulary every layer shares (config, nodes, versions, server states, the rendered text): it depends on nothing of ours"},
	{name: "render", pure: true, may: []string{"model", "render"},
		why: "turns a config and its nodes into HAProxy's text; it knows nothing of plans or of how they are carried out"},
	{name: "plan", pure: true, may: []string{"model", "render", "plan"},
		why: "the writer's decisions, as values: plans from what render makes and what HAProxy runs"},
	{name: "plan/registration", pure: true, may: []string{"model", "plan/registration"},
		why: "the reporter's decisions, as values: registry plans from check results and what the registry holds; it needs nothing of the writer's"},
	{name: "effects", may: []string{"model", "effects"},
		why: "the shell's hands (ZooKeeper, files, HAProxy's socket and process, probes): they take and return their own rows, declared in model, so that no change of the planner reaches them and no socket format reaches the planner"},
	{name: "runtime", may: []string{"model", "render", "plan", "plan/registration", "runtime"},
		why: "the loops: they declare the small interfaces they need, which effects satisfy and cmd wires, and translate effects' rows into the planner's input; never importing effects keeps them testable against any implementation"},
	{name: "internal", may: []string{"model", "internal"},
		why: "the helpers that start real servers for tests and the demo: below the product, so that nothing of the product depends on test scaffolding"},
	{name: "cmd", may: []string{"model", "render", "plan", "plan/registration", "effects", "runtime"},
		why: "the one place that wires effects into the loops"},
	{name: "golden", may: []string{"model", "render", "plan", "plan/registration", "golden"},
		why: "the fixtures and their generators: they describe the core's output"},
	{name: "examples", may: []string{"model", "effects", "internal", "examples"},
		why: "the demo and its apps run the product as an operator does: its binary and its shell, never its loops"},
	{name: "e2e", may: nil, why: "end-to-end tests drive the built binary only"},
	{name: "dist", may: nil, why: "packaging: it drives the built binary only"},
}

const module = "lighthouse"

// layerOf returns the layer of a package of this module: the longest
// layer name that is the package's path or a parent of it. ok is false for
// a package in no layer.
func layerOf(pkg string) (l layer, ok bool) {
	rest := strings.TrimPrefix(pkg, module+"/")
	for _, c := range layers {
		if (rest == c.name || strings.HasPrefix(rest, c.name+"/")) && len(c.name) > len(l.name) {
			l, ok = c, true
		}
	}
	return l, ok
}

// layerViolations checks a graph of this module's packages (package →
// its direct imports) against the layers.
func layerViolations(graph map[string][]string) []string {
	var out []string
	pkgs := make([]string, 0, len(graph))
	for p := range graph {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		if p == module {
			continue // the root holds this test only
		}
		l, ok := layerOf(p)
		if !ok {
			out = append(out, p+": in no layer; add it to layers, with why")
			continue
		}
		for _, imp := range graph[p] {
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue
			}
			to, ok := layerOf(imp)
			if !ok || !slices.Contains(l.may, to.name) {
				out = append(out, p+" imports "+imp+": "+l.name+" may import only "+strings.Join(l.may, ", ")+" ("+l.why+")")
			}
		}
	}
	return out
}

// bannedImports may not be imported by a pure layer's files, with why.
// (Checking the dependency closure cannot catch os: fmt itself imports it.)
var bannedImports = map[string]string{
	"os": "files and the environment", "os/exec": "processes", "os/signal": "signals", "os/user": "the system's users",
	"net": "the network", "net/http": "the network", "syscall": "the system", "unsafe": "memory safety",
	"io/ioutil": "files", "io/fs": "files", "path/filepath": "the host's paths",
	"log": "logging", "log/slog": "logging", "log/syslog": "logging",
	"math/rand": "randomness", "math/rand/v2": "randomness", "crypto/rand": "randomness",
	"sync": "shared state (the core starts no goroutine, so it guards nothing)", "sync/atomic": "shared state",
	"runtime": "the Go runtime", "plugin": "loading code",
}

// bannedDeps may not be anywhere in the dependencies of a pure layer: the
// shell, and the libraries only the shell needs.
var bannedDeps = []string{
	"lighthouse/effects", "lighthouse/runtime", "lighthouse/cmd", "lighthouse/internal",
	"github.com/go-zookeeper/zk", "github.com/fsnotify/fsnotify", "github.com/prometheus",
}

// clockFuncs read the clock or wait on it: time is an input of the core.
var clockFuncs = map[string]bool{
	"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
	"AfterFunc": true, "Tick": true, "NewTimer": true, "NewTicker": true,
}

// impurities lists what in one Go source file of a pure layer breaks the
// rules: a banned import, a go statement, a clock read.
func impurities(fset *token.FileSet, f *ast.File) []string {
	var out []string
	timeName := ""
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if why, ok := bannedImports[p]; ok {
			out = append(out, fset.Position(imp.Pos()).String()+": imports "+p+" ("+why+")")
		}
		if p == "time" {
			timeName = "time"
			if imp.Name != nil {
				timeName = imp.Name.Name
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.GoStmt:
			out = append(out, fset.Position(x.Pos()).String()+": starts a goroutine")
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok && timeName != "" && id.Name == timeName && clockFuncs[x.Sel.Name] {
				out = append(out, fset.Position(x.Pos()).String()+": reads the clock (time."+x.Sel.Name+")")
			}
		}
		return true
	})
	return out
}

// depViolations lists the banned packages among deps.
func depViolations(deps []string) []string {
	var out []string
	for _, dep := range deps {
		for _, banned := range bannedDeps {
			if dep == banned || strings.HasPrefix(dep, banned+"/") {
				out = append(out, "a pure package depends on "+dep)
			}
		}
	}
	return out
}

// isLayer says whether name is a layer's name.
func isLayer(name string) bool {
	return slices.ContainsFunc(layers, func(l layer) bool { return l.name == name })
}

func goList(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestLayers(t *testing.T) {
	graph := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(goList(t, "-f", "{{.ImportPath}}:{{join .Imports \" \"}}", "./...")), "\n") {
		pkg, imps, _ := strings.Cut(line, ":")
		graph[pkg] = strings.Fields(imps)
	}
	if len(graph) < 10 {
		t.Fatalf("only %d packages listed", len(graph))
	}
	for _, v := range layerViolations(graph) {
		t.Error(v)
	}
}

func TestPureLayersArePure(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	for _, l := range layers {
		if !l.pure {
			continue
		}
		err := filepath.WalkDir(l.name, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || path != l.name && isLayer(filepath.ToSlash(path))) {
				return filepath.SkipDir // another layer's files are checked with it
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			checked++
			for _, p := range impurities(fset, f) {
				t.Error(p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 30 {
		t.Fatalf("checked only %d files of the pure layers", checked)
	}
	var pkgs []string
	for _, l := range layers {
		if l.pure {
			pkgs = append(pkgs, "./"+l.name+"/...")
		}
	}
	for _, v := range depViolations(strings.Fields(goList(t, append([]string{"-deps"}, pkgs...)...))) {
		t.Error(v)
	}
}

// The checkers find what they must, on code and graphs made to break each
// rule, and nothing on ones that keep them.
func TestLayeringCheckersFindViolations(t *testing.T) {
	src := `package x
import (
	"os"
	"sync"
	clock "time"
)
func f() {
	go func() {}()
	_ = clock.Now()
	_ = clock.Duration(1)
	_ = os.Args
	var mu sync.Mutex
	_ = mu
}`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := impurities(fset, f)
	want := []string{
		"x.go:3:2: imports os (files and the environment)",
		"x.go:4:2: imports sync (shared state (the core starts no goroutine, so it guards nothing))",
		"x.go:8:2: starts a goroutine",
		"x.go:9:6: reads the clock (time.Now)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("impurities:\ngot  %q\nwant %q", got, want)
	}

	graph := map[string][]string{
		"lighthouse/model":             {"fmt"},
		"lighthouse/model/configs":     {"lighthouse/model", "lighthouse/render"},
		"lighthouse/render":            {"lighthouse/model"},
		"lighthouse/plan":              {"lighthouse/render", "lighthouse/model/configs"},
		"lighthouse/effects/haproxy":   {"lighthouse/model", "lighthouse/plan"},
		"lighthouse/runtime":           {"lighthouse/plan", "lighthouse/effects/zk"},
		"lighthouse/cmd/lighthouse":    {"lighthouse/runtime", "lighthouse/effects/zk"},
		"lighthouse/tools/x":           {"lighthouse/model"},
		"lighthouse/plan/registration": {"lighthouse/model", "lighthouse/plan"},
	}
	gotV := layerViolations(graph)
	wantPrefixes := []string{
		"lighthouse/effects/haproxy imports lighthouse/plan: effects may import only model, effects",
		"lighthouse/model/configs imports lighthouse/render: model may import only model",
		"lighthouse/plan/registration imports lighthouse/plan: plan/registration may import only model, plan/registration",
		"lighthouse/runtime imports lighthouse/effects/zk: runtime may import only",
		"lighthouse/tools/x: in no layer",
	}
	if len(gotV) != len(wantPrefixes) {
		t.Fatalf("layer violations:\n%s", strings.Join(gotV, "\n"))
	}
	for i, w := range wantPrefixes {
		if !strings.HasPrefix(gotV[i], w) {
			t.Errorf("violation %d: %q, want it to start %q", i, gotV[i], w)
		}
	}

	deps := depViolations([]string{"fmt", "lighthouse/model", "lighthouse/effects/zk", "github.com/go-zookeeper/zk", "github.com/prometheus/client_golang/prometheus"})
	if len(deps) != 3 {
		t.Errorf("banned dependencies: %q", deps)
	}
}
