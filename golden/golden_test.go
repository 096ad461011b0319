package golden

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// update rewrites the want/ files of every golden case (`make golden`).
// It is the only -update flag of the project.
var update = flag.Bool("update", false, "rewrite the want/ files of the golden cases")

// caseDirs lists the case directories under root, sorted.
func caseDirs(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(root, e.Name()))
		}
	}
	sort.Strings(dirs)
	if len(dirs) == 0 {
		t.Fatalf("no golden cases under %s", root)
	}
	return dirs
}

// checkGolden compares got with the file at path, or rewrites the file under
// -update. With omitEmpty, an empty got means the file must not exist.
func checkGolden(t *testing.T, path string, got []byte, omitEmpty bool) {
	t.Helper()
	if *update {
		if omitEmpty && len(got) == 0 {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
			return
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil && !(omitEmpty && errors.Is(err, fs.ErrNotExist)) {
		t.Fatalf("%v (run `go test ./golden -update` to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (-want +got); run `go test ./golden -update` and review the diff:\n%s",
			path, cmp.Diff(string(want), string(got)))
	}
}
