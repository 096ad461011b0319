package testenv

import (
	"testing"
	"time"
)

// An ensemble has one leader and two followers; a paused follower answers
// nothing while the others serve, and serves again once resumed.
func TestEnsemble(t *testing.T) {
	e := StartEnsemble(t)
	leader := e.Leader()
	modes := map[string]int{}
	for _, z := range e.Servers {
		modes[z.Mode()]++
	}
	if modes["leader"] != 1 || modes["follower"] != 2 {
		t.Fatalf("modes %v, want one leader and two followers", modes)
	}
	if e.Index(e.Servers[leader].Addr) != leader || e.Index("127.0.0.1:1") != -1 {
		t.Error("Index does not find the servers by address")
	}

	f := e.Servers[(leader+1)%3]
	f.Pause()
	start := time.Now()
	if m := f.Mode(); m != "" {
		t.Errorf("a paused server says %q", m)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("asking a paused server took %v", took)
	}
	if !e.Serves() {
		t.Error("the others do not serve while a follower is paused")
	}
	f.Resume()
	e.Serving()
	if m := f.Mode(); m != "follower" {
		t.Errorf("the resumed server says %q, want follower", m)
	}
}
