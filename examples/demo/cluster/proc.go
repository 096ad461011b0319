package cluster

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Proc is one program the cluster started: the leader of its own process
// group, its output appended to a log file, its pid in a pid file.
type Proc struct {
	// Host is the example host it runs on ("app01"); "" for ZooKeeper.
	Host string
	// Name says what it is: "writer", "reporter", "redis", "webapp-8000".
	Name string
	// Log is the file receiving its stdout and stderr.
	Log string
	// PidFile holds its pid while it runs.
	PidFile string

	cmd      *exec.Cmd
	done     chan struct{} // closed when the process has exited
	err      error         // Wait's result, valid after done
	stopping atomic.Bool   // Stop was called: the exit is expected
}

// Label is "host/name", or the name alone without a host.
func (p *Proc) Label() string {
	if p.Host == "" {
		return p.Name
	}
	return p.Host + "/" + p.Name
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is how the process ended; valid once Done is closed.
func (p *Proc) Err() error { return p.err }

// startProc starts argv in its own process group (so that stopping it also
// stops anything it forked) with Pdeathsig, so that the kernel kills it if
// the orchestrator dies without cleaning up. Its output is appended to log.
func startProc(host, name, dir, log string, argv []string) (*Proc, error) {
	if err := os.MkdirAll(filepath.Dir(log), 0o755); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer f.Close()
	fmt.Fprintf(f, "=== %s started: %s\n", time.Now().Format("2006-01-02 15:04:05.000"), strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &Proc{Host: host, Name: name, Log: log, PidFile: strings.TrimSuffix(log, ".log") + ".pid", cmd: cmd, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", p.Label(), err)
	}
	_ = os.WriteFile(p.PidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
	go func() {
		p.err = cmd.Wait()
		_ = os.Remove(p.PidFile)
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has exited.
func (p *Proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signalGroup signals the process group; a group that is gone is fine.
func (p *Proc) signalGroup(sig syscall.Signal) { _ = syscall.Kill(-p.cmd.Process.Pid, sig) }

// stop sends SIGTERM to the process group and waits up to grace for the
// leader to exit (less if force is closed first), then SIGKILLs the group.
// Whatever is left in the group afterwards is killed too. It reports an
// error when the process had to be killed or ended badly.
func (p *Proc) stop(grace time.Duration, force <-chan struct{}) error {
	p.stopping.Store(true)
	if p.exited() {
		p.signalGroup(syscall.SIGKILL)
		return nil
	}
	p.signalGroup(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	var err error
	select {
	case <-p.done:
		if !cleanExit(p.err) {
			err = fmt.Errorf("%s: %v (log: %s)", p.Label(), p.err, p.Log)
		}
	case <-t.C:
		p.signalGroup(syscall.SIGKILL)
		<-p.done
		err = fmt.Errorf("%s did not stop within %v of SIGTERM: killed (log: %s)", p.Label(), grace, p.Log)
	case <-force:
		p.signalGroup(syscall.SIGKILL)
		<-p.done
	}
	p.signalGroup(syscall.SIGKILL)
	return err
}

// cleanExit reports whether err (from Wait after SIGTERM) is a normal stop:
// exit 0, exit 143 (the JVM on SIGTERM), or death by SIGTERM.
func cleanExit(err error) bool {
	if err == nil {
		return true
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && (ws.Signaled() && ws.Signal() == syscall.SIGTERM || ws.Exited() && ws.ExitStatus() == 143)
}

// LogTail returns at most the last n bytes of a log file, for error messages.
func LogTail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	if st.Size() > n {
		f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	s := string(b)
	if st.Size() > n {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return strings.TrimRight(s, "\n")
}
