// Package dist holds what ships lighthouse: the systemd units, the example
// config directory and the Debian package's build script. Its test builds
// the package, installs it with dpkg and checks what got installed.
package dist

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"lighthouse/internal/testenv"
)

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// The package builds, installs with dpkg -i into a root of its own, runs,
// carries no maintainer script, and its units pass systemd's verification.
func TestDebianPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not building the package")
	}
	testenv.Require(t, "dpkg-deb", "dpkg")
	out := t.TempDir()
	t.Setenv("DEB_VERSION", "1.2.3~test")
	run(t, "./build-deb", out)
	deb := filepath.Join(out, "lighthouse_1.2.3~test_"+strings.TrimSpace(run(t, "dpkg", "--print-architecture"))+".deb")
	if _, err := os.Stat(deb); err != nil {
		t.Fatal(err)
	}
	info := run(t, "dpkg-deb", "--info", deb)
	for _, script := range []string{"preinst", "postinst", "prerm", "postrm"} {
		if regexp.MustCompile(`\b` + script + `\b`).MatchString(info) {
			t.Errorf("the package has a %s script:\n%s", script, info)
		}
	}

	// dpkg -i, into a root with a database of its own.
	root := t.TempDir()
	for _, d := range []string{"info", "updates", "triggers"} {
		if err := os.MkdirAll(filepath.Join(root, "var/lib/dpkg", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"status", "available"} {
		if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg", f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dpkg := []string{"--root=" + root, "--force-not-root", "--log=/dev/null"}
	run(t, "dpkg", append(dpkg, "-i", deb)...)
	if got := run(t, "dpkg", append(dpkg, "-s", "lighthouse")...); !strings.Contains(got, "Status: install ok installed") {
		t.Errorf("dpkg -s after install:\n%s", got)
	}

	bin := filepath.Join(root, "usr/bin")
	if got := run(t, filepath.Join(bin, "lighthouse"), "version"); got != "lighthouse 1.2.3~test\n" {
		t.Errorf("lighthouse version: %q", got)
	}
	if got := run(t, filepath.Join(bin, "lighthouse-writer"), "--help"); !strings.Contains(got, "Usage: lighthouse writer") || !strings.Contains(got, "-metrics-address") {
		t.Errorf("lighthouse-writer --help:\n%s", got)
	}
	if got := run(t, filepath.Join(bin, "lighthouse-reporter"), "--help"); !strings.Contains(got, "Usage: lighthouse reporter") {
		t.Errorf("lighthouse-reporter --help:\n%s", got)
	}
	examples := filepath.Join(root, "usr/share/doc/lighthouse/examples")
	if got := run(t, filepath.Join(bin, "lighthouse"), "validate", "--config-dir", examples); !strings.Contains(got, "0 error(s), 0 warning(s)") {
		t.Errorf("the example config directory does not validate cleanly:\n%s", got)
	}
	man := filepath.Join(root, "usr/share/man/man1/lighthouse.1.gz")
	if st, err := os.Stat(man); err != nil || st.Size() < 1000 {
		t.Errorf("man page: %v", err)
	}

	// systemd's own check of the installed units. ExecStart must name an
	// executable that exists: the installed one, in its root.
	if testenv.LookPath("systemd-analyze") != "" {
		units := t.TempDir()
		var paths []string
		for _, u := range []string{"lighthouse-writer.service", "lighthouse-reporter.service"} {
			data, err := os.ReadFile(filepath.Join(root, "lib/systemd/system", u))
			if err != nil {
				t.Fatal(err)
			}
			data = bytes.ReplaceAll(data, []byte("/usr/bin/lighthouse"), []byte(filepath.Join(bin, "lighthouse")))
			p := filepath.Join(units, u)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
		}
		cmd := exec.Command("systemd-analyze", append([]string{"verify"}, paths...)...)
		got, err := cmd.CombinedOutput()
		if err != nil || len(bytes.TrimSpace(got)) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, got)
		}
	} else {
		t.Log("systemd-analyze not found: the units are not verified")
	}

	run(t, "dpkg", append(dpkg, "-r", "lighthouse")...)
	if _, err := os.Stat(filepath.Join(bin, "lighthouse")); !os.IsNotExist(err) {
		t.Errorf("lighthouse still installed after dpkg -r: %v", err)
	}
}
