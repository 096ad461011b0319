package render

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// forbidden are the imports that would let the renderer reach the world:
// files, network, processes, logging, randomness, concurrency.
var forbidden = map[string]bool{
	"os": true, "os/exec": true, "os/signal": true, "net": true, "net/http": true, "syscall": true,
	"log": true, "log/slog": true, "math/rand": true, "math/rand/v2": true, "crypto/rand": true,
	"io/ioutil": true, "unsafe": true, "sync": true, "sync/atomic": true, "time": true,
	"lighthouse/effects": true, "lighthouse/runtime": true, "lighthouse/cmd": true,
	"github.com/go-zookeeper/zk": true, "github.com/fsnotify/fsnotify": true,
}

// TestPurity checks the non-test Go files of render and its subpackages
// (render/keywords included; internal code generators, which are commands,
// excepted): no forbidden direct import, no go statement, no clock read.
// `go list -deps` cannot do this: fmt itself imports os.
func TestPurity(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if f.Name.Name == "main" {
			return nil // a generator run by hand (go run), not part of the renderer
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if forbidden[p] {
				t.Errorf("%s imports %q: render must stay pure", path, p)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s: go statement at %s: render must not start goroutines", path, fset.Position(x.Pos()))
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok && id.Name == "time" && (x.Sel.Name == "Now" || x.Sel.Name == "Since") {
					t.Errorf("%s: clock read at %s", path, fset.Position(x.Pos()))
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 4 {
		t.Errorf("checked only %d files; is the test running in the render directory?", checked)
	}
}
