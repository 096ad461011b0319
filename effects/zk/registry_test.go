package zk

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"lighthouse/internal/testenv"
)

func connect(t *testing.T, z *testenv.ZooKeeper) *Registry {
	t.Helper()
	r, err := Connect(z.Hosts(), 4*time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	testenv.WaitFor(t, 10*time.Second, "a session", func() bool { return r.Session() != 0 })
	return r
}

func TestRegistry(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	other := z.Conn(t)
	r := connect(t, z)
	ctx := context.Background()
	const p = "/lighthouse/services/web/app01.example.com:8000"

	// Created with its parents, ephemeral, owned by our session.
	sid, err := r.Register(ctx, p, []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	if sid != r.Session() {
		t.Errorf("Register returned session %#x, current is %#x", sid, r.Session())
	}
	data, st, err := other.Get(p)
	if err != nil || string(data) != "one" || st.EphemeralOwner != sid {
		t.Fatalf("after create: %q owner %#x err %v", data, st.EphemeralOwner, err)
	}
	if _, pst, _ := other.Get("/lighthouse/services/web"); pst.EphemeralOwner != 0 {
		t.Error("a parent is ephemeral")
	}
	created := st.Czxid

	// Ours: new data in place.
	if _, err := r.Register(ctx, p, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if data, st, _ = other.Get(p); string(data) != "two" || st.Czxid != created {
		t.Errorf("after set: %q, re-created: %v", data, st.Czxid != created)
	}

	// Owned by another session: replaced.
	if err := other.Delete(p, -1); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Create(p, []byte("theirs"), gozk.FlagEphemeral, gozk.WorldACL(gozk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Register(ctx, p, []byte("three")); err != nil {
		t.Fatal(err)
	}
	if data, st, _ = other.Get(p); string(data) != "three" || st.EphemeralOwner != sid {
		t.Errorf("after replacing another session's znode: %q owner %#x", data, st.EphemeralOwner)
	}

	// A persistent znode in the way: replaced by an ephemeral one too.
	const q = "/lighthouse/services/web/app01.example.com:8001"
	if _, err := other.Create(q, []byte("persistent"), 0, gozk.WorldACL(gozk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Register(ctx, q, []byte("mine")); err != nil {
		t.Fatal(err)
	}
	if data, st, _ = other.Get(q); string(data) != "mine" || st.EphemeralOwner != sid {
		t.Errorf("after replacing a persistent znode: %q owner %#x", data, st.EphemeralOwner)
	}

	// Deregister: gone; absent is fine.
	if err := r.Deregister(ctx, q); err != nil {
		t.Fatal(err)
	}
	if err := r.Deregister(ctx, q); err != nil {
		t.Errorf("deregistering an absent znode: %v", err)
	}
	if ok, _, _ := other.Exists(q); ok {
		t.Error("still there after Deregister")
	}

	// Close: the session's znodes go.
	r.Close()
	testenv.WaitFor(t, 5*time.Second, "ephemeral gone after Close", func() bool {
		ok, _, err := other.Exists(p)
		return err == nil && !ok
	})
}

func TestRegistryWithoutSession(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	r := connect(t, z)
	changed := false
	z.Stop()
	testenv.WaitFor(t, 10*time.Second, "the session state to change", func() bool {
		select {
		case <-r.SessionChanges():
			changed = true
		default:
		}
		return changed && r.Session() == 0
	})
	start := time.Now()
	_, err := r.Register(context.Background(), "/a/b", []byte("x"))
	if !errors.Is(err, ErrNoSession) || time.Since(start) > 100*time.Millisecond {
		t.Errorf("Register without a session: %v after %v", err, time.Since(start))
	}
	if err := r.Deregister(context.Background(), "/a/b"); !errors.Is(err, ErrNoSession) {
		t.Errorf("Deregister without a session: %v", err)
	}
	// Closing while the server is away does not hang.
	r2, err := Connect(z.Hosts(), 4*time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	r2.Close()
	if took := time.Since(start); took > time.Second {
		t.Errorf("Close without a server took %v", took)
	}
	z.Start()
	testenv.WaitFor(t, 10*time.Second, "the session back", func() bool { return r.Session() != 0 })
	if _, err := r.Register(context.Background(), "/a/b", []byte("x")); err != nil {
		t.Errorf("after the server came back: %v", err)
	}
}

func TestAwaitHonoursContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := await(ctx, func() (int64, error) { time.Sleep(2 * time.Second); return 1, nil })
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("await: %v after %v", err, time.Since(start))
	}
}

// Inspect reads a znode and its owner, and its watch fires once on each
// kind of change: created, data changed, deleted.
func TestInspectWatches(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	other := z.Conn(t)
	r := connect(t, z)
	ctx := context.Background()
	const p = "/lighthouse/services/web/app01.example.com:8001"

	fired := func(what string, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("the watch did not fire when the znode was %s", what)
		}
	}
	quiet := func(ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
			t.Fatal("the watch fired with no change")
		case <-time.After(100 * time.Millisecond):
		}
	}

	exists, owner, data, ch, err := r.Inspect(ctx, p)
	if err != nil || exists || owner != 0 || data != nil {
		t.Fatalf("absent: exists %v owner %#x data %q err %v", exists, owner, data, err)
	}
	quiet(ch)
	if _, err := r.Register(ctx, p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	fired("created", ch)

	exists, owner, data, ch, err = r.Inspect(ctx, p)
	if err != nil || !exists || owner != r.Session() || string(data) != "one" {
		t.Fatalf("ours: exists %v owner %#x (ours %#x) data %q err %v", exists, owner, r.Session(), data, err)
	}
	if _, err := other.Set(p, []byte("two"), -1); err != nil {
		t.Fatal(err)
	}
	fired("overwritten", ch)

	if _, _, data, ch, err = r.Inspect(ctx, p); err != nil || string(data) != "two" {
		t.Fatalf("after the overwrite: data %q err %v", data, err)
	}
	if err := other.Delete(p, -1); err != nil {
		t.Fatal(err)
	}
	fired("deleted", ch)

	// Without a session, Inspect fails at once.
	r.Close()
	if _, _, _, _, err := r.Inspect(ctx, p); !errors.Is(err, ErrNoSession) {
		t.Errorf("Inspect after Close: %v, want ErrNoSession", err)
	}
}
