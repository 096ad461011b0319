package testenv

import (
	"testing"
	"time"
)

// CheckSessionMove logs how long a client took to be on another server with
// its session after what hung, and fails the test if that took longer than
// within. When the others stopped serving meanwhile (a hung leader: they
// elect another, which takes the ensemble its own time, over 13 s on a
// loaded machine), within does not apply: the test fails if the client
// took longer after they served again than one handshake with the hung
// server plus go-zookeeper's second between rounds over the server list.
// handshake is the client's bound on one handshake
// (effects/zk.HandshakeTimeout).
func CheckSessionMove(t testing.TB, what, hung, now string, start, served time.Time, within, handshake time.Duration) {
	t.Helper()
	took := time.Since(start)
	if served.IsZero() {
		t.Logf("%s (%s) hung: the session is on %s after %v", what, hung, now, took.Round(10*time.Millisecond))
		if took > within {
			t.Errorf("%s hung: the session moved after %v, want at most %v", what, took, within)
		}
		return
	}
	after := time.Since(served)
	t.Logf("%s (%s) hung: the session is on %s after %v, %v after the others served again", what, hung, now, took.Round(10*time.Millisecond), after.Round(10*time.Millisecond))
	if limit := handshake + 1500*time.Millisecond; after > limit {
		t.Errorf("%s hung: the session moved %v after the others served again, want at most %v", what, after, limit)
	}
}
