// The purity test: the core packages (model, render, plan and their
// subpackages) do no I/O, read no clock, start no goroutines, and depend on
// nothing of the shell.
package lighthouse_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var corePackages = []string{"model", "render", "plan"}

// bannedImports may not be imported directly by a core package. (Checking
// the dependency closure cannot catch os: fmt itself imports it.)
var bannedImports = map[string]bool{
	"os": true, "os/exec": true, "os/signal": true, "os/user": true,
	"net": true, "net/http": true, "syscall": true, "unsafe": true,
	"io/ioutil": true, "io/fs": true, "path/filepath": true,
	"log": true, "log/slog": true, "log/syslog": true,
	"math/rand": true, "math/rand/v2": true, "crypto/rand": true,
	"runtime": true, "plugin": true,
}

// bannedDeps may not appear anywhere in a core package's dependencies.
var bannedDeps = []string{
	"lighthouse/effects", "lighthouse/runtime", "lighthouse/cmd",
	"github.com/go-zookeeper/zk", "github.com/fsnotify/fsnotify",
}

// clockFuncs read the clock or wait on it.
var clockFuncs = map[string]bool{
	"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
	"AfterFunc": true, "Tick": true, "NewTimer": true, "NewTicker": true,
}

// impurities lists what in one Go source file breaks the rules.
func impurities(fset *token.FileSet, f *ast.File) []string {
	var out []string
	timeName := ""
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if bannedImports[p] {
			out = append(out, fset.Position(imp.Pos()).String()+": imports "+p)
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

func TestCoreIsPure(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	for _, core := range corePackages {
		err := filepath.WalkDir(core, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly|parser.ParseComments)
			if err != nil {
				return err
			}
			if isIgnoredBuild(f) {
				return nil
			}
			f, err = parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			checked++
			for _, p := range impurities(fset, f) {
				t.Error(p)
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if checked == 0 {
		t.Fatal("no core source files found")
	}
}

func isIgnoredBuild(f *ast.File) bool {
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if strings.HasPrefix(c.Text, "//go:build ignore") {
				return true
			}
		}
	}
	return false
}

func TestCoreDependsOnNoShell(t *testing.T) {
	var pkgs []string
	for _, core := range corePackages {
		if _, err := os.Stat(core); err == nil {
			pkgs = append(pkgs, "./"+core+"/...")
		}
	}
	out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range bannedDeps {
			if dep == banned || strings.HasPrefix(dep, banned+"/") {
				t.Errorf("a core package depends on %s", dep)
			}
		}
	}
}

// The checker itself finds what it must.
func TestImpuritiesFindsViolations(t *testing.T) {
	src := `package x
import (
	"os"
	clock "time"
)
func f() {
	go func() {}()
	_ = clock.Now()
	_ = clock.Duration(1)
	_ = os.Args
}`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := impurities(fset, f)
	want := []string{"x.go:3:2: imports os", "x.go:7:2: starts a goroutine", "x.go:8:6: reads the clock (time.Now)"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
