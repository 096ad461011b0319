package haproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"lighthouse/model/haproxyapi"
)

// BatchSize is how many runtime commands go to HAProxy in one exchange.
// Commands and answers of a batch fit the socket buffers, so a batch is
// written whole before its answers are read.
const BatchSize = 100

// prompt ends every answer in the CLI's interactive mode.
const prompt = "\n> "

// Apply carries out runtime changes in batches of BatchSize commands, each
// batch on one connection in the CLI's interactive mode: every answer ends
// with a prompt, so each is mapped back to its command and judged as the
// typed methods judge it. It returns one result per change sent, in order: nil
// when it was carried out, a Busy error for a server HAProxy refused to
// delete because requests are in flight, else why not. After a batch with
// a failure (other than Busy) no further batch is sent: the result list is
// then shorter than changes, and the changes after the failure in its own
// batch may have been carried out.
func (l *Local) Apply(ctx context.Context, changes []haproxyapi.Change) []error {
	var out []error
	for start := 0; start < len(changes); start += BatchSize {
		chunk := changes[start:min(start+BatchSize, len(changes))]
		errs := l.apply(ctx, chunk)
		out = append(out, errs...)
		for _, err := range errs {
			var busy interface{ Busy() bool }
			if err != nil && !(errors.As(err, &busy) && busy.Busy()) {
				return out
			}
		}
	}
	return out
}

// busyError is a runtime change that must wait for connections to finish.
type busyError struct{ error }

func (e busyError) Unwrap() error { return e.error }

// Busy reports that the change can be tried again later.
func (busyError) Busy() bool { return true }

// apply sends one batch and judges each answer.
func (l *Local) apply(ctx context.Context, changes []haproxyapi.Change) []error {
	s := l.Socket
	out := make([]error, len(changes))
	reqs := make([]request, 0, len(changes))
	// Servers whose new address the release applies after answering, by
	// backend, with their change's index.
	waits := map[string]map[string]moving{}
	at := map[string]int{}
	for i, a := range changes {
		req, ap, err := s.request(a)
		if err != nil {
			// A change that cannot be written as a command fails, and the
			// ones before it are sent alone.
			out[i] = err
			out = out[:i+1]
			break
		}
		reqs = append(reqs, req)
		if a.Op == haproxyapi.OpSetAddr && s.answers().SetServerAddrAsync {
			if waits[a.Backend] == nil {
				waits[a.Backend] = map[string]moving{}
			}
			waits[a.Backend][a.Server] = moving{cmd: req.cmd, addr: ap}
			at[a.Target()] = i
		}
	}
	if len(reqs) == 0 {
		return out
	}
	answers, err := exchangeBatch(ctx, s.Path, reqs, s.Timeout)
	for i, req := range reqs {
		switch {
		case i < len(answers):
			out[i] = s.judge(req, answers[i])
			if changes[i].Op == haproxyapi.OpDelServer && errors.Is(out[i], ErrServerHasConnections) {
				out[i] = busyError{out[i]}
			}
		case err != nil:
			out[i] = fmt.Errorf("haproxy %s: %s: %w", s.Path, req.cmd, err)
		default:
			out[i] = fmt.Errorf("haproxy %s: %s: no answer", s.Path, req.cmd)
		}
	}
	for backend, want := range waits {
		for server := range want {
			if i := at[backend+"/"+server]; out[i] != nil {
				delete(want, server) // refused: nothing to wait for
			}
		}
		for server, err := range s.waitAddrs(ctx, backend, want) {
			out[at[backend+"/"+server]] = err
		}
	}
	return out
}

// request is the command of a runtime change, and for OpSetAddr the new
// address.
func (s Socket) request(c haproxyapi.Change) (request, netip.AddrPort, error) {
	var req request
	var err error
	switch c.Op {
	case haproxyapi.OpAddServer:
		req, err = s.addServerReq(c.Backend, c.Server, c.Addr, c.Port, c.Options)
	case haproxyapi.OpDelServer:
		req, err = s.serverCommandReq(DelServer, c.Backend, c.Server)
	case haproxyapi.OpEnableHealth:
		req, err = s.serverCommandReq(EnableHealth, c.Backend, c.Server)
	case haproxyapi.OpShutdownSessions:
		req, err = s.serverCommandReq(ShutdownSessions, c.Backend, c.Server)
	case haproxyapi.OpSetState:
		req, err = s.setStateReq(c.Backend, c.Server, c.State)
	case haproxyapi.OpSetWeight:
		req, err = s.setWeightReq(c.Backend, c.Server, c.Weight)
	case haproxyapi.OpSetAddr:
		return s.setAddrReq(c.Backend, c.Server, c.Addr, c.Port)
	default:
		err = fmt.Errorf("haproxy %s: %s %s: %w: not a runtime change", s.Path, c.Op, c.Target(), ErrInvalidArgument)
	}
	return req, netip.AddrPort{}, err
}

// exchangeBatch sends requests on one connection in interactive mode
// ("prompt" first, "quit" last) and returns the answers it got, in order;
// fewer than requests when the connection ended early (err says why).
func exchangeBatch(ctx context.Context, path string, reqs []request, timeout time.Duration) ([]string, error) {
	c, ctx, done, err := connect(ctx, path, timeout)
	if err != nil {
		return nil, err
	}
	defer done()
	var b strings.Builder
	b.WriteString("prompt\n")
	for _, r := range reqs {
		b.WriteString(r.cmd)
		b.WriteByte('\n')
	}
	b.WriteString("quit\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		return nil, ctxErr(ctx, err)
	}
	c.CloseWrite()
	data, err := io.ReadAll(c)
	if err != nil {
		err = ctxErr(ctx, err)
	}
	return splitAnswers(string(data), len(reqs)), err
}

// splitAnswers cuts what the CLI wrote in interactive mode into the
// answers of n commands: the output of "prompt" (nothing) comes first, and
// each answer ends with the prompt. An answer is returned with a newline
// at its end, as in non-interactive mode.
func splitAnswers(data string, n int) []string {
	parts := strings.Split(data, prompt)
	if len(parts) < 2 {
		return nil
	}
	parts = parts[1 : len(parts)-1] // "prompt"'s, and what follows the last prompt
	if len(parts) > n {
		parts = parts[:n]
	}
	for i := range parts {
		parts[i] += "\n"
	}
	return parts
}
