package effects

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lighthouse/model"
)

const (
	goodZK      = "hosts: [\"127.0.0.1:2181\"]\npath: /lighthouse/services\n"
	goodService = "port: 80\ndiscovery: zookeeper\nchecks:\n  interval: 2\n  tcp: {rise: 1, fall: 1}\n"
)

func mustWrite(t *testing.T, dir, rel, data string) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readSoon is ReadConfigDir that fails the test instead of blocking (a
// FIFO opened for reading without O_NONBLOCK waits for a writer forever).
func readSoon(t *testing.T, dir string) []model.File {
	t.Helper()
	type result struct {
		files []model.File
		err   error
	}
	ch := make(chan result, 1)
	go func() {
		files, err := ReadConfigDir(dir)
		ch <- result{files, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("ReadConfigDir: %v", r.err)
		}
		return r.files
	case <-time.After(5 * time.Second):
		t.Fatal("ReadConfigDir blocked")
		return nil
	}
}

// One unreadable entry is a located diagnostic of its own: every other
// file is read and applied, and each bad one keeps its last good version.
// (Tests run as root, for whom chmod 000 stops nothing: the unreadable
// entries are the kinds that stop root too.)
func TestReadConfigDirBadEntries(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, dir, "discovery/zookeeper.yaml", goodZK)
	bad := []string{"loop", "dangling", "fifo", "fifolink", "dir", "zero", "big"}
	for _, name := range bad {
		mustWrite(t, dir, "services/"+name+".yaml", goodService)
	}
	snap := model.Load(nil, readSoon(t, dir))
	if ds := snap.Diagnostics; len(ds) != 0 {
		t.Fatalf("diagnostics of the good directory: %v", ds)
	}

	svc := func(name string) string { return filepath.Join(dir, "services", name+".yaml") }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range bad {
		must(os.Remove(svc(name)))
	}
	must(os.Symlink("loop.yaml", svc("loop")))
	must(os.Symlink("gone.yaml", svc("dangling")))
	must(syscall.Mkfifo(svc("fifo"), 0o644))
	must(os.Symlink("fifo.yaml", svc("fifolink")))
	must(os.Mkdir(svc("dir"), 0o755))
	must(os.Symlink("/dev/zero", svc("zero")))
	old := MaxConfigFileSize
	MaxConfigFileSize = int64(len(goodService)) + 10
	t.Cleanup(func() { MaxConfigFileSize = old })
	mustWrite(t, dir, "services/big.yaml", goodService+"# "+strings.Repeat("x", 64)+"\n")
	// A new file beside the bad ones is read and applied.
	mustWrite(t, dir, "services/new.yaml", goodService)

	snap = model.Load(snap, readSoon(t, dir))
	keep := "warning: keeping the last good version of this file"
	want := strings.Join([]string{
		"services/big.yaml: cannot read: larger than " + fmt.Sprint(MaxConfigFileSize) + " bytes, the most a config file may hold (effects.MaxConfigFileSize)",
		"services/big.yaml: " + keep,
		"services/dangling.yaml: cannot read: a symlink to \"gone.yaml\", which does not exist",
		"services/dangling.yaml: " + keep,
		"services/dir.yaml: cannot read: a directory, not a regular file",
		"services/dir.yaml: " + keep,
		"services/fifo.yaml: cannot read: a named pipe (FIFO), not a regular file",
		"services/fifo.yaml: " + keep,
		"services/fifolink.yaml: cannot read: a named pipe (FIFO), not a regular file",
		"services/fifolink.yaml: " + keep,
		"services/loop.yaml: cannot read: too many levels of symbolic links",
		"services/loop.yaml: " + keep,
		"services/zero.yaml: cannot read: a character device, not a regular file",
		"services/zero.yaml: " + keep,
	}, "\n") + "\n"
	if diff := cmp.Diff(want, snap.Diagnostics.String()); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	var got []string
	for id := range snap.Config.Services {
		got = append(got, id)
	}
	if len(got) != len(bad)+1 || snap.Config.Services["new"].Name == "" {
		t.Errorf("services in force: %v; want the %d kept ones and new", got, len(bad))
	}

	// Read from scratch (validate, a start), a bad file is only its error.
	snap = model.Load(nil, readSoon(t, dir))
	if n := len(snap.Diagnostics.Errors()); n != len(bad) {
		t.Errorf("%d errors, want %d: %v", n, len(bad), snap.Diagnostics)
	}
	if len(snap.Config.Services) != 1 {
		t.Errorf("services in force from scratch: %v", snap.Config.Services)
	}
}

// A file at the limit is read; one byte more is refused.
func TestReadConfigDirSizeLimit(t *testing.T) {
	dir := t.TempDir()
	old := MaxConfigFileSize
	MaxConfigFileSize = int64(len(goodService))
	t.Cleanup(func() { MaxConfigFileSize = old })
	mustWrite(t, dir, "services/a.yaml", goodService)
	mustWrite(t, dir, "services/b.yaml", goodService+"\n")
	files := readSoon(t, dir)
	if len(files) != 2 || files[0].Err != nil || string(files[0].Data) != goodService || files[1].Err == nil || files[1].Data != nil {
		t.Errorf("files: %+v", files)
	}
}

// A file its reader may not open is an error of its own. Root reads
// anything, so this runs only as another user.
func TestReadConfigDirPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads a chmod 000 file; TestReadConfigDirBadEntries covers what stops root")
	}
	dir := t.TempDir()
	mustWrite(t, dir, "services/a.yaml", goodService)
	mustWrite(t, dir, "services/b.yaml", goodService)
	if err := os.Chmod(filepath.Join(dir, "services/b.yaml"), 0); err != nil {
		t.Fatal(err)
	}
	files := readSoon(t, dir)
	if len(files) != 2 || files[0].Err != nil || files[1].Err == nil || files[1].Err.Error() != "permission denied" {
		t.Errorf("files: %+v", files)
	}
}

// A subdirectory that cannot be listed is an error of its own, located at
// the directory: the files last read from it keep their last good
// versions, and the other subdirectories are read.
func TestReadConfigDirUnlistableSubdir(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, dir, "discovery/zookeeper.yaml", goodZK)
	mustWrite(t, dir, "services/a.yaml", goodService)
	mustWrite(t, dir, "services/b.yaml", goodService)
	first := model.Load(nil, readSoon(t, dir))
	if len(first.Diagnostics) != 0 || len(first.Config.Services) != 2 {
		t.Fatalf("good directory: %v %v", first.Diagnostics, first.Config.Services)
	}
	services := filepath.Join(dir, "services")
	for _, c := range []struct {
		name   string
		make   func() error
		reason string
	}{
		{"symlink loop", func() error { return os.Symlink("services", services) }, "too many levels of symbolic links"},
		{"dangling symlink", func() error { return os.Symlink("gone", services) }, `a symlink to "gone", which does not exist`},
		{"regular file", func() error { return os.WriteFile(services, nil, 0o644) }, "not a directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.RemoveAll(services); err != nil {
				t.Fatal(err)
			}
			if err := c.make(); err != nil {
				t.Fatal(err)
			}
			mustWrite(t, dir, "discovery/zookeeper.yaml", strings.Replace(goodZK, "/lighthouse/services", "/elsewhere", 1))
			snap := model.Load(first, readSoon(t, dir))
			want := "services/: cannot list: " + c.reason + "\n" +
				"services/a.yaml: warning: keeping the last good version of this file\n" +
				"services/b.yaml: warning: keeping the last good version of this file\n"
			if diff := cmp.Diff(want, snap.Diagnostics.String()); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			if len(snap.Config.Services) != 2 || snap.Config.Discovery["zookeeper"].Path != "/elsewhere" {
				t.Errorf("in force: services %v, discovery %v", snap.Config.Services, snap.Config.Discovery)
			}
			if fresh := model.Load(nil, readSoon(t, dir)); fresh.Diagnostics.String() != "services/: cannot list: "+c.reason+"\n" {
				t.Errorf("from scratch: %v", fresh.Diagnostics)
			}
		})
	}
}
