package runtime

import (
	"context"
	"testing"
	"time"
)

func TestHealth(t *testing.T) {
	h := &Health{}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.Alive(ctx); err != ErrLoopStuck {
		t.Errorf("Alive with nobody answering: %v", err)
	}
	if r := h.Ready(); r != "starting" {
		t.Errorf("Ready before any part: %q", r)
	}
	h.SetPart("discovery zk", "no ZooKeeper session (discovery zk)")
	h.SetPart("checks", "")
	if r := h.Ready(); r != "no ZooKeeper session (discovery zk)" {
		t.Errorf("Ready with a part not ready: %q", r)
	}
	h.SetPart("checks", "no round of checks yet")
	if r := h.Ready(); r != "no round of checks yet" {
		t.Errorf("Ready with two parts not ready: %q, want the first by name", r)
	}
	h.SetPart("checks", "")
	h.DropPart("discovery zk")
	if r := h.Ready(); r != "" {
		t.Errorf("Ready with every part ready: %q", r)
	}

	select {
	case <-h.Started():
		t.Fatal("started before SetStarted")
	default:
	}
	h.SetStarted()
	h.SetStarted()
	select {
	case <-h.Started():
	default:
		t.Fatal("not started after SetStarted")
	}

	var none *Health
	if none.Pings() != nil {
		t.Error("a nil Health has pings")
	}
	none.SetReady("x") // no panic
	none.SetStarted()
}
