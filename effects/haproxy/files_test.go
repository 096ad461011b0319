package haproxy

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// entries lists a directory's file names.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Name())
	}
	return names
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Ino
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "haproxy.cfg")
	if err := WriteFileAtomic(path, []byte("one\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("two\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	if string(b) != "two\n" || st.Mode().Perm() != 0o640 {
		t.Errorf("after two writes: %q %v", b, st.Mode())
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %v, want only haproxy.cfg", names)
	}

	// Failures leave nothing behind and the target untouched.
	if err := WriteFileAtomic(filepath.Join(dir, "nosuchdir", "x.cfg"), []byte("x"), 0o644); err == nil {
		t.Error("write into a missing directory succeeded")
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "keep"), nil, 0o644)
	if err := WriteFileAtomic(sub, []byte("x"), 0o644); err == nil {
		t.Error("write over a non-empty directory succeeded")
	}
	if names := entries(t, dir); len(names) != 2 {
		t.Errorf("directory holds %v after failed writes, want haproxy.cfg and sub", names)
	}
}

// TestWriteFileAtomicReaders: a reader never sees anything but one of the
// complete versions.
func TestWriteFileAtomicReaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	versions := [][]byte{bytes.Repeat([]byte("a"), 256<<10), bytes.Repeat([]byte("b\n"), 100<<10)}
	if err := WriteFileAtomic(path, versions[0], 0o644); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads, bad atomic.Int64
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				b, err := os.ReadFile(path)
				reads.Add(1)
				if err != nil || !bytes.Equal(b, versions[0]) && !bytes.Equal(b, versions[1]) {
					bad.Add(1)
				}
			}
		}()
	}
	for i := range 100 {
		if err := WriteFileAtomic(path, versions[i%2], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d of %d reads saw a partial or missing file", bad.Load(), reads.Load())
	}
}

func TestWriteFileIfChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if wrote, err := WriteFileIfChanged(path, []byte("one\n"), 0o644); !wrote || err != nil {
		t.Fatalf("first write: %v, %v", wrote, err)
	}
	ino := inode(t, path)
	if wrote, err := WriteFileIfChanged(path, []byte("one\n"), 0o644); wrote || err != nil {
		t.Errorf("same content: wrote=%v, %v; want no write", wrote, err)
	}
	if inode(t, path) != ino {
		t.Error("same content replaced the file")
	}
	if wrote, err := WriteFileIfChanged(path, []byte("two\n"), 0o644); !wrote || err != nil {
		t.Errorf("new content: %v, %v", wrote, err)
	}
}

func TestCandidateAndInstall(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "haproxy.cfg")

	// No live file yet: the candidate is 0644 and Install creates the file.
	cand, err := WriteCandidate(path, []byte("one\n"))
	if err != nil || cand != path+".candidate" {
		t.Fatalf("WriteCandidate = %q, %v", cand, err)
	}
	if st, _ := os.Stat(cand); st.Mode().Perm() != 0o644 {
		t.Errorf("candidate mode %v", st.Mode())
	}
	if ok, err := Install(cand, path); !ok || err != nil {
		t.Fatalf("Install = %v, %v", ok, err)
	}
	if _, err := os.Stat(cand); !os.IsNotExist(err) {
		t.Errorf("candidate still there: %v", err)
	}

	// The candidate takes the live file's permissions.
	os.Chmod(path, 0o600)
	cand, _ = WriteCandidate(path, []byte("two\n"))
	if st, _ := os.Stat(cand); st.Mode().Perm() != 0o600 {
		t.Errorf("candidate mode %v, want the live file's 0600", st.Mode())
	}
	if b, _ := os.ReadFile(path); string(b) != "one\n" {
		t.Errorf("live file changed by WriteCandidate: %q", b)
	}
	if ok, err := Install(cand, path); !ok || err != nil {
		t.Fatalf("Install = %v, %v", ok, err)
	}
	if b, _ := os.ReadFile(path); string(b) != "two\n" {
		t.Errorf("live file after Install: %q", b)
	}

	// Same content: nothing installed, the candidate goes, the live file
	// stays the same file.
	ino := inode(t, path)
	cand, _ = WriteCandidate(path, []byte("two\n"))
	if ok, err := Install(cand, path); ok || err != nil {
		t.Errorf("Install of identical content = %v, %v; want false, nil", ok, err)
	}
	if inode(t, path) != ino {
		t.Error("identical content replaced the live file")
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %v, want only haproxy.cfg", names)
	}
	if _, err := Install(filepath.Join(dir, "nosuch"), path); err == nil {
		t.Error("Install of a missing candidate succeeded")
	}
}
