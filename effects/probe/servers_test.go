package probe

import (
	"strings"
	"testing"
	"time"

	"lighthouse/internal/testenv"
	"lighthouse/model"
)

// The redis check against a real Redis: passes, fails while it is stopped,
// passes again.
func TestRedisCheckRealServer(t *testing.T) {
	r := testenv.StartRedis(t)
	c := model.Check{Type: "redis", Timeout: time.Second}
	if err, _ := probe(t, r.Addr, c); err != nil {
		t.Fatalf("running redis: %v", err)
	}
	r.Stop()
	if err, _ := probe(t, r.Addr, c); err == nil {
		t.Fatal("stopped redis passes")
	}
	r.Start()
	if err, _ := probe(t, r.Addr, c); err != nil {
		t.Fatalf("restarted redis: %v", err)
	}
	// The same through the tcp check, as a user would write it for Redis's
	// inline protocol.
	tcp := model.Check{Type: "tcp", Query: "PING\r\n", Response: "+PONG", Timeout: time.Second}
	if err, _ := probe(t, r.Addr, tcp); err != nil {
		t.Fatalf("tcp PING: %v", err)
	}
}

// The tcp check against ZooKeeper's ruok, which answers imok without a line
// break and closes (the original spun forever on it).
func TestTCPCheckZooKeeperRuok(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	c := model.Check{Type: "tcp", Query: "ruok", Response: "imok", Timeout: time.Second}
	if err, took := probe(t, z.Addr, c); err != nil || took > time.Second {
		t.Fatalf("ruok: %v (%v)", err, took)
	}
	c.Response = "imnotok"
	if err, _ := probe(t, z.Addr, c); err == nil || !strings.Contains(err.Error(), `"imok"`) {
		t.Fatalf("wrong expectation: %v", err)
	}
	z.Stop()
	c.Response = "imok"
	if err, _ := probe(t, z.Addr, c); err == nil {
		t.Fatal("stopped ZooKeeper passes")
	}
}
