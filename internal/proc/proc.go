// Package proc starts and stops the programs that the tests and the demo
// run (ZooKeeper, HAProxy, Redis, lighthouse itself, the example apps):
// each is the leader of its own process group, so that stopping it stops
// whatever it forked, and dies with the process that started it
// (Pdeathsig), so that nothing outlives a killed test or demo. Its output
// is appended to a log file.
package proc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Proc is one started program.
type Proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the program has exited
	err  error         // Wait's result, valid once done is closed
}

// Start starts argv (argv[0] a path) in dir, appending its stdout and
// stderr to logPath after a line that says when and what was started,
// headed by banner.
func Start(banner, dir, logPath string, argv []string) (*Proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fmt.Fprintf(f, "=== %s %s: %s\n", banner, time.Now().Format("2006-01-02 15:04:05.000"), strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Cmd is the started command.
func (p *Proc) Cmd() *exec.Cmd { return p.cmd }

// Pid is the program's process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the program has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is how the program ended (Wait's error); valid once Done is closed.
func (p *Proc) Err() error { return p.err }

// Exited reports whether the program has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the program's process group; a group that is gone
// is fine.
func (p *Proc) Signal(sig syscall.Signal) { _ = syscall.Kill(-p.cmd.Process.Pid, sig) }

// Stop sends SIGTERM to the group and waits up to grace for the program to
// exit (less if force is closed first), then SIGKILLs the group; whatever
// is left in the group afterwards is killed too. killed reports that the
// grace ran out.
func (p *Proc) Stop(grace time.Duration, force <-chan struct{}) (killed bool) {
	if !p.Exited() {
		p.Signal(syscall.SIGTERM)
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-p.done:
		case <-t.C:
			killed = true
		case <-force:
		}
	}
	p.Kill()
	return killed
}

// Kill SIGKILLs the group and waits for the program.
func (p *Proc) Kill() {
	p.Signal(syscall.SIGKILL)
	<-p.done
	p.Signal(syscall.SIGKILL) // what it forked before it died
}

// CleanExit reports whether err (Wait's, after SIGTERM) is a normal stop:
// exit 0, exit 143 (the JVM on SIGTERM), or death by SIGTERM.
func CleanExit(err error) bool {
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

// LogTail returns at most the last n bytes of a log file, from the start
// of a line, saying how much was cut; for error messages.
func LogTail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	cut := st.Size() > n
	if cut {
		if _, err := f.Seek(st.Size()-n, io.SeekStart); err != nil {
			return fmt.Sprintf("(cannot read %s: %v)", path, err)
		}
	}
	b, _ := io.ReadAll(f)
	s := string(b)
	if cut {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
		s = fmt.Sprintf("(... %d bytes before ...)\n", st.Size()-int64(len(s))) + s
	}
	return strings.TrimRight(s, "\n")
}
