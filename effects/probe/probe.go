// Package probe runs the health checks of the reporter. Each check type
// ("http", "tcp", "redis") is a Checker registered by name from its own
// file; adding a check type is one file here plus its keys in
// model/decode_service.go (checkKinds).
//
// Every check runs under a timeout: the check's own (model.Check.Timeout,
// never longer than the service's interval) or, if that is zero,
// model.DefaultCheckTimeout. A Checker must return when its context is
// done.
package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"lighthouse/model"
)

// Checker runs one kind of health check against one address ("host:port").
// It returns nil when the check passes, and otherwise an error saying what
// failed. It must honour ctx: return soon after ctx is done.
type Checker interface {
	Check(ctx context.Context, addr string, c model.Check) error
}

// CheckerFunc makes a function a Checker.
type CheckerFunc func(ctx context.Context, addr string, c model.Check) error

// Check calls f.
func (f CheckerFunc) Check(ctx context.Context, addr string, c model.Check) error {
	return f(ctx, addr, c)
}

var (
	mu       sync.RWMutex
	checkers = map[string]Checker{}
)

// Register makes a check type available. It panics if the type is already
// registered: call it from an init function.
func Register(typ string, c Checker) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := checkers[typ]; dup {
		panic("probe: check type " + typ + " registered twice")
	}
	checkers[typ] = c
}

// Lookup returns the Checker of a check type.
func Lookup(typ string) (Checker, bool) {
	mu.RLock()
	defer mu.RUnlock()
	c, ok := checkers[typ]
	return c, ok
}

// Types returns the registered check types, sorted.
func Types() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(checkers))
	for t := range checkers {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Prober runs checks by type, each under its timeout. The zero value is
// ready to use. It satisfies runtime.Prober.
type Prober struct{}

// Probe runs check c against host:port. The error, if any, names the check
// and the address.
func (Prober) Probe(ctx context.Context, host string, port int, c model.Check) error {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	checker, ok := Lookup(c.Type)
	if !ok {
		return fmt.Errorf("%s check of %s: unknown check type", c.Type, addr)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = model.DefaultCheckTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := checker.Check(ctx, addr, c)
	if err == nil {
		return nil
	}
	// The connection's deadline is the context's: it may expire a moment
	// before the context's own timer does.
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || ctx.Err() == nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%s check of %s: timed out after %s: %w", c.Type, addr, timeout, err)
	}
	return fmt.Errorf("%s check of %s: %w", c.Type, addr, err)
}

// connect dials addr and bounds the connection by ctx: its deadline becomes
// the connection's, and ctx being cancelled closes it.
func connect(ctx context.Context, addr string) (net.Conn, func(), error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	return conn, func() { stop(); conn.Close() }, nil
}
