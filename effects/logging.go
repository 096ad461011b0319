package effects

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

	"lighthouse/model"
)

// NewLogger makes the logger of one program ("reporter" or "writer") as
// logging.yaml describes it: log/slog's text or JSON handler, the least
// level, and the stream (stdout or stderr). Every line carries
// program=<program>.
func NewLogger(l model.Logging, program string) *slog.Logger {
	return slog.New(newHandler(streamOf(l, os.Stdout, os.Stderr), l, program))
}

// LiveLogger is a logger that follows logging.yaml while the program runs:
// Apply swaps the handler of the logger and of every logger derived from it
// with With or WithGroup.
type LiveLogger struct {
	mu             sync.Mutex
	program        string
	stdout, stderr io.Writer
	current        model.Logging
	root           *atomic.Pointer[slog.Handler]
	logger         *slog.Logger
}

// NewLiveLogger makes a LiveLogger writing to the process's stdout or
// stderr, as the config's stream says.
func NewLiveLogger(l model.Logging, program string) *LiveLogger {
	return NewLiveLoggerTo(l, program, os.Stdout, os.Stderr)
}

// NewLiveLoggerTo is NewLiveLogger with the two streams given.
func NewLiveLoggerTo(l model.Logging, program string, stdout, stderr io.Writer) *LiveLogger {
	ll := &LiveLogger{program: program, stdout: stdout, stderr: stderr, current: l, root: new(atomic.Pointer[slog.Handler])}
	h := newHandler(streamOf(l, stdout, stderr), l, program)
	ll.root.Store(&h)
	ll.logger = slog.New(&switchHandler{root: ll.root})
	return ll
}

// Logger returns the logger; it stays valid across Apply.
func (l *LiveLogger) Logger() *slog.Logger { return l.logger }

// Apply makes the logger follow a new logging config. An unchanged config
// is a no-op.
func (l *LiveLogger) Apply(cfg model.Logging) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cfg == l.current {
		return
	}
	l.current = cfg
	h := newHandler(streamOf(cfg, l.stdout, l.stderr), cfg, l.program)
	l.root.Store(&h)
}

func streamOf(l model.Logging, stdout, stderr io.Writer) io.Writer {
	if l.Stream == "stdout" {
		return stdout
	}
	return stderr
}

func newHandler(w io.Writer, l model.Logging, program string) slog.Handler {
	opts := &slog.HandlerOptions{Level: levelOf(l.Level)}
	var h slog.Handler
	if l.Format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return h.WithAttrs([]slog.Attr{slog.String("program", program)})
}

func levelOf(s string) slog.Level {
	switch s {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// switchHandler sends records to the current root handler, with the
// attributes and groups added through With and WithGroup replayed on it.
// The replayed handler is cached until the root changes.
type switchHandler struct {
	root  *atomic.Pointer[slog.Handler]
	ops   []func(slog.Handler) slog.Handler
	cache atomic.Pointer[builtHandler]
}

type builtHandler struct {
	root *slog.Handler
	h    slog.Handler
}

func (s *switchHandler) handler() slog.Handler {
	root := s.root.Load()
	if b := s.cache.Load(); b != nil && b.root == root {
		return b.h
	}
	h := *root
	for _, op := range s.ops {
		h = op(h)
	}
	s.cache.Store(&builtHandler{root: root, h: h})
	return h
}

func (s *switchHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return s.handler().Enabled(ctx, level)
}

func (s *switchHandler) Handle(ctx context.Context, r slog.Record) error {
	return s.handler().Handle(ctx, r)
}

func (s *switchHandler) with(op func(slog.Handler) slog.Handler) *switchHandler {
	ops := make([]func(slog.Handler) slog.Handler, len(s.ops), len(s.ops)+1)
	copy(ops, s.ops)
	return &switchHandler{root: s.root, ops: append(ops, op)}
}

func (s *switchHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return s.with(func(h slog.Handler) slog.Handler { return h.WithAttrs(as) })
}

func (s *switchHandler) WithGroup(name string) slog.Handler {
	return s.with(func(h slog.Handler) slog.Handler { return h.WithGroup(name) })
}
