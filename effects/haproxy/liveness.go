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
// watch on the master and its current workers through pidfds. The
// daemonized master is not the writer's child, so it cannot be waited for;
// a pidfd (Linux 5.3 on) can be polled for any process, and becomes
// readable when that process exits. Every supported release's master exits
// within a few milliseconds of its current worker being killed (even with
// `no-exit-on-failure`: it exits once no worker is left), and a worker
// exits within a few milliseconds of its master being killed; either pid
// tells.

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
		w, err := watchExit(master, func() {
			lv.mu.Lock()
			defer lv.mu.Unlock()
			lv.notify()
		})
		if err != nil {
			return // the resync still notices, later
		}
		lv.master = w
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

// workersChanged says that a start or reload (or its failure) may have
// changed the current workers: the next Observe watches them afresh.
func (l *Local) workersChanged() {
	l.live.mu.Lock()
	defer l.live.mu.Unlock()
	l.live.current = false
}
