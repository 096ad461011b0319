package model

import (
	"strings"
	"testing"
	"time"
)

// session_timeout: seconds or a duration, in range, 10 s by default; out
// of range or malformed is a located error.
func TestDiscoverySessionTimeout(t *testing.T) {
	checkDiscoveryDuration(t, func(d Discovery) time.Duration { return d.SessionTimeout }, []durationCase{
		{"", DefaultSessionTimeout, ""},
		{"session_timeout: 4\n", 4 * time.Second, ""},
		{"session_timeout: 1500ms\n", 1500 * time.Millisecond, ""},
		{"session_timeout: 60s\n", time.Minute, ""},
		{"session_timeout: 0.5\n", 0, "discovery/zookeeper.yaml:3: session_timeout: must be 1s to 1m0s, got 500ms"},
		{"session_timeout: 61\n", 0, "discovery/zookeeper.yaml:3: session_timeout: must be 1s to 1m0s, got 1m1s"},
		{"session_timeout: soon\n", 0, "discovery/zookeeper.yaml:3: session_timeout: must be a positive number of seconds"},
	})
}

// resync_jitter: seconds or a duration, at most a minute, 2 s by default.
func TestDiscoveryResyncJitter(t *testing.T) {
	checkDiscoveryDuration(t, func(d Discovery) time.Duration { return d.ResyncJitter }, []durationCase{
		{"", DefaultResyncJitter, ""},
		{"resync_jitter: 500ms\n", 500 * time.Millisecond, ""},
		{"resync_jitter: 60\n", time.Minute, ""},
		{"resync_jitter: 61s\n", 0, "discovery/zookeeper.yaml:3: resync_jitter: must be at most 1m0s, got 1m1s"},
		{"resync_jitter: -1\n", 0, "discovery/zookeeper.yaml:3: resync_jitter: must be a positive number of seconds"},
	})
}

type durationCase struct {
	line string
	want time.Duration
	diag string
}

// checkDiscoveryDuration loads discovery/zookeeper.yaml with each case's
// line and checks the duration field reads or the located error.
func checkDiscoveryDuration(t *testing.T, field func(Discovery) time.Duration, cases []durationCase) {
	t.Helper()
	for _, tc := range cases {
		s := Load(nil, files("discovery/zookeeper.yaml", zkYAML+tc.line))
		got := s.Diagnostics.String()
		if tc.diag == "" {
			if got != "" {
				t.Errorf("%q: diagnostics %s", tc.line, got)
			} else if d := field(s.Config.Discovery["zookeeper"]); d != tc.want {
				t.Errorf("%q: %v, want %v", tc.line, d, tc.want)
			}
			continue
		}
		if !strings.Contains(got, tc.diag) {
			t.Errorf("%q: diagnostics %q, want %q", tc.line, got, tc.diag)
		}
	}
}
