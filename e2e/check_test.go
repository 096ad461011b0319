package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"lighthouse/examples/demo/cluster"
	"lighthouse/internal/testenv"
)

// The parts of check's output that vary from run to run: how long a check
// took, and the error text of a refused connection (Go's and the check's
// words around it). normalize replaces them.
var (
	tookRE    = regexp.MustCompile(` \(\d+\.\dms\)`)
	refusedRE = regexp.MustCompile(`(?m)^(\S+ \w+ fail \(T\)): .*connect: connection refused$`)
)

func normalize(out string) string {
	out = tookRE.ReplaceAllString(out, " (T)")
	return refusedRE.ReplaceAllString(out, "$1: connection refused")
}

// TestCheck runs `lighthouse check` against the web-cache example, as its
// reporters run: with each host's config directory, name and address. On a
// host whose services are up and registered it has nothing to do (exit 0);
// on a copy of app02's directory whose service is looked for where nothing
// listens, it plans to delete app02's registrations (exit 3), which the
// reporter keeps; on one that adds a weight, to set it (exit 4). Then a web
// app stops: the check fails at once, and once the reporter has deleted the
// registration it has nothing more to do. The registry is read, never
// written. On one HAProxy release: the check does not depend on it.
func TestCheck(t *testing.T) {
	r := testenv.HAProxyReleases(t)[0]
	c := start(t, "web-cache", r)
	lighthouse := filepath.Join(binaries(t), "lighthouse")
	port := c.Layout.Port
	header := fmt.Sprintf("\ndiscovery zookeeper (127.0.0.1:%d, path /lighthouse/services):\n", port(cluster.ZooKeeperPort))
	znode := func(host string, p int) string { return fmt.Sprintf("/lighthouse/services/webapp/%s:%d", host, p) }
	// app02's two ports in the order check prints them and its plan lists
	// their znodes: by number (the mapped ports have the same number of
	// digits, so their znode paths sort alike).
	ports02 := []int{min(port(8001), port(8002)), max(port(8001), port(8002))}

	// check runs lighthouse check as host with config directory dir, and
	// returns its exit code and normalized output; it prints nothing on
	// stderr (the example's files have no warning).
	check := func(t *testing.T, host, dir string) (int, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, lighthouse, "check", "--config-dir", dir, "--host-name", host, "--host-ip", c.HostIP(host))
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			code = exit.ExitCode()
		case err != nil:
			t.Fatalf("lighthouse check as %s: %v", host, err)
		}
		if stderr.Len() > 0 {
			t.Errorf("lighthouse check as %s: stderr:\n%s", host, stderr.String())
		}
		t.Logf("lighthouse check as %s (%s): exit %d\n%s", host, dir, code, stdout.String())
		return code, normalize(stdout.String())
	}
	expect := func(t *testing.T, host, dir string, wantCode int, want string) {
		t.Helper()
		if code, out := check(t, host, dir); code != wantCode || out != want {
			t.Errorf("lighthouse check as %s: exit %d, want %d; output (normalized):\n%s\nwant:\n%s", host, code, wantCode, out, want)
		}
	}
	// variant copies app02's config directory and edits its service file.
	variant := func(t *testing.T, edit func(string) string) string {
		t.Helper()
		dir := filepath.Join(t.TempDir(), "app02")
		if err := os.CopyFS(dir, os.DirFS(c.ConfigDir("app02"))); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, "services", "multiapp.yml")
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(edit(string(b))), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	// app02 is app02's check lines, and its plan: a line per port.
	app02 := func(verdict string, step func(p int) string) string {
		var lines, plan string
		for _, p := range ports02 {
			lines += fmt.Sprintf("multiapp:%d http %s\n", p, verdict)
			plan += step(p)
		}
		return lines + header + plan
	}
	noChanges := func(int) string { return "" }

	t.Run("up and registered: nothing to do", func(t *testing.T) {
		for _, h := range []struct{ host, lines string }{
			{"cache01", fmt.Sprintf("cache:%d redis pass (T)\n", port(6379))},
			{"cache02", fmt.Sprintf("cache:%d redis pass (T)\n", port(6379))},
			{"app01", fmt.Sprintf("webapp:%d http pass (T)\n", port(8000))},
		} {
			expect(t, h.host, c.ConfigDir(h.host), exitOK, h.lines+header+"No changes.\n")
		}
		expect(t, "app02", c.ConfigDir("app02"), exitOK, app02("pass (T)", noChanges)+"No changes.\n")
	})

	t.Run("checked where nothing listens: the registrations are to be deleted", func(t *testing.T) {
		const nowhere = "127.0.0.99" // a loopback address no program of the example uses
		dir := variant(t, func(s string) string {
			if !strings.Contains(s, c.HostIP("app02")) {
				t.Fatalf("app02's service file names no host %s:\n%s", c.HostIP("app02"), s)
			}
			return strings.ReplaceAll(s, c.HostIP("app02"), nowhere)
		})
		expect(t, "app02", dir, exitCheckFails, app02("fail (T): connection refused", func(p int) string {
			return "- delete      " + znode("app02", p) + "  # the port is down\n"
		}))
		// A dry run: the registrations are still there, as the reporter
		// made them.
		expect(t, "app02", c.ConfigDir("app02"), exitOK, app02("pass (T)", noChanges)+"No changes.\n")
	})

	t.Run("a weight added: to be set", func(t *testing.T) {
		dir := variant(t, func(s string) string { return s + "weight: 2\n" })
		expect(t, "app02", dir, exitRegistry, app02("pass (T)", func(p int) string {
			return "~ set_data    " + znode("app02", p) + ` {"state": "ready", "weight": 2}  # weight (none) → 2` + "\n"
		}))
	})

	t.Run("a web app stops", func(t *testing.T) {
		gone := fmt.Sprintf("app01:%d", port(8000))
		failed := fmt.Sprintf("webapp:%d http fail (T): connection refused\n", port(8000))
		if err := c.StopApp("app01", 8000); err != nil {
			t.Fatal(err)
		}
		// At once: the check fails; the reporter waits for fall failures
		// in a row, so its registration is most likely still there, to be
		// deleted, unless the reporter was quicker than this check.
		code, out := check(t, "app01", c.ConfigDir("app01"))
		registered := failed + header + "- delete      " + znode("app01", port(8000)) + "  # the port is down\n"
		if code != exitCheckFails || out != registered && out != failed+header+"No changes.\n" {
			t.Errorf("right after the stop: exit %d, want %d; output (normalized):\n%s\nwant:\n%s(or No changes. once the reporter has deleted it)", code, exitCheckFails, out, registered)
		}
		testenv.WaitFor(t, 15*time.Second, "the reporter to delete "+gone, func() bool {
			return !slices.Contains(c.MemberNames("webapp"), gone)
		})
		expect(t, "app01", c.ConfigDir("app01"), exitCheckFails, failed+header+"No changes.\n")
	})
}

// check's exit codes (cmd/lighthouse/check.go).
const (
	exitOK         = 0
	exitCheckFails = 3
	exitRegistry   = 4
)
