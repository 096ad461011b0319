package effects

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lighthouse/internal/testenv"
	"lighthouse/model"
)

// fakeHAProxy writes an executable script that prints out and exits with code.
func fakeHAProxy(t *testing.T, out string, code int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "haproxy")
	script := "#!/bin/sh\nprintf '%s' '" + strings.ReplaceAll(out, "'", `'\''`) + "'\nexit " + string(rune('0'+code)) + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHAProxyVersion(t *testing.T) {
	debian := "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\n" +
		"Status: long-term supported branch - will stop receiving fixes around Q2 2027.\n"
	v, err := HAProxyVersion(context.Background(), fakeHAProxy(t, debian, 0))
	if err != nil || v != (model.Version{Major: 2, Minor: 6, Patch: 12}) {
		t.Errorf("debian 2.6.12: got %v, %v", v, err)
	}
	old := "HA-Proxy version 1.5.12 2015/05/02\nCopyright 2000-2015 Willy Tarreau <willy@haproxy.org>\n"
	v, err = HAProxyVersion(context.Background(), fakeHAProxy(t, old, 0))
	if err != nil || v != (model.Version{Major: 1, Minor: 5, Patch: 12}) {
		t.Errorf("1.5.12: got %v, %v", v, err)
	}
}

func TestHAProxyVersionErrors(t *testing.T) {
	_, err := HAProxyVersion(context.Background(), filepath.Join(t.TempDir(), "no-such-haproxy"))
	if err == nil || !strings.Contains(err.Error(), "detect HAProxy version") {
		t.Errorf("missing binary: got %v", err)
	}
	_, err = HAProxyVersion(context.Background(), "no-such-haproxy-in-path")
	if !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("not in PATH: got %v, want exec.ErrNotFound", err)
	}
	_, err = HAProxyVersion(context.Background(), fakeHAProxy(t, "something else\n", 0))
	if err == nil || !strings.Contains(err.Error(), "no HAProxy version") {
		t.Errorf("garbage output: got %v", err)
	}
	_, err = HAProxyVersion(context.Background(), fakeHAProxy(t, "", 3))
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Errorf("exit 3: got %v, want an *exec.ExitError", err)
	}
}

// Every installed release's `haproxy -v` parses to its version.
func TestHAProxyVersionInstalled(t *testing.T) {
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		v, err := HAProxyVersion(context.Background(), r.Binary)
		if err != nil || v != r.Version || fmt.Sprintf("%d.%d", v.Major, v.Minor) != r.Name {
			t.Errorf("%s: got %v, %v; want %s", r.Binary, v, err, r.Version)
		}
	})
	// Debian's, found on PATH by name as the writer's default "haproxy" is.
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("haproxy not on PATH")
	}
	v, err := HAProxyVersion(context.Background(), "haproxy")
	if err != nil || !v.AtLeast(2, 6) {
		t.Errorf("haproxy on PATH: got %v, %v", v, err)
	}
}
