package docparse

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sample imitates the layout of configuration.txt.
const sample = `                              version 9.9
                              2030/01/01

The following keywords are supported in the "global" section :

 * Process management and security
   - daemon
   - log
   - tune.old (deprecated)

 * Debugging
   - quiet


3.1. Process management and security
------------------------------------

4.1. Proxy keywords matrix
--------------------------

 keyword                              defaults   frontend   listen    backend
------------------------------------+----------+----------+---------+---------
acl                                       X (!)      X         X         X
bind                                      -          X         X         -
log                                  (*)  X          X         X         X
-- keyword -------------------------- defaults - frontend - listen -- backend -
option httpchk                            X          -         X         X
persist rdp-cookie                        X          -         X         X
transparent                 (deprecated)  X          -         X         X
------------------------------------+----------+----------+---------+---------
 keyword                              defaults   frontend   listen    backend


4.2. Alphabetically sorted keywords reference
---------------------------------------------

persist rdp-cookie
persist rdp-cookie(<name>)
  Enable RDP cookie-based persistence

5. Bind and server options
--------------------------
`

func TestParse(t *testing.T) {
	d, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := &Doc{Release: Release{9, 9}, Entries: []Entry{
		{Name: "acl", In: Proxies, NamedDefaultsOnly: true},
		{Name: "bind", In: Frontend | Listen},
		{Name: "daemon", In: Global},
		{Name: "log", In: Global | Proxies, Negatable: Proxies},
		{Name: "option httpchk", In: Defaults | Listen | Backend},
		{Name: "persist rdp-cookie", In: Defaults | Listen | Backend, Paren: true},
		{Name: "quiet", In: Global},
		{Name: "transparent", In: Defaults | Listen | Backend, Deprecated: true},
		{Name: "tune.old", In: Global, Deprecated: true},
	}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
	if n := d.Count(Global); n != 4 {
		t.Errorf("Count(Global) = %d, want 4", n)
	}
}

func TestParseRejectsUnexpectedRows(t *testing.T) {
	bad := strings.Replace(sample, "bind                                      -          X         X         -",
		"bind                                      -          X         X", 1)
	if _, err := Parse([]byte(bad)); err == nil || !strings.Contains(err.Error(), "unexpected text") {
		t.Errorf("Parse with a truncated matrix row: err = %v", err)
	}
	bad = strings.Replace(sample, "   - quiet", "   quiet", 1)
	if _, err := Parse([]byte(bad)); err == nil || !strings.Contains(err.Error(), "unexpected text") {
		t.Errorf("Parse with a malformed global list line: err = %v", err)
	}
	bad = strings.Replace(sample, "version 9.9", "", 1)
	if _, err := Parse([]byte(bad)); err == nil {
		t.Error("Parse without a version line succeeded")
	}
}

func TestMerge(t *testing.T) {
	r26 := Release{2, 6}
	byName := map[string]*Entry{"log": {Name: "log", In: Global | Proxies, Negatable: Proxies}}
	sup := []Addition{
		{Name: "log", Negatable: Global, From: Release{1, 5}},
		{Name: "master-worker", In: Global, From: Release{1, 8}, To: Release{3, 2}},
		{Name: "master-worker", In: Global, From: Release{3, 3}, Deprecated: true},
		{Name: "future", In: Global, From: Release{2, 7}},
		{Name: "past", In: Global, From: Release{1, 5}, To: Release{2, 5}},
	}
	if err := merge(byName, sup, r26); err != nil {
		t.Fatal(err)
	}
	if e := byName["log"]; e.Negatable != Global|Proxies {
		t.Errorf("log negatable = %b", e.Negatable)
	}
	if e := byName["master-worker"]; e == nil || e.In != Global || e.Deprecated {
		t.Errorf("master-worker = %+v", e)
	}
	if e := byName["future"]; e != nil {
		t.Errorf("an entry from 2.7 on was merged into 2.6: %+v", e)
	}
	if e := byName["past"]; e != nil {
		t.Errorf("an entry up to 2.5 was merged into 2.6: %+v", e)
	}
	for _, a := range []Addition{
		{Name: "log", In: Global, From: r26},                     // already documented
		{Name: "x", In: Frontend, Negatable: Backend, From: r26}, // negatable where not accepted
		{Name: "Bad Name", In: Global, From: r26},
		{Name: "y", From: r26},                                // adds nothing
		{Name: "z", In: Global},                               // no first release
		{Name: "w", In: Global, From: r26, To: Release{2, 5}}, // ends before it starts
	} {
		if err := merge(byName, []Addition{a}, r26); err == nil {
			t.Errorf("merge(%+v) succeeded", a)
		}
	}
	twice := []Addition{{Name: "a", In: Global, From: Release{2, 0}}, {Name: "a", In: Frontend, From: Release{2, 4}, To: Release{2, 8}}}
	if err := merge(map[string]*Entry{}, twice, r26); err == nil {
		t.Error("merge of two entries for the same keyword and release succeeded")
	}
}

// TestParseLayoutVariants covers the matrix rows that differ between
// releases: both markers on one row, the 1.9 misspelling, and a removed
// keyword with no section marked.
func TestParseLayoutVariants(t *testing.T) {
	text := strings.Replace(sample, "transparent                 (deprecated)  X          -         X         X",
		"transparent                 (deprecated)  X          -         X         X\n"+
			"option http-tunnel      (deprecated) (*)  X          X         X         -\n"+
			"option forceclose      (deprectated) (*)  X          X         X         X\n"+
			"appsession                                -          -         -         -", 1)
	d, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Entry{}
	for _, e := range d.Entries {
		got[e.Name] = e
	}
	if e := got["option http-tunnel"]; !e.Deprecated || e.Negatable != Defaults|Frontend|Listen {
		t.Errorf("option http-tunnel = %+v", e)
	}
	if e := got["option forceclose"]; !e.Deprecated || e.Negatable != Proxies {
		t.Errorf("option forceclose = %+v", e)
	}
	if e, ok := got["appsession"]; ok {
		t.Errorf("appsession, accepted nowhere, was kept: %+v", e)
	}
}

func TestParseRelease(t *testing.T) {
	for in, want := range map[string]Release{"2.6": {2, 6}, "1.5": {1, 5}, "3.10": {3, 10}} {
		if got, err := ParseRelease(in); err != nil || got != want {
			t.Errorf("ParseRelease(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "2", "2.6.1", "x.y", "-1.5", "2.6-dev"} {
		if got, err := ParseRelease(in); err == nil {
			t.Errorf("ParseRelease(%q) = %v, want an error", in, got)
		}
	}
	if !(Release{2, 6}).Before(Release{3, 0}) || (Release{3, 0}).Before(Release{2, 9}) || (Release{2, 6}).Before(Release{2, 6}) {
		t.Error("Before")
	}
}

// TestDocs uses releases older than any supplement entry, so that Build
// merges nothing into the sample.
func TestDocs(t *testing.T) {
	v := func(s string) []byte { return []byte(strings.Replace(sample, "version 9.9", "version "+s, 1)) }
	docs, err := Docs(map[string][]byte{
		"configuration-0.10.0.txt": v("0.10"),
		"configuration-0.9.0.txt":  v("0.9"),
		"management-0.9.0.txt":     []byte("ignored"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].Release != (Release{0, 9}) || docs[1].Release != (Release{0, 10}) {
		t.Errorf("Docs: releases %v, %v", docs[0].Release, docs[len(docs)-1].Release)
	}
	for name, files := range map[string]map[string][]byte{
		"two of one release": {"configuration-0.9.0.txt": v("0.9"), "configuration-0.9.1.txt.gz": v("0.9")},
		"name and version":   {"configuration-0.8.0.txt": v("0.9")},
		"none":               {"README": nil},
	} {
		if _, err := Docs(files); err == nil {
			t.Errorf("Docs (%s) succeeded", name)
		}
	}
}

func TestRead(t *testing.T) {
	var zbuf bytes.Buffer
	zw := gzip.NewWriter(&zbuf)
	zw.Write([]byte(sample))
	zw.Close()
	for name, in := range map[string][]byte{"plain": []byte(sample), "gzip": zbuf.Bytes()} {
		got, err := Read(bytes.NewReader(in))
		if err != nil || string(got) != sample {
			t.Errorf("Read(%s) = %d bytes, %v", name, len(got), err)
		}
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	d, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	a, err := Generate([]*Doc{d})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate([]*Doc{d})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("Generate output differs between runs")
	}
	if !bytes.HasPrefix(a, []byte("// Code generated ")) || !bytes.Contains(a, []byte("DO NOT EDIT.")) {
		t.Errorf("missing generated-code header:\n%s", a[:80])
	}
}

// TestGenerateSpans checks that releases that agree share one span and that
// a change or a gap starts a new one.
func TestGenerateSpans(t *testing.T) {
	doc := func(r Release, es ...Entry) *Doc { return &Doc{Release: r, Entries: es} }
	old := Entry{Name: "k", In: Frontend}
	neu := Entry{Name: "k", In: Frontend | Backend, Negatable: Backend, Deprecated: true}
	src, err := Generate([]*Doc{
		doc(Release{1, 0}, old), doc(Release{1, 1}, old), doc(Release{1, 2}, neu),
		doc(Release{1, 3}), doc(Release{1, 4}, neu, Entry{Name: "only", In: Global, Paren: true}),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"r1_0 release = iota",
		"r1_4: {Major: 1, Minor: 4},",
		"{\"k\", []span{\n\t\t{r1_0, r1_1, inFrontend, 0, 0},\n\t\t{r1_2, r1_2, inFrontend | inBackend, inBackend, deprecated},\n\t\t{r1_4, r1_4, inFrontend | inBackend, inBackend, deprecated},\n\t}},",
		"{\"only\", []span{{r1_4, r1_4, inGlobal, 0, parenArg}}},",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("generated source lacks %q:\n%s", want, src)
		}
	}
	if _, err := Generate([]*Doc{doc(Release{1, 1}), doc(Release{1, 0})}); err == nil {
		t.Error("Generate accepted documents out of order")
	}
}
