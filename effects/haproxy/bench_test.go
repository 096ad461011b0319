package haproxy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lighthouse/internal/testenv"
)

// benchReleases runs f in a sub-benchmark per installed release
// ("haproxy-3.4"; LIGHTHOUSE_HAPROXY selects, as for the tests).
func benchReleases(b *testing.B, f func(b *testing.B, r testenv.HAProxyRelease)) {
	for _, r := range testenv.HAProxyReleases(b) {
		b.Run(r.String(), func(b *testing.B) { f(b, r) })
	}
}

// BenchmarkReload is one graceful reload of a small config through Reload:
// from the master's `reload` until the new worker serves (and, where the
// release does not report the outcome, until `show proc` shows it).
func BenchmarkReload(b *testing.B) {
	benchReleases(b, func(b *testing.B, r testenv.HAProxyRelease) {
		fe := testenv.FreePort(b)
		in := startInstance(b, r, proxyTo(fe, backend(b, "A")))
		for b.Loop() {
			if err := in.Reload(ctxT(b)); err != nil {
				b.Fatal(err)
			}
		}
		wantBody(b, fe, "A")
	})
}

// BenchmarkCheck is one `haproxy -c` of a small config through Validate.
func BenchmarkCheck(b *testing.B) {
	benchReleases(b, func(b *testing.B, r testenv.HAProxyRelease) {
		dir := testenv.ShortTempDir(b)
		cfg := filepath.Join(dir, "haproxy.cfg")
		if err := os.WriteFile(cfg, []byte(header(dir)+proxyTo(testenv.FreePort(b), 9)), 0o644); err != nil {
			b.Fatal(err)
		}
		p := Process{Binary: r.Binary, Version: r.Version}
		for b.Loop() {
			if err := p.Validate(ctxT(b), cfg); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkObserve is the writer's observation of HAProxy before a plan at
// 10,000 and 50,000 servers (backends of 50): everything (`show servers
// state` of every backend, parsed; what the writer did before every plan)
// against the backends whose membership changed (one, here; what it does
// between full observations).
func BenchmarkObserve(b *testing.B) {
	r := testenv.HAProxyReleases(b)[0]
	for _, backends := range []int{200, 1000} {
		var body strings.Builder
		for i := range backends {
			fmt.Fprintf(&body, "backend b%04d\n    balance roundrobin\n", i)
			for j := range 50 {
				fmt.Fprintf(&body, "    server s%02d 10.%d.%d.%d:80\n", j, 1+i/250, i%250, j+1)
			}
		}
		in := startInstance(b, r, body.String(), fmt.Sprintf("maxconn %d", 1000))
		l := NewLocal(r.Binary, in.ConfigFile, in.Admin.Path, in.PidFile)
		l.SetVersion(r.Version)
		servers := backends * 50
		b.Run(fmt.Sprintf("servers=%d/everything", servers), func(b *testing.B) {
			for b.Loop() {
				o, err := l.Observe(ctxT(b))
				if err != nil || len(o.Servers) != backends {
					b.Fatalf("%d backends observed, %v", len(o.Servers), err)
				}
			}
		})
		b.Run(fmt.Sprintf("servers=%d/one-backend", servers), func(b *testing.B) {
			for b.Loop() {
				o, err := l.ObserveBackends(ctxT(b), []string{"b0007"})
				if err != nil || len(o.Servers["b0007"]) != 50 {
					b.Fatalf("%d servers observed, %v", len(o.Servers["b0007"]), err)
				}
			}
		})
		hardStop(b, in.Process)
	}
}
