package haproxy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"lighthouse/model/haproxyapi"
)

// master sends one command to the master CLI.
func (p Process) master(ctx context.Context, cmd string) (string, error) {
	if p.MasterSocket == "" {
		return "", errors.New("no master socket configured")
	}
	answer, err := exchange(ctx, p.MasterSocket, cmd, 0)
	if err != nil {
		return "", fmt.Errorf("haproxy master %s: %s: %w", p.MasterSocket, cmd, err)
	}
	return answer, nil
}

// ShowProc runs `show proc` on the master CLI.
func (p Process) ShowProc(ctx context.Context) (haproxyapi.ProcList, error) {
	answer, err := p.master(ctx, "show proc")
	if err != nil {
		return haproxyapi.ProcList{}, err
	}
	pl, err := haproxyapi.ParseProc(answer, p.answers())
	if err != nil {
		return haproxyapi.ProcList{}, fmt.Errorf("haproxy master %s: show proc: %w: %q", p.MasterSocket, err, firstLine(answer))
	}
	return pl, nil
}

// WorkerPID returns the pid of the current worker, from the master's
// `show proc`. (Socket.ShowInfo's Pid says the same from the worker's side.)
func (p Process) WorkerPID(ctx context.Context) (int, error) {
	pl, err := p.ShowProc(ctx)
	if err != nil {
		return 0, fmt.Errorf("haproxy worker pid: %w", err)
	}
	if len(pl.Workers) == 0 {
		return 0, fmt.Errorf("haproxy worker pid: master %s lists no current worker", p.MasterSocket)
	}
	return pl.Workers[0].PID, nil
}

// loaded reports whether no worker is loading any more, on the releases
// that list a worker while it loads (3.1 on): the release's LoadStatus
// command answers once the loading is over, "Success=1" when it succeeded.
// A master that does not know the command has no loading to report.
func (p Process) loaded(ctx context.Context) error {
	ans := p.answers()
	if !ans.Proc.ListsLoadingWorker {
		return nil
	}
	if ans.Proc.LoadStatus == "" {
		return errors.New("the release lists workers while they load and has no command that says when they are done")
	}
	answer, err := p.master(ctx, ans.Proc.LoadStatus)
	if err != nil {
		return err
	}
	rep, ok := ans.ParseReport(answer)
	switch {
	case !ok && classify(ans, answer) == ErrUnknownCommand:
		return nil
	case !ok:
		return fmt.Errorf("%s answered %q", ans.Proc.LoadStatus, firstLine(answer))
	case !rep.Success:
		return fmt.Errorf("the new worker did not load (%s: Success=0)", ans.Proc.LoadStatus)
	}
	return nil
}

// Start starts HAProxy daemonized in master-worker mode:
//
//	haproxy -W -D -S MASTERSOCKET,mode,600 -p PIDFILE -f CONFIGFILE
//
// (paths made absolute, working directory the config's directory) and waits
// until the master CLI lists a worker (about 0.05 s) and, on the releases
// that list a worker while it still loads (3.1 on), until the master says
// the loading is over: on return HAProxy serves. `daemon` or
// `master-worker` in the config's global section are fine; a `pidfile` there
// makes HAProxy complain that -p overrides it. Start refuses
// (ErrAlreadyRunning) when Running: HAProxy binds its ports with
// SO_REUSEPORT, so a second instance would start and share them silently.
// If HAProxy fails (invalid config, a port in use), the error holds what it
// printed.
func (p Process) Start(ctx context.Context) error {
	if p.ConfigFile == "" || p.PidFile == "" || p.MasterSocket == "" {
		return fmt.Errorf("start haproxy: %w: ConfigFile, PidFile and MasterSocket are required", ErrInvalidArgument)
	}
	if pid, ok := p.Running(ctx); ok {
		return fmt.Errorf("start haproxy on %s: %w (master pid %d in %s)", p.ConfigFile, ErrAlreadyRunning, pid, p.PidFile)
	}
	bin, err := p.binary()
	if err != nil {
		return fmt.Errorf("start haproxy on %s: %w", p.ConfigFile, err)
	}
	var abs [3]string
	for i, path := range []string{p.ConfigFile, p.PidFile, p.MasterSocket} {
		if abs[i], err = filepath.Abs(path); err != nil {
			return fmt.Errorf("start haproxy on %s: %w", p.ConfigFile, err)
		}
	}
	cfg, pidFile, masterSock := abs[0], abs[1], abs[2]
	// Not running, so the pid file is stale if it exists. The master writes
	// its pid only after the launching process has exited; until then the
	// file must not name an old, dead master.
	if err := os.Remove(pidFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("start haproxy on %s: remove stale pid file: %w", p.ConfigFile, err)
	}
	ctx, cancel := withDefault(ctx, DefaultWait)
	defer cancel()

	// The parent exits once the master has forked; the master then points
	// its stdio at /dev/null. A file (not a pipe) takes the output so that
	// nothing waits on the daemon closing it.
	out, err := os.CreateTemp("", "haproxy-start-*.log")
	if err != nil {
		return fmt.Errorf("start haproxy on %s: %w", p.ConfigFile, err)
	}
	defer os.Remove(out.Name())
	defer out.Close()
	args := []string{"-W", "-D", "-S", masterSock + ",mode,600", "-p", pidFile, "-f", cfg}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = filepath.Dir(cfg)
	cmd.Stdout, cmd.Stderr = out, out
	output := func() string {
		b, _ := os.ReadFile(out.Name())
		return strings.TrimSpace(string(b))
	}
	cmdline := bin + " " + strings.Join(args, " ")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("start haproxy on %s: %s: %w\n%s", p.ConfigFile, cmdline, err, output())
	}
	q := Process{Binary: bin, ConfigFile: cfg, PidFile: pidFile, MasterSocket: masterSock, Version: p.Version}
	var lastErr error
	for {
		pl, err := q.ShowProc(ctx)
		if err == nil && len(pl.Workers) > 0 {
			// -D: from 3.1 on the launcher exits only once the worker is
			// ready; loaded confirms it.
			if err = q.loaded(ctx); err == nil {
				return nil
			}
		}
		if err == nil {
			err = errors.New("the master lists no worker yet")
		}
		lastErr = err
		// Once the pid file names a process, that process must live.
		if pid, perr := readPidFile(pidFile); perr == nil && !alive(pid) {
			return fmt.Errorf("start haproxy on %s: the master (pid %d) exited: %s\n%s", p.ConfigFile, pid, cmdline, output())
		}
		if err := sleep(ctx, pollEvery); err != nil {
			return fmt.Errorf("start haproxy on %s: no worker on %s: %w (last: %v)\n%s", p.ConfigFile, masterSock, err, lastErr, output())
		}
	}
}

// Reload reloads HAProxy gracefully through the master CLI (`reload`: the
// master re-executes itself on ConfigFile, a new worker takes the listening
// sockets over, the old one finishes its connections) and confirms the
// outcome. What `reload` answers depends on the release
// (haproxyapi.ReloadAnswers):
//
//   - 2.6 answers nothing: Reload polls `show proc` until the master's
//     reload counter has moved;
//   - 2.7 on answer once the new worker has loaded: "Success=1", or
//     "Success=0" and the startup logs with HAProxy's alerts; 3.1 on also
//     refuse with "Another reload is still in progress." while a worker
//     loads, and Reload then asks again.
//
// Either way the outcome is confirmed from `show proc`:
//
//   - "[failed: N]" with N > 0 (or "Success=0"): the reload failed; the old
//     worker keeps serving the old config. The error wraps ErrReloadFailed
//     and, when `haproxy -c` rejects ConfigFile (the usual cause), that
//     *ValidationError with HAProxy's alerts.
//   - a current worker that was not there before: success.
//
// (Without a parsable reload counter, a new worker alone means success.)
// Not running is ErrNotRunning. Validate the new config before installing
// it: Reload is the check of last resort, not the validator.
func (p Process) Reload(ctx context.Context) error {
	ctx, cancel := withDefault(ctx, DefaultWait)
	defer cancel()
	pid, ok := p.Running(ctx)
	if !ok {
		return fmt.Errorf("reload haproxy on %s: %w (pid file %s)", p.ConfigFile, ErrNotRunning, p.PidFile)
	}
	ans := p.answers()
	var before haproxyapi.ProcList
	reported := false // the master reported success
	for {
		var err error
		if before, err = p.ShowProc(ctx); err != nil {
			return fmt.Errorf("reload haproxy on %s: %w", p.ConfigFile, err)
		}
		answer, err := p.master(ctx, "reload")
		if err != nil {
			return fmt.Errorf("reload haproxy on %s: %w", p.ConfigFile, err)
		}
		if ans.Reload.Reports {
			if rep, ok := ans.ParseReport(answer); ok {
				if rep.Busy {
					if err := sleep(ctx, pollEvery); err != nil {
						return fmt.Errorf("reload haproxy on %s: another reload is still in progress: %w", p.ConfigFile, err)
					}
					continue
				}
				if !rep.Success {
					how := "the master answered Success=0"
					if alerts := alertLines(rep.Logs); len(alerts) > 0 {
						how += ": " + strings.Join(alerts, "; ")
					}
					return p.reloadFailed(ctx, how)
				}
				reported = true // confirmed below
				break
			}
		}
		if a := strings.TrimSpace(answer); a != "" {
			if sentinel := classify(ans, a); sentinel != nil {
				return fmt.Errorf("reload haproxy on %s: %w", p.ConfigFile,
					&CommandError{Socket: p.MasterSocket, Command: "reload", Answer: a, Err: sentinel})
			}
		}
		break
	}
	known := map[int]bool{}
	for _, w := range before.Workers {
		known[w.PID] = true
	}
	counted := before.Master.PID != 0
	var lastErr error
	for {
		now, err := p.ShowProc(ctx)
		switch {
		case err != nil:
			lastErr = err // the master re-executes: its socket is briefly away
			if !alive(pid) {
				return fmt.Errorf("reload haproxy on %s: the master (pid %d) exited", p.ConfigFile, pid)
			}
		case counted && now.Master.PID != 0 && now.Master.PID != before.Master.PID:
			return fmt.Errorf("reload haproxy on %s: the master changed from pid %d to %d", p.ConfigFile, before.Master.PID, now.Master.PID)
		case counted && now.Master.Reloads == before.Master.Reloads:
			lastErr = errors.New("the reload counter has not moved yet")
		case now.Failed > 0:
			return p.reloadFailed(ctx, fmt.Sprintf("show proc: %d reloads, %d failed", now.Master.Reloads, now.Failed))
		default:
			lastErr = errors.New("no new worker yet")
			for _, w := range now.Workers {
				if known[w.PID] {
					continue
				}
				if reported {
					return nil // reported once the new worker had loaded
				}
				if lastErr = p.loaded(ctx); lastErr == nil {
					return nil
				}
			}
		}
		if err := sleep(ctx, pollEvery); err != nil {
			return fmt.Errorf("reload haproxy on %s: outcome unknown: %w (last: %v)", p.ConfigFile, err, lastErr)
		}
	}
}

// alertLines returns the [ALERT] lines of HAProxy's startup logs without
// their prefix (as ValidationError.Alerts does).
func alertLines(logs []string) []string {
	return (&ValidationError{Output: strings.Join(logs, "\n")}).Alerts()
}

// reloadFailed builds the error of a failed reload, with `haproxy -c`'s
// verdict on ConfigFile (HAProxy's own log may go nowhere in daemon mode).
func (p Process) reloadFailed(ctx context.Context, how string) error {
	vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultWait)
	defer cancel()
	verr := p.Validate(vctx, p.ConfigFile)
	var ve *ValidationError
	if errors.As(verr, &ve) {
		return fmt.Errorf("reload haproxy on %s: %w (%s); the old worker keeps serving: %w", p.ConfigFile, ErrReloadFailed, how, verr)
	}
	note := "haproxy -c accepts the file, so it failed at startup (e.g. a port in use); see HAProxy's log"
	if verr != nil {
		note = verr.Error()
	}
	return fmt.Errorf("reload haproxy on %s: %w (%s); the old worker keeps serving; %s", p.ConfigFile, ErrReloadFailed, how, note)
}
