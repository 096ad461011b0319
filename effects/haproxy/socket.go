package haproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"os"
	"strconv"
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
func (s Socket) ShowServersState(ctx context.Context, backend string) ([]ServerState, error) {
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

// AddServer runs `add server BACKEND/SERVER ADDR:PORT OPTIONS`. addr must
// be an IP address (HAProxy 2.6 keeps a host name unresolved, the server
// would have no address). The server arrives in maintenance: EnableServer
// (or SetServerState ready) lets traffic in, and with `check` in options
// EnableHealth starts its health checks (see OnServer). Refusals:
// ErrAlreadyExists, ErrNoSuchBackend, ErrNotDynamic (non-dynamic balance
// algorithm, or an option dynamic servers do not take, e.g. cookie before
// 3.0: haproxyapi.API says which).
func (s Socket) AddServer(ctx context.Context, backend, server, addr string, port int, options string) error {
	req, err := s.addServerReq(backend, server, addr, port, options)
	if err != nil {
		return err
	}
	return s.do(ctx, req)
}

func (s Socket) addServerReq(backend, server, addr string, port int, options string) (request, error) {
	cmd := "add server " + backend + "/" + server
	ap, err := checkServerArgs(backend, server, addr, port)
	if err == nil {
		err = checkOptions(options)
	}
	if err != nil {
		return request{}, fmt.Errorf("haproxy %s: %s: %w", s.Path, cmd, err)
	}
	cmd += " " + ap.String()
	if o := strings.TrimSpace(options); o != "" {
		cmd += " " + o
	}
	return request{cmd: cmd, reply: s.answers().AddServer}, nil
}

// ServerCommand is a runtime API command on one server that takes no
// argument: "COMMAND BACKEND/SERVER".
type ServerCommand string

// The commands on one server without an argument. `del server` deletes a
// server in maintenance (else ErrNotInMaintenance) without requests in
// flight (else ErrServerHasConnections: retry later); `shutdown sessions
// server` cuts the requests it still has in flight. `enable server` takes
// it out of maintenance, `disable server` puts it in. `enable health`
// starts the health checks of a server added with `check` (dynamic servers
// start without them).
const (
	DelServer        ServerCommand = "del server"
	ShutdownSessions ServerCommand = "shutdown sessions server"
	EnableServer     ServerCommand = "enable server"
	DisableServer    ServerCommand = "disable server"
	EnableHealth     ServerCommand = "enable health"
	DisableHealth    ServerCommand = "disable health"
)

// OnServer runs "COMMAND BACKEND/SERVER", the names checked first.
func (s Socket) OnServer(ctx context.Context, cmd ServerCommand, backend, server string) error {
	req, err := s.serverCommandReq(cmd, backend, server)
	if err != nil {
		return err
	}
	return s.do(ctx, req)
}

// serverCommandReq is the request of cmd on a server: `del server` has
// answers of its own, the others answer as every server action does.
func (s Socket) serverCommandReq(cmd ServerCommand, backend, server string) (request, error) {
	reply := s.answers().ServerAction
	if cmd == DelServer {
		reply = s.answers().DelServer
	}
	return s.serverReq(string(cmd), backend, server, "", reply)
}

// SetServerState runs `set server BACKEND/SERVER state ready|drain|maint`.
func (s Socket) SetServerState(ctx context.Context, backend, server string, state model.ServerState) error {
	req, err := s.setStateReq(backend, server, state)
	if err != nil {
		return err
	}
	return s.do(ctx, req)
}

func (s Socket) setStateReq(backend, server string, state model.ServerState) (request, error) {
	switch state {
	case model.ServerReady, model.ServerDrain, model.ServerMaint:
	default:
		return request{}, fmt.Errorf("haproxy %s: set server %s/%s state %q: %w: want ready, drain or maint", s.Path, backend, server, state, ErrInvalidArgument)
	}
	return s.serverReq("set server", backend, server, " state "+string(state), s.answers().ServerAction)
}

// SetServerAddr runs `set server BACKEND/SERVER addr ADDR port PORT`. addr
// must be an IP address (HAProxy refuses host names here). HAProxy answers
// what changed, in words that differ between releases (the release's data
// says which mean success). From 3.0 on the answer comes before the change
// is applied; SetServerAddr then waits until `show servers state BACKEND`
// shows the new address (a millisecond or so), so that on return HAProxy
// sends to the new address on every release and a new observation sees it.
func (s Socket) SetServerAddr(ctx context.Context, backend, server, addr string, port int) error {
	req, ap, err := s.setAddrReq(backend, server, addr, port)
	if err != nil {
		return err
	}
	if err := s.do(ctx, req); err != nil {
		return err
	}
	if !s.answers().SetServerAddrAsync {
		return nil
	}
	return s.waitAddr(ctx, req.cmd, backend, server, ap)
}

func (s Socket) setAddrReq(backend, server, addr string, port int) (request, netip.AddrPort, error) {
	cmd := "set server " + backend + "/" + server
	ap, err := checkServerArgs(backend, server, addr, port)
	if err != nil {
		return request{}, ap, fmt.Errorf("haproxy %s: %s addr: %w", s.Path, cmd, err)
	}
	cmd += " addr " + ap.Addr().String() + " port " + strconv.Itoa(port)
	return request{cmd: cmd, reply: s.answers().SetServerAddr}, ap, nil
}

// waitAddr polls `show servers state BACKEND` until SERVER has address ap.
func (s Socket) waitAddr(ctx context.Context, cmd, backend, server string, ap netip.AddrPort) error {
	return s.waitAddrs(ctx, backend, map[string]moving{server: {cmd: cmd, addr: ap}})[server]
}

// moving is a server whose new address is awaited, and the command that
// set it.
type moving struct {
	cmd  string
	addr netip.AddrPort
}

// waitAddrs polls `show servers state BACKEND` until every server of want
// has its new address, and returns an error for each that has not by the
// timeout.
func (s Socket) waitAddrs(ctx context.Context, backend string, want map[string]moving) map[string]error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := withDefault(ctx, timeout)
	defer cancel()
	errs := map[string]error{}
	left := maps.Clone(want)
	last := map[string]string{}
	for len(left) > 0 {
		list, err := s.ShowServersState(ctx, backend)
		if err != nil {
			for server, m := range left {
				errs[server] = fmt.Errorf("haproxy %s: %s: waiting for the new address: %w", s.Path, m.cmd, err)
			}
			return errs
		}
		for server := range left {
			last[server] = "no server " + server
		}
		for _, st := range list {
			m, ok := left[st.Name]
			if !ok {
				continue
			}
			ip, _ := netip.ParseAddr(st.Addr)
			if ip == m.addr.Addr() && st.Port == int(m.addr.Port()) {
				delete(left, st.Name)
				continue
			}
			last[st.Name] = net.JoinHostPort(st.Addr, strconv.Itoa(st.Port))
		}
		if len(left) == 0 {
			break
		}
		if err := sleep(ctx, addrPollEvery); err != nil {
			for server, m := range left {
				errs[server] = fmt.Errorf("haproxy %s: %s: the new address is not applied (show servers state says %s): %w", s.Path, m.cmd, last[server], err)
			}
			return errs
		}
	}
	return errs
}

// addrPollEvery is how often waitAddr asks; the change takes about a
// millisecond.
const addrPollEvery = time.Millisecond

// SetWeight runs `set weight BACKEND/SERVER WEIGHT`; weight is 0..256 (0:
// no new traffic).
func (s Socket) SetWeight(ctx context.Context, backend, server string, weight int) error {
	req, err := s.setWeightReq(backend, server, weight)
	if err != nil {
		return err
	}
	return s.do(ctx, req)
}

func (s Socket) setWeightReq(backend, server string, weight int) (request, error) {
	if weight < 0 || weight > 256 {
		return request{}, fmt.Errorf("haproxy %s: set weight %s/%s %d: %w: weight must be 0..256", s.Path, backend, server, weight, ErrInvalidArgument)
	}
	return s.serverReq("set weight", backend, server, " "+strconv.Itoa(weight), s.answers().ServerAction)
}

// serverReq is "VERB BACKEND/SERVER REST", the names checked.
func (s Socket) serverReq(verb, backend, server, rest string, reply haproxyapi.Reply) (request, error) {
	cmd := verb + " " + backend + "/" + server
	if err := checkName("backend", backend); err != nil {
		return request{}, fmt.Errorf("haproxy %s: %s: %w", s.Path, cmd, err)
	}
	if err := checkName("server", server); err != nil {
		return request{}, fmt.Errorf("haproxy %s: %s: %w", s.Path, cmd, err)
	}
	return request{cmd: cmd + rest, reply: reply}, nil
}

// checkName accepts what HAProxy accepts in proxy and server names: ASCII
// letters and digits, ".", ":", "_" and "-".
func checkName(what, name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty %s name", ErrInvalidArgument, what)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == ':' || c == '_' || c == '-' {
			continue
		}
		return fmt.Errorf("%w: %s name %q: character %q not allowed (letters, digits, '.', ':', '_', '-')", ErrInvalidArgument, what, name, c)
	}
	return nil
}

// checkServerArgs checks the names, an IP address without zone and a port
// in 1..65535 (HAProxy takes larger ports modulo 65536).
func checkServerArgs(backend, server, addr string, port int) (netip.AddrPort, error) {
	if err := checkName("backend", backend); err != nil {
		return netip.AddrPort{}, err
	}
	if err := checkName("server", server); err != nil {
		return netip.AddrPort{}, err
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Zone() != "" {
		return netip.AddrPort{}, fmt.Errorf("%w: address %q is not an IP address", ErrInvalidArgument, addr)
	}
	if port < 1 || port > 65535 {
		return netip.AddrPort{}, fmt.Errorf("%w: port %d not in 1..65535", ErrInvalidArgument, port)
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}

// checkOptions refuses what could end or escape the command: control
// characters, ";" (command separator) and "\" (escape).
func checkOptions(options string) error {
	for i := 0; i < len(options); i++ {
		c := options[i]
		if c < 0x20 || c == 0x7f || c == ';' || c == '\\' {
			return fmt.Errorf("%w: server options %q: character %q not allowed", ErrInvalidArgument, options, c)
		}
	}
	return nil
}
