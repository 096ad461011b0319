package docparse

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"lighthouse/internal/testenv"
)

func TestSupplementEntries(t *testing.T) {
	for _, a := range supplement {
		if err := a.check(); err != nil {
			t.Error(err)
		}
	}
	// Entries of one keyword must not overlap, whatever documents exist.
	for i, a := range supplement {
		for _, b := range supplement[i+1:] {
			if a.Name == b.Name && (b.appliesTo(a.From) || a.appliesTo(b.From)) {
				t.Errorf("supplement: two entries for %q overlap", a.Name)
			}
		}
	}
}

// TestSupplementAgreesWithHAProxy runs the Example of every supplement entry
// through "haproxy -c" of each installed release in the entry's range: one
// config per release holds every example, in each section the entry adds. A
// release must accept it with no warning about an example line other than a
// deprecation. Entries whose Build option the binary lacks are left out.
// Skipped under -short.
func TestSupplementAgreesWithHAProxy(t *testing.T) {
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		rel := Release{r.Version.Major, r.Version.Minor}
		features := buildFeatures(t, r.Binary)
		cfg, lines, n := supplementConfig(rel, features)
		if n == 0 {
			t.Skipf("no supplement entry with an example applies to %s", rel)
		}
		path := filepath.Join(t.TempDir(), "supplement.cfg")
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(r.Binary, "-c", "-f", path).CombinedOutput()
		if err != nil {
			t.Errorf("haproxy -c rejects the supplement's examples for %s: %v", rel, err)
		}
		for _, l := range strings.Split(string(out), "\n") {
			m := parsingLineRe.FindStringSubmatch(l)
			if m == nil {
				if err != nil && strings.Contains(l, "[ALERT]") {
					t.Log(l)
				}
				continue
			}
			n, _ := strconv.Atoi(m[1])
			what, ours := lines[n]
			switch {
			case !ours:
				t.Errorf("a line the test adds draws a message: %s", l)
			case strings.Contains(l, "[ALERT]") || !strings.Contains(l, "deprecated"):
				t.Errorf("%s: %s", what, l)
			}
		}
		if t.Failed() {
			t.Logf("config:\n%s", cfg)
		}
	})
}

// parsingLineRe finds the config line number in an HAProxy message
// ("parsing [/tmp/x.cfg:12] : ...").
var parsingLineRe = regexp.MustCompile(`parsing \[[^]]*:(\d+)\]`)

// buildFeatures returns the "+NAME" options of the feature list that
// "haproxy -vv" prints.
func buildFeatures(t *testing.T, bin string) map[string]bool {
	out, err := exec.Command(bin, "-vv").Output()
	if err != nil {
		t.Fatalf("%s -vv: %v", bin, err)
	}
	fs := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "Feature list :"); ok {
			for _, f := range strings.Fields(rest) {
				if name, ok := strings.CutPrefix(f, "+"); ok {
					fs[name] = true
				}
			}
		}
	}
	if len(fs) == 0 {
		t.Fatalf("%s -vv prints no feature list", bin)
	}
	return fs
}

// supplementConfig returns a config holding the example of every entry that
// applies to rel and that a build with features knows, the entry and section
// of each example line by line number, and how many entries it holds.
func supplementConfig(rel Release, features map[string]bool) (cfg string, lines map[int]string, entries int) {
	var checked []Addition
	for _, a := range supplement {
		if a.Example != nil && a.appliesTo(rel) && (a.Build == "" || features[a.Build]) {
			checked = append(checked, a)
		}
	}
	sections := []struct {
		bit    Set
		header []string
	}{
		{Global, []string{"global"}},
		// The proxies inherit this one; the examples go into "t".
		{0, []string{"defaults d", "    mode http", "    timeout connect 1s", "    timeout client 1s", "    timeout server 1s"}},
		{Defaults, []string{"defaults t"}},
		{Frontend, []string{"frontend f from d", "    bind 127.0.0.1:18080", "    default_backend b"}},
		{Listen, []string{"listen l from d", "    bind 127.0.0.1:18081"}},
		{Backend, []string{"backend b from d"}},
	}
	lines = map[int]string{}
	var b strings.Builder
	n := 0
	write := func(s string) {
		b.WriteString(s + "\n")
		n++
	}
	for _, sec := range sections {
		for _, h := range sec.header {
			write(h)
		}
		for _, a := range checked {
			in := a.In
			if in == 0 {
				in = a.Negatable
			}
			if in&sec.bit == 0 {
				continue
			}
			for _, l := range a.Example {
				write("    " + l)
				lines[n] = fmt.Sprintf("%s (in %s)", a.Name, strings.Fields(sec.header[0])[0])
			}
		}
	}
	return b.String(), lines, len(checked)
}
