// Package effects is the imperative shell's contact with the world:
// the config directory on disk, ZooKeeper, the HAProxy process and its
// sockets, and the health probes. Everything here does I/O; the decisions
// are made in the pure packages model, render and plan.
package effects

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"lighthouse/model"
)

// MaxConfigFileSize is the largest config file ReadConfigDir reads, in
// bytes (4 MiB). A larger file is not read: it is a located error of its
// own, and the file's last good version stays in force.
var MaxConfigFileSize int64 = 4 << 20

// ReadConfigDir reads every file of a config directory that model.Load
// looks at (logging.yaml and the YAML files of balancers/, discovery/,
// clusters/ and services/). A missing subdirectory is not an error.
//
// One bad entry affects only itself: a config path that cannot be read (a
// symlink loop, a dangling symlink, a permission error, anything but a
// regular file, a file larger than MaxConfigFileSize) is returned as a
// model.File with Err set, which model.Load reports at that file; a
// subdirectory that cannot be listed (not a directory, a symlink loop or to
// nothing) likewise, with its path and a "/" ("clusters/"). Only regular
// files are opened, without blocking, so a FIFO or a device never stalls or
// floods the read. The error is for the directory as a whole (missing, not
// a directory, not listable).
func ReadConfigDir(dir string) ([]model.File, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("read config dir: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("read config dir: %s is not a directory", dir)
	}
	var files []model.File
	for _, sub := range []string{".", "balancers", "discovery", "clusters", "services"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			if sub == "." {
				return nil, fmt.Errorf("read config dir %s: %w", dir, err)
			}
			if err := subdirError(filepath.Join(dir, sub), err); err != nil {
				files = append(files, model.File{Path: sub + "/", Err: err})
			}
			continue
		}
		for _, ent := range entries {
			rel := filepath.ToSlash(filepath.Join(sub, ent.Name()))
			if !model.IsConfigPath(rel) {
				continue
			}
			data, err := readConfigFile(filepath.Join(dir, rel))
			switch {
			case errors.Is(err, errGone):
				continue // removed while we read
			case err != nil:
				files = append(files, model.File{Path: rel, Err: err})
			default:
				files = append(files, model.File{Path: rel, Data: data})
			}
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// subdirError says why a subdirectory could not be listed; nil when it is
// simply absent.
func subdirError(p string, err error) error {
	if !errors.Is(err, fs.ErrNotExist) {
		return bare(err)
	}
	if _, lerr := os.Lstat(p); lerr != nil {
		return nil // absent
	}
	target, _ := os.Readlink(p)
	return fmt.Errorf("a symlink to %s, which does not exist", clipName(target))
}

// errGone is a file removed between listing and reading it.
var errGone = errors.New("removed")

// readConfigFile reads one config file: a regular file (or a symlink to
// one) of at most MaxConfigFileSize bytes. Its errors name neither the
// operation nor the path: the diagnostic they become is located at the
// file.
func readConfigFile(p string) ([]byte, error) {
	st, err := os.Stat(p) // follows symlinks; opens nothing
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if _, lerr := os.Lstat(p); lerr != nil {
				return nil, errGone
			}
			target, _ := os.Readlink(p)
			return nil, fmt.Errorf("a symlink to %s, which does not exist", clipName(target))
		}
		return nil, bare(err)
	}
	if err := regularAndSmall(st); err != nil {
		return nil, err
	}
	// O_NONBLOCK: should the path turn into a FIFO after the Stat, the
	// open still returns at once, and the check below refuses it.
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errGone
		}
		return nil, bare(err)
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return nil, bare(err)
	}
	if err := regularAndSmall(st); err != nil {
		return nil, err
	}
	// The file may grow after the Stat: read one byte more than allowed
	// to tell.
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigFileSize+1))
	if err != nil {
		return nil, bare(err)
	}
	if int64(len(data)) > MaxConfigFileSize {
		return nil, tooLarge()
	}
	return data, nil
}

func regularAndSmall(st fs.FileInfo) error {
	m := st.Mode()
	if !m.IsRegular() {
		return fmt.Errorf("%s, not a regular file", modeName(m))
	}
	if st.Size() > MaxConfigFileSize {
		return tooLarge()
	}
	return nil
}

func tooLarge() error {
	return fmt.Errorf("larger than %s, the most a config file may hold (effects.MaxConfigFileSize)", sizeName(MaxConfigFileSize))
}

func modeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file"
}

func sizeName(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// bare strips the operation and path from a file system error: "too many
// levels of symbolic links", "permission denied".
func bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// maxNameLen is the most of a name from the file system (a symlink's
// target) that an error echoes.
const maxNameLen = 200

func clipName(s string) string {
	if len(s) <= maxNameLen {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:maxNameLen], len(s))
}
