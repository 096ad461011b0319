package haproxy

import (
	"os"
	"path/filepath"
	"testing"

	"lighthouse/effects/testenv"
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
