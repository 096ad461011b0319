package model

import (
	"strings"
	"testing"
	"time"
)

// session_timeout: seconds or a duration, in range, 10 s by default; out
// of range or malformed is a located error.
func TestDiscoverySessionTimeout(t *testing.T) {
	for _, tc := range []struct {
		line string
		want time.Duration
		diag string
	}{
		{"", DefaultSessionTimeout, ""},
		{"session_timeout: 4\n", 4 * time.Second, ""},
		{"session_timeout: 1500ms\n", 1500 * time.Millisecond, ""},
		{"session_timeout: 60s\n", time.Minute, ""},
		{"session_timeout: 0.5\n", 0, "discovery/zookeeper.yaml:3: session_timeout: must be 1s to 1m0s, got 500ms"},
		{"session_timeout: 61\n", 0, "discovery/zookeeper.yaml:3: session_timeout: must be 1s to 1m0s, got 1m1s"},
		{"session_timeout: soon\n", 0, "discovery/zookeeper.yaml:3: session_timeout: must be a positive number of seconds"},
	} {
		s := Load(nil, files("discovery/zookeeper.yaml", zkYAML+tc.line))
		got := s.Diagnostics.String()
		if tc.diag == "" {
			if got != "" {
				t.Errorf("%q: diagnostics %s", tc.line, got)
			} else if d := s.Config.Discovery["zookeeper"].SessionTimeout; d != tc.want {
				t.Errorf("%q: session timeout %v, want %v", tc.line, d, tc.want)
			}
			continue
		}
		if !strings.Contains(got, tc.diag) {
			t.Errorf("%q: diagnostics %q, want %q", tc.line, got, tc.diag)
		}
	}
}
