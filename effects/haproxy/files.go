package haproxy

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// CandidateSuffix is appended to the live config's path to name the
// candidate written for validation (WriteCandidate).
const CandidateSuffix = ".candidate"

// WriteFileAtomic replaces path with data: it writes a temporary file in the
// same directory, fsyncs it, sets perm, renames it over path and fsyncs the
// directory. Readers see the old content or the new one, never a part; after
// a crash path holds one of the two. On error the temporary file is removed
// and path is untouched.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteFileIfChanged is WriteFileAtomic unless path already holds exactly
// data, in which case nothing is written. wrote reports whether it wrote.
func WriteFileIfChanged(path string, data []byte, perm fs.FileMode) (wrote bool, err error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	if err := WriteFileAtomic(path, data, perm); err != nil {
		return false, err
	}
	return true, nil
}

// WriteCandidate writes data to path + CandidateSuffix (atomically, with the
// live file's permissions, or 0644 when there is none yet) for validation
// beside the live file; Install then puts it in place. It returns the
// candidate's path.
func WriteCandidate(path string, data []byte) (candidatePath string, err error) {
	perm := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		perm = st.Mode().Perm()
	}
	candidatePath = path + CandidateSuffix
	if err := WriteFileAtomic(candidatePath, data, perm); err != nil {
		return "", fmt.Errorf("write candidate for %s: %w", path, err)
	}
	return candidatePath, nil
}

// Install renames candidate over path and fsyncs the directory, so the live
// file is the old or the new config at every instant. When path already
// holds the candidate's bytes, the candidate is removed instead and
// installed is false. Both must be in the same directory (as WriteCandidate
// makes them).
func Install(candidate, path string) (installed bool, err error) {
	data, err := os.ReadFile(candidate)
	if err != nil {
		return false, fmt.Errorf("install %s: %w", path, err)
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		if err := os.Remove(candidate); err != nil {
			return false, fmt.Errorf("install %s: %w", path, err)
		}
		return false, nil
	}
	if err := os.Rename(candidate, path); err != nil {
		return false, fmt.Errorf("install %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return true, fmt.Errorf("install %s: %w", path, err)
	}
	return true, nil
}

// syncDir fsyncs a directory so that a rename in it is durable. File systems
// that cannot fsync a directory (EINVAL) are let be.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
