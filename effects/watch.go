package effects

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"lighthouse/model"
)

// ConfigSubdirs are the subdirectories of a config directory that hold
// config files; the root holds logging.yaml.
var ConfigSubdirs = []string{"balancers", "discovery", "clusters", "services"}

// Debounce is how long a config directory must be quiet after a change
// before ConfigDir reports it: an editor's save (write a temporary file,
// rename it) or a tool writing several files becomes one change.
const Debounce = 100 * time.Millisecond

// ConfigDir is a watched config directory. It reports "something changed"
// (never what) on Changes; the program then reads the whole directory again
// with Read and loads it over the previous snapshot (model.Load keeps the
// last good version of each file). It satisfies runtime.ConfigSource.
//
// It watches the root and each of ConfigSubdirs that exists. A subdirectory
// created later is watched from then on (and its creation is a change); one
// that is removed is a change too, and is watched again if it comes back.
// Missing subdirectories are not created.
type ConfigDir struct {
	dir     string
	log     *slog.Logger
	w       *fsnotify.Watcher
	changes chan struct{}
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

// WatchConfigDir starts watching dir. log receives watch errors (debug
// level for the events themselves).
func WatchConfigDir(dir string, log *slog.Logger) (*ConfigDir, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("watch config dir: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("watch config dir: %s is not a directory", dir)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch config dir %s: %w", dir, err)
	}
	if err := w.Add(dir); err != nil {
		w.Close()
		return nil, fmt.Errorf("watch config dir %s: %w", dir, err)
	}
	c := &ConfigDir{dir: dir, log: log, w: w, changes: make(chan struct{}, 1), done: make(chan struct{})}
	for _, sub := range ConfigSubdirs {
		if err := c.addSubdir(sub); err != nil {
			w.Close()
			return nil, err
		}
	}
	c.wg.Add(1)
	go c.run()
	return c, nil
}

// addSubdir watches a subdirectory if it exists.
func (c *ConfigDir) addSubdir(sub string) error {
	p := filepath.Join(c.dir, sub)
	st, err := os.Stat(p)
	if err != nil || !st.IsDir() {
		return nil // absent (or not a directory): nothing to watch yet
	}
	if err := c.w.Add(p); err != nil {
		if os.IsNotExist(err) {
			return nil // removed meanwhile
		}
		return fmt.Errorf("watch config dir %s: %w", p, err)
	}
	return nil
}

// Dir returns the watched directory.
func (c *ConfigDir) Dir() string { return c.dir }

// Read reads the config files of the directory (ReadConfigDir).
func (c *ConfigDir) Read() ([]model.File, error) { return ReadConfigDir(c.dir) }

// Changes delivers one value after the directory changed and was then quiet
// for Debounce. Changes that happen before the value is taken merge into it.
func (c *ConfigDir) Changes() <-chan struct{} { return c.changes }

// Close stops watching.
func (c *ConfigDir) Close() error {
	var err error
	c.once.Do(func() {
		close(c.done)
		err = c.w.Close()
		c.wg.Wait()
	})
	if err != nil {
		return fmt.Errorf("stop watching config dir %s: %w", c.dir, err)
	}
	return nil
}

func (c *ConfigDir) run() {
	defer c.wg.Done()
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	defer quiet.Stop()
	for {
		select {
		case <-c.done:
			return
		case ev, ok := <-c.w.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod {
				continue // touch, permission bits: the content is the same
			}
			c.follow(ev)
			c.log.Debug("config dir event", "path", ev.Name, "op", ev.Op.String())
			quiet.Reset(Debounce)
		case err, ok := <-c.w.Errors:
			if !ok {
				return
			}
			// An overflow loses events: treat it as a change, reading
			// everything again is always right.
			c.log.Warn("watching the config dir", "dir", c.dir, "err", err)
			quiet.Reset(Debounce)
		case <-quiet.C:
			select {
			case c.changes <- struct{}{}:
			default: // one is pending already
			}
		}
	}
}

// follow starts watching a subdirectory created (or moved) into the root.
func (c *ConfigDir) follow(ev fsnotify.Event) {
	if !ev.Has(fsnotify.Create) || filepath.Dir(ev.Name) != filepath.Clean(c.dir) {
		return
	}
	base := filepath.Base(ev.Name)
	for _, sub := range ConfigSubdirs {
		if base == sub {
			if err := c.addSubdir(sub); err != nil {
				c.log.Warn("watching a new config subdirectory", "err", err)
			}
		}
	}
}
