package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"lighthouse/model"
)

// SupportedHAProxy lists the HAProxy releases the project supports and tests
// against: Debian 12's package (2.6) and the upstream LTS releases that
// .ci/install-deps builds from ../shared/haproxy/src.
var SupportedHAProxy = []string{"2.6", "2.8", "3.0", "3.2", "3.4"}

// HAProxyRelease is one installed HAProxy binary.
type HAProxyRelease struct {
	// Name is the minor release, "2.6" … "3.4"; subtests are named
	// "haproxy-" + Name.
	Name string
	// Binary is the executable's absolute path.
	Binary string
	// Version is what `Binary -v` says.
	Version model.Version
}

// String returns "haproxy-X.Y", the name of the release's subtests.
func (r HAProxyRelease) String() string { return "haproxy-" + r.Name }

// HAProxyCacheDir is where .ci/install-deps keeps the releases it builds:
// $LIGHTHOUSE_HAPROXY_CACHE, else ~/.cache/lighthouse/haproxy (the links
// bin/haproxy-X.Y point at the builds).
func HAProxyCacheDir() string {
	if d := os.Getenv("LIGHTHOUSE_HAPROXY_CACHE"); d != "" {
		return d
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "lighthouse", "haproxy")
}

var (
	releasesOnce sync.Once
	releasesAll  []HAProxyRelease
	releasesErrs []string
)

// findReleases looks every supported release up once per test binary:
// Debian's haproxy (on PATH or in /usr/sbin) for 2.6, the cache's
// bin/haproxy-X.Y for the others. A binary whose -v names another release
// than expected is reported, not used.
func findReleases() ([]HAProxyRelease, []string) {
	releasesOnce.Do(func() {
		cache := HAProxyCacheDir()
		for _, name := range SupportedHAProxy {
			var bin string
			if p := filepath.Join(cache, "bin", "haproxy-"+name); cache != "" && isExecutable(p) {
				bin = p
			} else if p := LookPath("haproxy"); p != "" && name == debianHAProxy {
				bin = p
			}
			if bin == "" {
				continue
			}
			if abs, err := filepath.EvalSymlinks(bin); err == nil {
				bin = abs
			}
			out, err := exec.Command(bin, "-v").Output()
			if err != nil {
				releasesErrs = append(releasesErrs, fmt.Sprintf("%s -v: %v", bin, err))
				continue
			}
			v, err := model.ParseVersion(string(out))
			if err != nil {
				releasesErrs = append(releasesErrs, fmt.Sprintf("%s -v: %v", bin, err))
				continue
			}
			if got := fmt.Sprintf("%d.%d", v.Major, v.Minor); got != name {
				releasesErrs = append(releasesErrs, fmt.Sprintf("%s is HAProxy %s, expected %s", bin, v, name))
				continue
			}
			releasesAll = append(releasesAll, HAProxyRelease{Name: name, Binary: bin, Version: v})
		}
	})
	return releasesAll, releasesErrs
}

// debianHAProxy is the release of Debian 12's haproxy package.
const debianHAProxy = "2.6"

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// wantedReleases returns the releases LIGHTHOUSE_HAPROXY selects: all
// supported ones when it is unset or "all", else a comma-separated list
// ("3.4", "2.6,3.4").
func wantedReleases() ([]string, error) {
	sel := strings.TrimSpace(os.Getenv("LIGHTHOUSE_HAPROXY"))
	if sel == "" || sel == "all" {
		return SupportedHAProxy, nil
	}
	var out []string
	for _, s := range strings.Split(sel, ",") {
		s = strings.TrimPrefix(strings.TrimSpace(s), "haproxy-")
		ok := false
		for _, r := range SupportedHAProxy {
			ok = ok || r == s
		}
		if !ok {
			return nil, fmt.Errorf("LIGHTHOUSE_HAPROXY=%q: %q is not a supported release (%s)", sel, s, strings.Join(SupportedHAProxy, ", "))
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return releaseLess(out[i], out[j]) })
	return out, nil
}

func releaseLess(a, b string) bool {
	va, _ := model.ParseVersion(a)
	vb, _ := model.ParseVersion(b)
	return va.Compare(vb) < 0
}

// HAProxyReleases returns the installed releases that LIGHTHOUSE_HAPROXY
// selects (all supported ones by default), oldest first. A selected release
// that is not installed skips the test with the command that builds it — or,
// with CI set, fails it, so CI never passes on fewer releases.
func HAProxyReleases(t testing.TB) []HAProxyRelease {
	t.Helper()
	skipIfShort(t, "HAProxy")
	want, err := wantedReleases()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	have, errs := findReleases()
	var out []HAProxyRelease
	var missing []string
	for _, name := range want {
		found := false
		for _, r := range have {
			if r.Name == name {
				out, found = append(out, r), true
			}
		}
		if !found {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("testenv: HAProxy %s not installed (looked in %s/bin and for Debian's haproxy); run .ci/install-deps, or select releases with LIGHTHOUSE_HAPROXY=X.Y",
			strings.Join(missing, ", "), HAProxyCacheDir())
		if len(errs) > 0 {
			msg += " (" + strings.Join(errs, "; ") + ")"
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("%s; CI is set, so this is an error, not a skip", msg)
		}
		if len(out) == 0 {
			t.Skip(msg)
		}
		t.Log(msg)
	}
	return out
}

// ForEachHAProxy runs f once per release of HAProxyReleases, each in a
// subtest named after it ("haproxy-3.4"); `go test -run 'Test/haproxy-3.4'`
// or LIGHTHOUSE_HAPROXY=3.4 picks one.
func ForEachHAProxy(t *testing.T, f func(t *testing.T, r HAProxyRelease)) {
	t.Helper()
	for _, r := range HAProxyReleases(t) {
		t.Run(r.String(), func(t *testing.T) { f(t, r) })
	}
}
