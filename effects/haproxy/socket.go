package haproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"lighthouse/model"
	"lighthouse/model/haproxyapi"
)

// DefaultTimeout bounds one socket command when Socket.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// Socket is HAProxy's admin socket (`stats socket PATH level admin`). Each
// command uses a connection of its own: write the command and a newline,
// half-close, read the answer until HAProxy closes the connection. The zero
// Timeout means DefaultTimeout; a context deadline that comes sooner wins.
type Socket struct {
	Path    string
	Timeout time.Duration
	// Version is the version of the HAProxy behind the socket: its answers
	// are read as that release's (haproxyapi.AnswersFor). The zero Version
	// (unknown) understands the answers of every supported release.
	Version model.Version
}

// answers returns what the HAProxy behind the socket answers.
func (s Socket) answers() haproxyapi.Answers { return haproxyapi.AnswersFor(s.Version) }

// Send sends one command line and returns HAProxy's raw answer. The command
// must be a single line; ";" in it separates several commands, which is why
// the typed methods refuse it in their arguments. The error is a wrapped
// ErrSocketUnavailable when nothing listens, and a *CommandError for the
// answers no command can mean success with (ErrUnknownCommand,
// ErrPermissionDenied); any other answer is returned for the caller to judge.
func (s Socket) Send(ctx context.Context, cmd string) (string, error) {
	if cmd == "" || strings.ContainsAny(cmd, "\r\n") {
		return "", fmt.Errorf("haproxy %s: %q: %w: a command is one non-empty line", s.Path, cmd, ErrInvalidArgument)
	}
	answer, err := exchange(ctx, s.Path, cmd, s.Timeout)
	if err != nil {
		return "", fmt.Errorf("haproxy %s: %s: %w", s.Path, cmd, err)
	}
	a := strings.TrimSpace(answer)
	if sentinel := classify(s.answers(), a); sentinel == ErrUnknownCommand || sentinel == ErrPermissionDenied {
		return "", &CommandError{Socket: s.Path, Command: cmd, Answer: a, Err: sentinel}
	}
	return answer, nil
}

// exchange runs one command on a unix socket: connect, write cmd+"\n",
// half-close (the master CLI answers only then; the admin socket does not
// mind), read to EOF. Connection refused and a missing socket file wrap
// ErrSocketUnavailable.
func exchange(ctx context.Context, path, cmd string, timeout time.Duration) (string, error) {
	c, ctx, done, err := connect(ctx, path, timeout)
	if err != nil {
		return "", err
	}
	defer done()
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return "", ctxErr(ctx, err)
	}
	if err := c.CloseWrite(); err != nil {
		return "", ctxErr(ctx, err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		return "", ctxErr(ctx, err)
	}
	return string(b), nil
}

// connect dials the unix socket at path within timeout (DefaultTimeout
// when 0) or ctx, whichever ends first, and returns the connection with
// its deadline set, the context that bounds it (for ctxErr), and done,
// which closes and releases both. A cancelled (not just expired) context
// interrupts the exchange too. Connection refused and a missing socket
// file wrap ErrSocketUnavailable.
func connect(ctx context.Context, path string, timeout time.Duration) (*net.UnixConn, context.Context, func(), error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		cancel()
		if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return nil, nil, nil, fmt.Errorf("%w: %w", ErrSocketUnavailable, err)
		}
		return nil, nil, nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	return c.(*net.UnixConn), ctx, func() {
		stop()
		c.Close()
		cancel()
	}, nil
}

// ctxErr turns a connection deadline into the context's error: cancelled,
// or out of time (the connection's deadline may fire a moment before the
// context's own timer).
func ctxErr(ctx context.Context, err error) error {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("no answer: %w", cerr)
	}
	return fmt.Errorf("no answer: %w", context.DeadlineExceeded)
}

// answerError is the *CommandError for an answer that is not success.
func (s Socket) answerError(cmd, answer string) error {
	a := strings.TrimSpace(answer)
	return &CommandError{Socket: s.Path, Command: cmd, Answer: a, Err: classify(s.answers(), a)}
}

// request is one command line and the answers that mean it was carried
// out (the release's data for the command).
type request struct {
	cmd   string
	reply haproxyapi.Reply
}

// do sends a request and judges its answer.
func (s Socket) do(ctx context.Context, req request) error {
	answer, err := s.Send(ctx, req.cmd)
	if err != nil {
		return err
	}
	return s.judge(req, answer)
}

// judge is nil when answer means that req was carried out, else the
// *CommandError it means.
func (s Socket) judge(req request, answer string) error {
	if req.reply.Success(answer) {
		return nil
	}
	return s.answerError(req.cmd, answer)
}

// ShowInfo runs `show info`.
func (s Socket) ShowInfo(ctx context.Context) (Info, error) {
	const cmd = "show info"
	answer, err := s.Send(ctx, cmd)
	if err != nil {
		return Info{}, err
	}
	info, err := parseInfo(answer)
	if err != nil {
		if classify(s.answers(), answer) != nil {
			return Info{}, s.answerError(cmd, answer)
		}
		return Info{}, fmt.Errorf("haproxy %s: %s: %w", s.Path, cmd, err)
	}
	return info, nil
}

// ShowServersState runs `show servers state [backend]`: the servers of one
// backend, or of all backends when backend is "". An unknown backend is
// ErrNoSuchBackend.
func (s Socket) ShowServersState(ctx context.Context, backend string) ([]ServersStateRow, error) {
	cmd := "show servers state"
	if backend != "" {
		if err := checkName("backend", backend); err != nil {
			return nil, fmt.Errorf("haproxy %s: %s: %w", s.Path, cmd, err)
		}
		cmd += " " + backend
	}
	answer, err := s.Send(ctx, cmd)
	if err != nil {
		return nil, err
	}
	list, err := parseServersState(answer, s.answers().ServersState)
	if err != nil {
		if classify(s.answers(), answer) != nil {
			return nil, s.answerError(cmd, answer)
		}
		return nil, fmt.Errorf("haproxy %s: %s: %w", s.Path, cmd, err)
	}
	return list, nil
}

// ShowStat runs `show stat`: one row per frontend, backend and server of
// every proxy.
func (s Socket) ShowStat(ctx context.Context) ([]StatRow, error) {
	const cmd = "show stat"
	answer, err := s.Send(ctx, cmd)
	if err != nil {
		return nil, err
	}
	rows, err := parseStat(answer)
	if err != nil {
		if classify(s.answers(), answer) != nil {
			return nil, s.answerError(cmd, answer)
		}
		return nil, fmt.Errorf("haproxy %s: %s: %w", s.Path, cmd, err)
	}
	return rows, nil
}
