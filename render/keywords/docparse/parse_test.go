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
	want := &Doc{Version: "9.9", Entries: []Entry{
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
	byName := map[string]*Entry{"log": {Name: "log", In: Global | Proxies, Negatable: Proxies}}
	if err := merge(byName, []Addition{{Name: "log", Negatable: Global}, {Name: "master-worker", In: Global}}); err != nil {
		t.Fatal(err)
	}
	if e := byName["log"]; e.Negatable != Global|Proxies {
		t.Errorf("log negatable = %b", e.Negatable)
	}
	if e := byName["master-worker"]; e == nil || e.In != Global {
		t.Errorf("master-worker = %+v", e)
	}
	for _, a := range []Addition{
		{Name: "log", In: Global},                     // already documented
		{Name: "x", In: Frontend, Negatable: Backend}, // negatable where not accepted
		{Name: "Bad Name", In: Global},
	} {
		if err := merge(byName, []Addition{a}); err == nil {
			t.Errorf("merge(%+v) succeeded", a)
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
	a, err := Generate(d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(d)
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
