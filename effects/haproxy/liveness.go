package haproxy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// This file is how the writer learns at once that its HAProxy stopped: a
// watch on the master and its current workers through pidfds, and probes
// of the worker through the admin socket. The
// daemonized master is not the writer's child, so it cannot be waited for;
// a pidfd (Linux 5.3 on) can be polled for any process, and becomes
// readable when that process exits. Every supported release's master exits
// within a few milliseconds of its current worker being killed (even with
// `no-exit-on-failure`: it exits once no worker is left), and a worker
// exits within a few milliseconds of its master being killed; either pid
// tells.
//
// A stopped (SIGSTOP) or wedged worker does not exit: its master keeps
// answering, and its listeners keep taking connections that nobody
// accepts. The probes tell: `show info` on the admin socket every
// probeEvery, and probeFailures in a row without an answer within
// probeTimeout make the worker unresponsive (Observe says so; the planner
// kills HAProxy and starts it again). A reload alone would not do: on every
// release the new worker, failing to take the listeners over from the
// stopped one, binds its own beside them, and about half of the new
// connections still go to the stopped worker's.

// The worker's probes. A stopped worker is noticed within about
// probeEvery + probeFailures × probeTimeout (0.4 s).
const (
	probeEvery    = 100 * time.Millisecond
	probeTimeout  = 100 * time.Millisecond
	probeFailures = 3
)

// observeTimeout bounds Observe's `show servers state`: past it, the probes
// have had time to tell whether the worker stopped. (Too short a bound would
// cut a large config's answer: Observe then reports no servers and the
// planner falls back on the loaded config's.)
const observeTimeout = 2 * time.Second

// sysPidfdOpen is pidfd_open(2)'s number, the same on every Linux
// architecture (the syscall package predates it).
const sysPidfdOpen = 434

const (
	pollIn  = 0x1
	pollHup = 0x10
)

// exitWatch waits for one process to exit.
type exitWatch struct {
	pid  int
	f    *os.File
	once sync.Once
}

// watchExit calls onExit once, from a goroutine of its own, when process
// pid exits (at once if it is gone already). Close ends the watch without
// calling it.
func watchExit(pid int, onExit func()) (*exitWatch, error) {
	fd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if errno != 0 {
		return nil, fmt.Errorf("watch pid %d: pidfd_open: %w", pid, errno)
	}
	if err := syscall.SetNonblock(int(fd), true); err != nil {
		syscall.Close(int(fd))
		return nil, fmt.Errorf("watch pid %d: %w", pid, err)
	}
	// A non-blocking fd joins the runtime's poller: waiting for it takes
	// no thread.
	w := &exitWatch{pid: pid, f: os.NewFile(fd, "pidfd "+strconv.Itoa(pid))}
	rc, err := w.f.SyscallConn()
	if err != nil {
		w.f.Close()
		return nil, fmt.Errorf("watch pid %d: %w", pid, err)
	}
	go func() {
		exited := false
		err := rc.Read(func(fd uintptr) bool {
			exited = readable(fd)
			return exited
		})
		if err != nil && !errors.Is(err, os.ErrClosed) {
			// Not pollable after all: look every 20 ms until the process
			// exits or the watch is closed.
			for !exited {
				time.Sleep(20 * time.Millisecond)
				if rc.Control(func(fd uintptr) { exited = readable(fd) }) != nil {
					break
				}
			}
		}
		if exited {
			onExit()
		}
	}()
	return w, nil
}

// Close ends the watch.
func (w *exitWatch) Close() {
	if w != nil {
		w.once.Do(func() { w.f.Close() })
	}
}

// readable reports, without blocking, whether a pidfd says its process
// exited.
func readable(fd uintptr) bool {
	pfd := struct {
		fd             int32
		events, revent int16
	}{fd: int32(fd), events: pollIn}
	var ts syscall.Timespec // zero: do not wait
	n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	return errno == 0 && n == 1 && pfd.revent&(pollIn|pollHup) != 0
}

// liveness watches the HAProxy that Observe last saw running: its master,
// and the current workers of the master's `show proc`.
type liveness struct {
	mu      sync.Mutex
	changed chan struct{} // capacity 1: one pending notice is enough
	master  *exitWatch
	workers []*exitWatch
	current bool // workers are those of the last successful start or reload

	stopProbe context.CancelFunc // ends the probes of master's worker
	failures  int                // probes in a row without an answer
	busy      int                // starts and reloads under way: probes do not count
}

func (lv *liveness) channel() chan struct{} {
	if lv.changed == nil {
		lv.changed = make(chan struct{}, 1)
	}
	return lv.changed
}

func (lv *liveness) notify() {
	select {
	case lv.channel() <- struct{}{}:
	default:
	}
}

// Liveness returns a channel that receives a value soon after the HAProxy
// that Observe last reported running stopped: its master or one of its
// current workers exited (noticed within milliseconds). The next Observe
// tells what is left and watches again.
func (l *Local) Liveness() <-chan struct{} {
	l.live.mu.Lock()
	defer l.live.mu.Unlock()
	return l.live.channel()
}

// watch makes sure that master, seen running, and its current workers are
// watched. It costs nothing while they are watched already.
func (l *Local) watch(ctx context.Context, master int) {
	lv := &l.live
	lv.mu.Lock()
	defer lv.mu.Unlock()
	if lv.master == nil || lv.master.pid != master {
		lv.master.Close()
		lv.master = nil
		lv.current = false
		lv.endProbes()
		w, err := watchExit(master, func() {
			lv.mu.Lock()
			defer lv.mu.Unlock()
			lv.endProbes()
			lv.notify()
		})
		if err != nil {
			return // the resync still notices, later
		}
		lv.master = w
		if l.Socket.Path != "" {
			pctx, cancel := context.WithCancel(context.Background())
			lv.stopProbe = cancel
			go l.probe(pctx)
		}
	}
	if lv.current {
		return
	}
	for _, w := range lv.workers {
		w.Close()
	}
	lv.workers = nil
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	pl, err := l.Process.ShowProc(ctx)
	if err != nil {
		return // try again at the next Observe
	}
	for _, p := range pl.Workers {
		w, err := watchExit(p.PID, func() {
			lv.mu.Lock()
			defer lv.mu.Unlock()
			lv.current = false
			lv.notify()
		})
		if err == nil {
			lv.workers = append(lv.workers, w)
		}
	}
	lv.current = true
}

// changing is called when a start or reload begins; the function it
// returns when it ended. Meanwhile probes do not count; afterwards the
// current workers may be others, and the next Observe watches them afresh.
func (l *Local) changing() (done func()) {
	lv := &l.live
	lv.mu.Lock()
	defer lv.mu.Unlock()
	lv.busy++
	return func() {
		lv.mu.Lock()
		defer lv.mu.Unlock()
		lv.busy--
		lv.current = false
		lv.failures = 0
	}
}

// endProbes stops the probes and forgets their failures. lv.mu is held.
func (lv *liveness) endProbes() {
	if lv.stopProbe != nil {
		lv.stopProbe()
		lv.stopProbe = nil
	}
	lv.failures = 0
}

// unresponsive reports whether the worker has not answered probeFailures
// probes in a row.
func (l *Local) unresponsive() bool {
	l.live.mu.Lock()
	defer l.live.mu.Unlock()
	return l.live.failures >= probeFailures
}

// probe asks the worker `show info` every probeEvery until ctx ends, and
// notifies when it becomes unresponsive or answers again. Only a probe
// without an answer counts: a refused connection or an answer that does
// not parse is something else (no worker listening is seen by the pidfds).
// A worker that does not answer is not asked again before probeEvery.
func (l *Local) probe(ctx context.Context) {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		_, err := l.Socket.ShowInfo(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		silent := noAnswer(err)
		lv := &l.live
		lv.mu.Lock()
		was := lv.failures >= probeFailures
		switch {
		case lv.busy > 0 || !silent:
			lv.failures = 0
		default:
			lv.failures++
		}
		if now := lv.failures >= probeFailures; now != was {
			lv.notify()
		}
		lv.mu.Unlock()
	}
}

// noAnswer reports whether err says that the worker did not answer: no
// answer within the deadline, or a full accept queue (a unix socket
// refuses a connection with EAGAIN then).
func noAnswer(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, syscall.EAGAIN)
}

// StopWatching ends the watch and the probes; the next Observe starts
// them again.
func (l *Local) StopWatching() {
	lv := &l.live
	lv.mu.Lock()
	defer lv.mu.Unlock()
	lv.master.Close()
	lv.master = nil
	for _, w := range lv.workers {
		w.Close()
	}
	lv.workers, lv.current = nil, false
	lv.endProbes()
}

// Kill stops HAProxy at once (Process.Kill).
func (l *Local) Kill(ctx context.Context) error { return l.Process.Kill(ctx) }
