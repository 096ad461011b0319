package haproxy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"lighthouse/model"
	"lighthouse/model/configtext"
	"lighthouse/model/haproxyapi"
)

// Local is the HAProxy of this node as the writer drives it: the process on
// the balancer's config, pid and socket files, and its admin socket. It
// satisfies runtime.HAProxy.
type Local struct {
	Process Process
	Socket  Socket

	mu   sync.Mutex // guards file: the writer's file syncer installs while its loop observes
	file fileSeen

	live liveness // the watch on the HAProxy that runs (liveness.go)
}

// fileSeen is the config file as last read or installed, and the identity
// of the file on disk that held it: while the file on disk is the same
// (inode, size and modification time), Observe hands back the same Text
// rather than reading megabytes again, and the planner compares it with
// the rendered config at no cost.
type fileSeen struct {
	text  configtext.Text
	ino   uint64
	size  int64
	mtime time.Time
}

func statFile(path string) (fileSeen, error) {
	st, err := os.Stat(path)
	if err != nil {
		return fileSeen{}, err
	}
	f := fileSeen{size: st.Size(), mtime: st.ModTime()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		f.ino = sys.Ino
	}
	return f, nil
}

func (f fileSeen) same(g fileSeen) bool {
	return f.ino == g.ino && f.size == g.size && f.mtime.Equal(g.mtime)
}

// readFile returns the config file's text (empty when there is none).
func (l *Local) readFile() (configtext.Text, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	path := l.Process.ConfigFile
	st, err := statFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return configtext.Text{}, nil
	}
	if err != nil {
		return configtext.Text{}, err
	}
	if st.same(l.file) {
		return l.file.text, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return configtext.Text{}, nil
	}
	if err != nil {
		return configtext.Text{}, err
	}
	st.text = configtext.OfBytes(data)
	if int64(len(data)) == st.size {
		l.file = st // otherwise it changed while read: read it again next time
	}
	return st.text, nil
}

// NewLocal makes the Local HAProxy of a balancer config.
func NewLocal(binary, configFile, socketFile, pidFile string) *Local {
	return &Local{
		Process: Process{Binary: binary, ConfigFile: configFile, PidFile: pidFile, MasterSocket: MasterSocketPath(socketFile)},
		Socket:  Socket{Path: socketFile},
	}
}

// SetVersion tells l the version of its HAProxy (effects.HAProxyVersion
// of the binary), so that the process and the admin socket read HAProxy's
// answers as that release's. Call it before l is used; without it, the
// answers of every supported release are understood.
func (l *Local) SetVersion(v model.Version) {
	l.Process.Version = v
	l.Socket.Version = v
}

// Observe reports whether HAProxy runs, the config file, and the servers of
// every backend (nil when the admin socket does not answer).
func (l *Local) Observe(ctx context.Context) (haproxyapi.Observation, error) {
	o, ask, err := l.observeProcess(ctx)
	if !ask {
		return o, err
	}
	sctx, cancel := context.WithTimeout(ctx, observeTimeout)
	states, err := l.Socket.ShowServersState(sctx, "")
	cancel()
	if err != nil {
		o.Unresponsive = noAnswer(err) && l.unresponsive()
		return o, nil // the planner falls back on the loaded config's servers
	}
	o.Servers = map[string][]haproxyapi.ServerRow{}
	for _, s := range states {
		o.Servers[s.Backend] = append(o.Servers[s.Backend], s.row())
	}
	return o, nil
}

// observeProcess reads the config file and whether HAProxy runs and
// answers; ask is true when its admin socket is worth asking.
func (l *Local) observeProcess(ctx context.Context) (o haproxyapi.Observation, ask bool, err error) {
	if o.File, err = l.readFile(); err != nil {
		return o, false, fmt.Errorf("observe HAProxy: %w", err)
	}
	var master int
	master, o.Running = l.Process.Running(ctx)
	if !o.Running {
		return o, false, nil
	}
	l.watch(ctx, master)
	if o.Unresponsive = l.unresponsive(); o.Unresponsive {
		return o, false, nil // asking the worker would only wait
	}
	return o, true, nil
}

// row is what an observation keeps of a row of `show servers state`.
func (s ServersStateRow) row() haproxyapi.ServerRow {
	return haproxyapi.ServerRow{Name: s.Name, Addr: s.Addr, Port: s.Port, State: s.State, Weight: s.UWeight}
}

// ObserveBackends is Observe for some backends only: whether HAProxy runs,
// the config file, and the servers of those backends (`show servers state
// BACKEND` for each). An error (a backend HAProxy does not have, no
// answer) means: observe everything.
func (l *Local) ObserveBackends(ctx context.Context, backends []string) (haproxyapi.Observation, error) {
	o, ask, err := l.observeProcess(ctx)
	if !ask {
		return o, err
	}
	o.Servers = make(map[string][]haproxyapi.ServerRow, len(backends))
	if len(backends) == 0 {
		return o, nil
	}
	sctx, cancel := context.WithTimeout(ctx, observeTimeout)
	defer cancel()
	// One connection for all of them (interactive mode, as Apply).
	reqs := make([]request, len(backends))
	for i, b := range backends {
		if err := checkName("backend", b); err != nil {
			return o, fmt.Errorf("observe backend %s: %w", b, err)
		}
		reqs[i] = request{cmd: "show servers state " + b}
	}
	answers, err := exchangeBatch(sctx, l.Socket.Path, reqs, observeTimeout)
	if err != nil {
		return o, fmt.Errorf("observe backends: %w", err)
	}
	if len(answers) != len(backends) {
		return o, fmt.Errorf("observe backends: %d answers for %d backends", len(answers), len(backends))
	}
	for i, b := range backends {
		states, err := parseServersState(answers[i], l.Socket.answers().ServersState)
		if err != nil {
			return o, fmt.Errorf("observe backend %s: %w", b, err)
		}
		list := make([]haproxyapi.ServerRow, 0, len(states))
		for _, s := range states {
			list = append(list, s.row())
		}
		o.Servers[b] = list
	}
	return o, nil
}

// Validate runs `haproxy -c` on the candidate written beside the live file.
func (l *Local) Validate(ctx context.Context, data configtext.Text) error {
	if err := os.MkdirAll(filepath.Dir(l.Process.ConfigFile), 0o755); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	if err := l.ensureStateFile(); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	cand, err := WriteCandidate(l.Process.ConfigFile, data.Bytes())
	if err != nil {
		return err
	}
	defer os.Remove(cand)
	return l.Process.Validate(ctx, cand)
}

// Install writes the config file atomically (nothing when unchanged).
func (l *Local) Install(ctx context.Context, data configtext.Text) error {
	path := l.Process.ConfigFile
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("install config: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if st, err := statFile(path); err == nil && st.same(l.file) && l.file.text.Equal(data) {
		return nil
	}
	if _, err := WriteFileIfChanged(path, data.Bytes(), 0o644); err != nil {
		return err
	}
	st, err := statFile(path)
	if err != nil {
		return fmt.Errorf("install config: %w", err)
	}
	st.text = data
	l.file = st
	return nil
}

// Start starts HAProxy in master-worker mode, daemonized. A server state
// file that does not exist yet is created empty first (HAProxy warns
// about a missing one).
func (l *Local) Start(ctx context.Context) error {
	for _, p := range []string{l.Process.PidFile, l.Process.MasterSocket, l.Socket.Path} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("start HAProxy: %w", err)
		}
	}
	if err := l.ensureStateFile(); err != nil {
		return fmt.Errorf("start HAProxy: %w", err)
	}
	defer l.changing()()
	return l.Process.Start(ctx)
}

// Reload reloads HAProxy gracefully through its master.
func (l *Local) Reload(ctx context.Context) error {
	defer l.changing()()
	return l.Process.Reload(ctx)
}

// StateFile is the server state file of l's config: the one the rendered
// config names (render.StateFile).
func (l *Local) StateFile() string { return l.Process.ConfigFile + ".state" }

// emptyState is a server state file of no servers: its format version.
const emptyState = "1\n"

// ensureStateFile creates the server state file, without servers, when it
// does not exist.
func (l *Local) ensureStateFile() error {
	path := l.StateFile()
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil // there, or the start or check says what is wrong
	}
	return WriteFileAtomic(path, []byte(emptyState), 0o644)
}

// SaveState writes `show servers state` to the server state file at path,
// atomically, once the answer is known to be one: HAProxy loads it when
// the next worker starts.
func (l *Local) SaveState(ctx context.Context, path string) error {
	const cmd = "show servers state"
	answer, err := l.Socket.Send(ctx, cmd)
	if err != nil {
		return fmt.Errorf("save server states: %w", err)
	}
	if _, err := parseServersState(answer, l.Socket.answers().ServersState); err != nil {
		return fmt.Errorf("save server states: %s: %w", cmd, err)
	}
	if err := WriteFileAtomic(path, []byte(answer), 0o644); err != nil {
		return fmt.Errorf("save server states: %w", err)
	}
	return nil
}
