package zk

import (
	"context"
	"strings"
	"testing"
)

func TestDetectIdentityOverrides(t *testing.T) {
	id, err := DetectIdentity(context.Background(), "web01.example.com", "127.0.0.5")
	if err != nil || id != (Identity{Name: "web01.example.com", IP: "127.0.0.5"}) {
		t.Fatalf("got %+v, %v", id, err)
	}
	if !id.Loopback() {
		t.Error("127.0.0.5 is a loopback address")
	}
	if _, err := DetectIdentity(context.Background(), "bad name", "10.0.0.1"); err == nil || !strings.Contains(err.Error(), "host") {
		t.Errorf("a host name with a space: %v", err)
	}
	if id, err := DetectIdentity(context.Background(), "h.example", "::ffff:10.1.2.3"); err != nil || id.IP != "10.1.2.3" {
		t.Errorf("a v4-mapped address: %+v %v", id, err)
	}
	// A name given, its address looked up.
	if id, err := DetectIdentity(context.Background(), "localhost", ""); err != nil || !id.Loopback() {
		t.Errorf("localhost: %+v %v", id, err)
	}
}

// Detection as the original did it gives a valid identity on this machine
// (what it is depends on the machine's /etc/hosts and resolver).
func TestDetectIdentity(t *testing.T) {
	id, err := DetectIdentity(context.Background(), "", "")
	if err != nil {
		t.Skipf("no identity detectable here: %v", err)
	}
	t.Logf("detected %+v", id)
	if id.Name == "" || id.IP == "" {
		t.Errorf("empty identity %+v", id)
	}
}
