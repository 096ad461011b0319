package lastgood

import (
	"os"
	"path/filepath"
	"testing"

	"lighthouse/model"
)

func TestStore(t *testing.T) {
	l := Store{Dir: filepath.Join(t.TempDir(), "state", "last-good")}
	if files, err := l.Load(); err != nil || len(files) != 0 {
		t.Fatalf("a missing dir holds %v, %v", files, err)
	}
	v1 := []model.File{
		{Path: "balancers/haproxy.yaml", Data: []byte("config_file: /tmp/h.cfg\n")},
		{Path: "clusters/web.yaml", Data: []byte("discovery: zookeeper\n")},
	}
	if err := l.Save(v1); err != nil {
		t.Fatal(err)
	}
	got, err := l.Load()
	if err != nil || len(got) != 2 || got[0].Path != "balancers/haproxy.yaml" || string(got[1].Data) != "discovery: zookeeper\n" {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	web := filepath.Join(l.Dir, "clusters", "web.yaml")
	st1, _ := os.Stat(web)
	if err := l.Save(v1[1:]); err != nil {
		t.Fatal(err)
	}
	got, _ = l.Load()
	if len(got) != 1 || got[0].Path != "clusters/web.yaml" {
		t.Fatalf("after dropping the balancer file, Load = %+v", got)
	}
	if st2, _ := os.Stat(web); !os.SameFile(st1, st2) {
		t.Error("an unchanged file was written again")
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("STATE_DIRECTORY", "/run/state:/other")
	if got, want := DefaultDir("/etc/lighthouse"), "/run/state/last-good/etc_lighthouse"; got != want {
		t.Errorf("DefaultDir = %q, want %q", got, want)
	}
	t.Setenv("STATE_DIRECTORY", "")
	if got, want := DefaultDir("/etc/lighthouse/"), "/var/lib/lighthouse/last-good/etc_lighthouse"; got != want {
		t.Errorf("DefaultDir = %q, want %q", got, want)
	}
}
