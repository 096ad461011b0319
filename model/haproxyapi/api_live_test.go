package haproxyapi_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"lighthouse/internal/testenv"
	"lighthouse/model/haproxyapi"
)

// TestAgainstReleases asks every installed release what its runtime API
// does and compares with the data: `add server help` (3.2 on) lists the
// settings exactly, and on every release a server with a cookie is added,
// or refused, as CookieAtRuntime says.
func TestAgainstReleases(t *testing.T) {
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		api := haproxyapi.For(r.Version)
		if api.Release != r.Name {
			t.Fatalf("For(%s).Release = %q, want %q", r.Version, api.Release, r.Name)
		}
		dir := testenv.ShortTempDir(t)
		sock := filepath.Join(dir, "admin.sock")
		cfg := filepath.Join(dir, "haproxy.cfg")
		text := fmt.Sprintf(`global
	stats socket %s mode 600 level admin
defaults
	mode http
	timeout connect 1s
	timeout client 1s
	timeout server 1s
backend b
	cookie SRV insert indirect nocache
	server s1 127.0.0.1:1 cookie s1
`, sock)
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		testenv.StartHAProxyRelease(t, r, cfg)

		if r.Version.AtLeast(3, 2) {
			out, err := testenv.HAProxyAdmin(sock, "add server help")
			if err != nil {
				t.Fatal(err)
			}
			_, list, ok := strings.Cut(out, ":")
			if !ok {
				t.Fatalf("add server help: %q", out)
			}
			for _, kw := range strings.Fields(list) {
				if !api.AddServerAccepts(kw) {
					t.Errorf("HAProxy %s accepts %q on add server; the data does not", r.Version, kw)
				}
			}
			if got, want := len(strings.Fields(list)), count(api); got != want {
				t.Errorf("HAProxy %s lists %d add server settings, the data %d", r.Version, got, want)
			}
		}

		out, err := testenv.HAProxyAdmin(sock, "add server b/s2 127.0.0.1:2 cookie s2")
		if err != nil {
			t.Fatal(err)
		}
		if added := strings.Contains(out, "New server registered"); added != api.CookieAtRuntime() {
			t.Errorf("add server with a cookie on HAProxy %s: %q; CookieAtRuntime = %v", r.Version, strings.TrimSpace(out), api.CookieAtRuntime())
		}
		out, err = testenv.HAProxyAdmin(sock, "add server b/s3 127.0.0.1:3 enabled")
		if err != nil {
			t.Fatal(err)
		}
		if added := strings.Contains(out, "New server registered"); added != api.AddServerAccepts("enabled") {
			t.Errorf("add server with enabled on HAProxy %s: %q; AddServerAccepts = %v", r.Version, strings.TrimSpace(out), api.AddServerAccepts("enabled"))
		}
	})
}

// count is the number of settings the data lists for api's release.
func count(api haproxyapi.API) int {
	n := 0
	for _, kw := range allKeywords {
		if api.AddServerAccepts(kw) {
			n++
		}
	}
	return n
}

// allKeywords is every setting any release's data lists.
var allKeywords = func() []string {
	var out []string
	for _, rel := range haproxyapi.Releases() {
		out = append(out, haproxyapi.Keywords(rel)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}()
