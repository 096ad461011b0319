package plan

import (
	"strings"
	"testing"
	"time"

	"lighthouse/model"
)

// A dead HAProxy starts again on the config file on disk before anything is
// validated or written (a full disk must not keep it down), then converges
// as a running one would; only a file it failed to start on less than
// StartRetry ago is replaced first. One whose worker stopped answering is
// killed and started the same way. Every plan converges when applied.
func TestRestartOnTheFileOnDisk(t *testing.T) {
	two := model.Membership{"cache": known(node("c1.example", "10.0.0.1", 6379), node("c2.example", "10.0.0.2", 6379))}
	one := model.Membership{"cache": known(node("c1.example", "10.0.0.1", 6379))}
	base := Input{Config: testConfig(tcpCluster("cache", 9999)), Membership: one, Version: v26, Now: t0, History: History{LastReload: t0.Add(-time.Hour)}}
	running := converged(t, base)
	dead := Observed{File: running.File}
	otherPort := testConfig(tcpCluster("cache", 9998))

	cases := []struct {
		name string
		in   func(in *Input)
		want string
	}{
		{"same config", func(in *Input) { in.Observed = dead },
			"start haproxy"},
		{"a node joined meanwhile", func(in *Input) { in.Observed, in.Membership = dead, two },
			"start haproxy\nadd_server cache/c2.example:6379\nset_server_state cache/c2.example:6379\nvalidate /tmp/lh/haproxy.cfg\nwrite_file /tmp/lh/haproxy.cfg"},
		{"structural change meanwhile", func(in *Input) { in.Observed, in.Config = dead, otherPort },
			"start haproxy\nvalidate /tmp/lh/haproxy.cfg\nwrite_file /tmp/lh/haproxy.cfg\nsave_state /tmp/lh/haproxy.cfg.state\nreload haproxy"},
		{"the last start on the file failed", func(in *Input) {
			in.Observed, in.History.StartFailed, in.History.StartFailedAt = dead, Fingerprint(dead.File), in.Now.Add(-StartRetry+time.Millisecond)
		}, "validate /tmp/lh/haproxy.cfg\nwrite_file /tmp/lh/haproxy.cfg\nstart haproxy"},
		{"the last start on the file failed, nothing can be written", func(in *Input) {
			in.Observed, in.History.StartFailed, in.History.StartFailedAt, in.History.Unwritable = dead, Fingerprint(dead.File), in.Now, true
		}, ""},
		{"the last start on the file failed StartRetry ago", func(in *Input) {
			in.Observed, in.History.StartFailed, in.History.StartFailedAt = dead, Fingerprint(dead.File), in.Now.Add(-StartRetry)
		}, "start haproxy"},
		{"no file", func(in *Input) { in.Observed = Observed{} },
			"validate /tmp/lh/haproxy.cfg\nwrite_file /tmp/lh/haproxy.cfg\nstart haproxy"},
		{"worker unresponsive", func(in *Input) { in.Observed = running; in.Observed.Unresponsive = true },
			"kill haproxy\nstart haproxy"},
		{"worker unresponsive, start on the file failed", func(in *Input) {
			in.Observed, in.History.StartFailed, in.History.StartFailedAt = running, Fingerprint(running.File), in.Now
			in.Observed.Unresponsive = true
		}, "kill haproxy\nvalidate /tmp/lh/haproxy.cfg\nwrite_file /tmp/lh/haproxy.cfg\nstart haproxy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := base
			c.in(&in)
			p := Make(in)
			if got := kinds(p); got != c.want {
				t.Fatalf("got\n%s\nwant\n%s\nplan:\n%s", got, c.want, p)
			}
			if len(p.Steps) == 0 {
				return // nothing can be done now; the next case waits it out
			}
			if p.Steps[0].Reason == "" {
				t.Errorf("the first step says no why:\n%s", p)
			}
			if r, ok := p.Steps[len(p.Steps)-1].Action.(Reload); ok && strings.HasPrefix(kinds(p), "start") && !r.NotBefore.Equal(in.Now.Add(in.Config.Balancer.RestartInterval)) {
				t.Errorf("the reload after a start is not rate-limited from the start: %s", p)
			}
			in.Observed, in.History.LastReload, in.History.StartFailed = Apply(in.Observed, p), in.Now, ""
			if again := Make(in); !again.Empty() {
				t.Errorf("plan after apply is not empty:\n%s\nafter:\n%s", again, p)
			}
		})
	}
}
