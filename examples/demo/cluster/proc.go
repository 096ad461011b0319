package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"lighthouse/internal/proc"
)

// Proc is one program the cluster started: the leader of its own process
// group, its output appended to a log file, its pid in a pid file.
type Proc struct {
	*proc.Proc
	// Host is the example host it runs on ("app01"); "" for ZooKeeper.
	Host string
	// Name says what it is: "writer", "reporter", "redis", "webapp-8000".
	Name string
	// Log is the file receiving its stdout and stderr.
	Log string
	// PidFile holds its pid while it runs.
	PidFile string

	stopping atomic.Bool // Stop was called: the exit is expected
}

// Label is "host/name", or the name alone without a host.
func (p *Proc) Label() string {
	if p.Host == "" {
		return p.Name
	}
	return p.Host + "/" + p.Name
}

// startProc starts argv in its own process group (so that stopping it also
// stops anything it forked) with Pdeathsig, so that the kernel kills it if
// the orchestrator dies without cleaning up (internal/proc). Its output is
// appended to log; its pid is in a pid file beside it while it runs.
func startProc(host, name, dir, log string, argv []string) (*Proc, error) {
	if err := os.MkdirAll(filepath.Dir(log), 0o755); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Host: host, Name: name, Log: log, PidFile: strings.TrimSuffix(log, ".log") + ".pid"}
	started, err := proc.Start("started", dir, log, argv)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", p.Label(), err)
	}
	p.Proc = started
	_ = os.WriteFile(p.PidFile, []byte(strconv.Itoa(p.Pid())+"\n"), 0o644)
	go func() {
		<-p.Done()
		_ = os.Remove(p.PidFile)
	}()
	return p, nil
}

// stop sends SIGTERM to the process group and waits up to grace for the
// leader to exit (less if force is closed first), then SIGKILLs the group.
// It reports an error when the process had to be killed or ended badly.
func (p *Proc) stop(grace time.Duration, force <-chan struct{}) error {
	p.stopping.Store(true)
	if p.Exited() {
		p.Kill()
		return nil
	}
	killed := p.Stop(grace, force)
	forced := false
	select {
	case <-force:
		forced = true
	default:
	}
	switch {
	case killed:
		return fmt.Errorf("%s did not stop within %v of SIGTERM: killed (log: %s)", p.Label(), grace, p.Log)
	case !forced && !proc.CleanExit(p.Err()):
		return fmt.Errorf("%s: %v (log: %s)", p.Label(), p.Err(), p.Log)
	}
	return nil
}

// LogTail returns at most the last n bytes of a log file, for error messages.
func LogTail(path string, n int64) string { return proc.LogTail(path, n) }
