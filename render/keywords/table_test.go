package keywords

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lighthouse/model"
	"lighthouse/render/keywords/docparse"
)

// docsDir is where the configuration.txt of every release is kept:
// $LIGHTHOUSE_HAPROXY_DOCS, else ../shared/haproxy/docs beside the
// repository (as for .ci/install-deps' sources).
func docsDir() string {
	if d := os.Getenv("LIGHTHOUSE_HAPROXY_DOCS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "haproxy", "docs")
}

// sizes counts the keywords of every compiled table, as docparse.Doc.Size
// counts those of a parsed document.
func sizes() []docparse.Size {
	var out []docparse.Size
	for _, v := range Releases() {
		t, _ := For(v)
		s := docparse.Size{Release: docparse.Release{Major: v.Major, Minor: v.Minor}}
		all := map[string]bool{}
		for i, sec := range Sections() {
			kws := t.Keywords(sec)
			s.Sections[i] = len(kws)
			for _, kw := range kws {
				all[kw] = true
			}
		}
		s.Total = len(all)
		out = append(out, s)
	}
	return out
}

// TestSizes compares the size of each compiled table with
// testdata/sizes.txt, which the generator writes from the documents: the
// file shows, reviewed as a diff, how each regeneration changes each
// release's table.
func TestSizes(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "sizes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := docparse.FormatSizes(sizes()); !bytes.Equal(got, want) {
		t.Errorf("testdata/sizes.txt does not match the tables; run go generate ./render/keywords (-file +tables):\n%s",
			cmp.Diff(string(want), string(got)))
	}
}

// TestTableUpToDate re-runs the generator on the documents, when they are
// at hand, and checks that table_gen.go and testdata/sizes.txt are what it
// writes.
func TestTableUpToDate(t *testing.T) {
	dir := docsDir()
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s not found (set LIGHTHOUSE_HAPROXY_DOCS)", dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range ents {
		if !docparse.IsDocName(e.Name()) {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		text, err := docparse.Read(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = text
	}
	docs, err := docparse.Docs(files)
	if err != nil {
		t.Fatal(err)
	}
	src, err := docparse.Generate(docs)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("table_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, committed) {
		t.Errorf("table_gen.go differs from the generator's output; run go generate ./render/keywords:\n%s",
			cmp.Diff(string(committed), string(src)))
	}
	var sz []docparse.Size
	for _, d := range docs {
		sz = append(sz, d.Size())
	}
	if diff := cmp.Diff(sz, sizes()); diff != "" {
		t.Errorf("documents and tables differ in size (-docs +tables):\n%s", diff)
	}
	if len(docs) != len(releases) {
		t.Errorf("%d documents, %d tables", len(docs), len(releases))
	}
}

// TestSpans checks the shape of the generated rows: names sorted and
// distinct, spans in release order, not overlapping, each accepting some
// section and negatable only where it accepts.
func TestSpans(t *testing.T) {
	for i := range specs {
		sp := &specs[i]
		if i > 0 && specs[i-1].name >= sp.name {
			t.Errorf("%q after %q", sp.name, specs[i-1].name)
		}
		if len(sp.spans) == 0 {
			t.Errorf("%q has no span", sp.name)
		}
		for j, s := range sp.spans {
			if s.from > s.to || int(s.to) >= len(releases) || j > 0 && s.from <= sp.spans[j-1].to {
				t.Errorf("%q: span %d runs %d to %d", sp.name, j, s.from, s.to)
			}
			if s.in == 0 || s.neg&^s.in != 0 {
				t.Errorf("%q: span %d: in %b, neg %b", sp.name, j, s.in, s.neg)
			}
		}
	}
}

func TestReleases(t *testing.T) {
	rs := Releases()
	if len(rs) != 20 || rs[0] != (model.Version{Major: 1, Minor: 5}) || rs[len(rs)-1] != (model.Version{Major: 3, Minor: 4}) {
		t.Fatalf("Releases() = %v", rs)
	}
	for i, v := range rs {
		if i > 0 && rs[i-1].Compare(v) >= 0 {
			t.Errorf("Releases() out of order at %v", v)
		}
		if tab, note := For(v); note != "" || tab.Release() != v {
			t.Errorf("For(%v) = table %v, note %q", v, tab.Release(), note)
		}
	}
	rs[0].Major = 9
	if Releases()[0].Major != 1 {
		t.Error("Releases returns shared storage")
	}
}
