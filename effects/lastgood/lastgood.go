// Package lastgood keeps the last good version of each config file on disk,
// so that a writer restarted while a file is broken runs that file's last
// good version instead of dropping what it defines.
package lastgood

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"lighthouse/effects"
	"lighthouse/effects/haproxy"
	"lighthouse/model"
)

// Store keeps the files in Dir, which mirrors the config directory's
// layout (clusters/web.yaml, ...); it belongs to one config directory.
type Store struct {
	Dir string
}

// DefaultDir is where a config directory's last good files are
// kept when no other place is given: $STATE_DIRECTORY (set by systemd's
// StateDirectory=) or /var/lib/lighthouse, then last-good/ and the config
// directory's absolute path with its slashes turned into '_'.
func DefaultDir(configDir string) string {
	base := os.Getenv("STATE_DIRECTORY")
	if i := strings.IndexByte(base, ':'); i >= 0 {
		base = base[:i] // several directories: the first
	}
	if base == "" {
		base = "/var/lib/lighthouse"
	}
	abs, err := filepath.Abs(configDir)
	if err != nil {
		abs = configDir
	}
	return filepath.Join(base, "last-good", strings.ReplaceAll(strings.Trim(abs, "/"), "/", "_"))
}

// Load reads the files kept, in model.File form. A missing Dir holds none.
func (l Store) Load() ([]model.File, error) {
	if _, err := os.Stat(l.Dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	files, err := effects.ReadConfigDir(l.Dir)
	if err != nil {
		return nil, fmt.Errorf("last good config: %w", err)
	}
	out := files[:0]
	for _, f := range files {
		if f.Err == nil {
			out = append(out, f)
		}
	}
	return out, nil
}

// Save makes Dir hold exactly files: each one whose content changed is
// written atomically, and the files no longer given are removed.
func (l Store) Save(files []model.File) error {
	keep := map[string]bool{}
	var errs []error
	for _, f := range files {
		keep[f.Path] = true
		path := filepath.Join(l.Dir, filepath.FromSlash(f.Path))
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, f.Data) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := haproxy.WriteFileAtomic(path, f.Data, 0o600); err != nil {
			errs = append(errs, err)
		}
	}
	kept, err := l.Load()
	if err != nil {
		errs = append(errs, err)
	}
	for _, f := range kept {
		if !keep[f.Path] {
			if err := os.Remove(filepath.Join(l.Dir, filepath.FromSlash(f.Path))); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("save last good config in %s: %w", l.Dir, err)
	}
	return nil
}
