package haproxy

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"lighthouse/model"
	"lighthouse/model/haproxyapi"
)

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
