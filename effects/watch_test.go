package effects

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func waitChange(t *testing.T, c *ConfigDir, what string) {
	t.Helper()
	select {
	case <-c.Changes():
	case <-time.After(5 * time.Second):
		t.Fatalf("no change reported after %s", what)
	}
}

func noChange(t *testing.T, c *ConfigDir, within time.Duration, what string) {
	t.Helper()
	select {
	case <-c.Changes():
		t.Fatalf("unexpected change %s", what)
	case <-time.After(within):
	}
}

func TestConfigDirReportsChanges(t *testing.T) {
	dir := t.TempDir()
	c, err := WatchConfigDir(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	write := func(rel, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// A subdirectory created after the start is followed, and a file
	// written into it at once is part of the next read.
	if err := os.Mkdir(filepath.Join(dir, "services"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("services/web.yaml", "port: 1\n")
	waitChange(t, c, "creating services/web.yaml")
	files, err := c.Read()
	if err != nil || len(files) != 1 || files[0].Path != "services/web.yaml" {
		t.Fatalf("Read: %v %v", files, err)
	}
	write("services/web.yaml", "port: 2\n")
	waitChange(t, c, "writing services/web.yaml in a new subdirectory")

	// A burst of writes is one change.
	for i := range 20 {
		write("logging.yaml", fmt.Sprintf("level: info # %d\n", i))
	}
	waitChange(t, c, "writing logging.yaml")
	noChange(t, c, 3*Debounce, "after a burst was reported")

	// Rename over (an editor's save), removal.
	write("services/.web.yaml.tmp", "port: 3\n")
	if err := os.Rename(filepath.Join(dir, "services/.web.yaml.tmp"), filepath.Join(dir, "services/web.yaml")); err != nil {
		t.Fatal(err)
	}
	waitChange(t, c, "renaming over services/web.yaml")
	if err := os.Remove(filepath.Join(dir, "services/web.yaml")); err != nil {
		t.Fatal(err)
	}
	waitChange(t, c, "removing services/web.yaml")

	// The subdirectory removed and created again is watched again.
	if err := os.Remove(filepath.Join(dir, "services")); err != nil {
		t.Fatal(err)
	}
	waitChange(t, c, "removing services/")
	if err := os.Mkdir(filepath.Join(dir, "services"), 0o755); err != nil {
		t.Fatal(err)
	}
	waitChange(t, c, "creating services/ again")
	write("services/api.yaml", "port: 4\n")
	waitChange(t, c, "writing services/api.yaml")

	// Other directories are not config: not watched.
	if err := os.Mkdir(filepath.Join(dir, "other"), 0o755); err != nil {
		t.Fatal(err)
	}
	waitChange(t, c, "creating other/ in the root")
	write("other/x.yaml", "x: 1\n")
	noChange(t, c, 3*Debounce, "writing into an unwatched directory")

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestWatchConfigDirErrors(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	if _, err := WatchConfigDir(filepath.Join(t.TempDir(), "missing"), log); err == nil {
		t.Error("a missing directory was accepted")
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := WatchConfigDir(f, log); err == nil {
		t.Error("a file was accepted as a config directory")
	}
}
