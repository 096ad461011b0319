package docparse

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// realDocs parses the configuration.txt of every release, kept in
// $LIGHTHOUSE_HAPROXY_DOCS or ../shared/haproxy/docs beside the repository;
// the test is skipped when there are none.
func realDocs(t *testing.T) map[Release]*Doc {
	t.Helper()
	dir := os.Getenv("LIGHTHOUSE_HAPROXY_DOCS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "..", "shared", "haproxy", "docs")
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s not found (set LIGHTHOUSE_HAPROXY_DOCS)", dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range ents {
		if !IsDocName(e.Name()) {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		text, err := Read(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = text
	}
	docs, err := Docs(files)
	if err != nil {
		t.Fatal(err)
	}
	out := map[Release]*Doc{}
	for _, d := range docs {
		out[d.Release] = d
	}
	return out
}

// TestEveryRelease checks that the parser reads every release's document
// and that the counts are sane: no section shrinks to nothing, and no
// release loses more than a handful of keywords (2.1 drops the 25 req*/rsp*
// keywords).
func TestEveryRelease(t *testing.T) {
	docs := realDocs(t)
	var prev *Doc
	for major := 1; major <= 3; major++ {
		for minor := 0; minor <= 9; minor++ {
			d := docs[Release{major, minor}]
			if d == nil {
				continue
			}
			s := d.Size()
			for i, min := range [5]int{50, 100, 80, 150, 120} {
				if s.Sections[i] < min {
					t.Errorf("%s: section %d has %d keywords, expected at least %d", d.Release, i, s.Sections[i], min)
				}
			}
			if prev != nil && s.Total < prev.Size().Total-30 {
				t.Errorf("%s has %d keywords, %s had %d", d.Release, s.Total, prev.Release, prev.Size().Total)
			}
			prev = d
		}
	}
	if len(docs) != 20 {
		t.Errorf("%d documents, want 20 (1.5 to 3.4)", len(docs))
	}
}

// TestSpotChecks compares entries with what the documents say (line
// references are to each release's configuration.txt).
func TestSpotChecks(t *testing.T) {
	docs := realDocs(t)
	tests := []struct {
		rel  Release
		name string
		want Entry // zero: absent
	}{
		{Release{1, 5}, "appsession", Entry{In: Listen | Backend}},
		{Release{1, 6}, "appsession", Entry{}}, // a row with no section marked
		{Release{2, 0}, "reqadd", Entry{In: Frontend | Listen | Backend, Deprecated: true}},
		{Release{2, 1}, "reqadd", Entry{}},
		{Release{2, 4}, "nbproc", Entry{In: Global}},
		{Release{2, 5}, "nbproc", Entry{}},
		{Release{2, 2}, "http-after-response", Entry{In: Frontend | Listen | Backend}},
		{Release{2, 5}, "http-after-response", Entry{In: Proxies, NamedDefaultsOnly: true}},
		{Release{2, 9}, "guid", Entry{}},
		{Release{3, 0}, "guid", Entry{In: Frontend | Listen | Backend}},
		{Release{1, 9}, "option forceclose", Entry{In: Proxies, Negatable: Proxies, Deprecated: true}}, // "(deprectated) (*)"
		{Release{2, 0}, "option http-tunnel", Entry{In: Defaults | Frontend | Listen, Negatable: Defaults | Frontend | Listen, Deprecated: true}},
		{Release{3, 4}, "option transparent", Entry{In: Defaults | Listen | Backend, Negatable: Defaults | Listen | Backend, Deprecated: true}},
		{Release{2, 6}, "persist rdp-cookie", Entry{In: Defaults | Listen | Backend, Paren: true}},
		{Release{3, 4}, "tune.quic.cc-hystart", Entry{In: Global, Deprecated: true}},
		{Release{2, 6}, "master-worker", Entry{In: Global}},                   // supplement
		{Release{3, 4}, "master-worker", Entry{In: Global, Deprecated: true}}, // supplement
		{Release{2, 6}, "log", Entry{In: Global | Proxies, Negatable: Global | Proxies}},
	}
	for _, tt := range tests {
		d := docs[tt.rel]
		if d == nil {
			t.Errorf("no document for %s", tt.rel)
			continue
		}
		var got Entry
		for _, e := range d.Entries {
			if e.Name == tt.name {
				got = e
				got.Name = ""
			}
		}
		if got != tt.want {
			t.Errorf("%s: %q = %+v, want %+v", tt.rel, tt.name, got, tt.want)
		}
	}
}
