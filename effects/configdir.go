// Package effects is the imperative shell's contact with the world:
// the config directory on disk, ZooKeeper, the HAProxy process and its
// sockets, and the health probes. Everything here does I/O; the decisions
// are made in the pure packages model, render and plan.
package effects

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"lighthouse/model"
)

// ReadConfigDir reads every file of a config directory that model.Load
// looks at (logging.yaml and the YAML files of balancers/, discovery/,
// clusters/ and services/). A missing subdirectory is not an error.
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
			if os.IsNotExist(err) {
				continue
			}
			return nil, fmt.Errorf("read config dir %s: %w", filepath.Join(dir, sub), err)
		}
		for _, ent := range entries {
			rel := filepath.ToSlash(filepath.Join(sub, ent.Name()))
			if !model.IsConfigPath(rel) || !ent.Type().IsRegular() && ent.Type()&fs.ModeSymlink == 0 {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, rel))
			if err != nil {
				if os.IsNotExist(err) {
					continue // removed while we read
				}
				return nil, fmt.Errorf("read config file: %w", err)
			}
			files = append(files, model.File{Path: rel, Data: data})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}
