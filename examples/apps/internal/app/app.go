// Package app holds what the example apps share: their flags, serving on
// one host's address, naming the node in every answer (the X-Served-By
// header), a log line per request, JSON answers, the health check, and a
// graceful stop on SIGTERM or SIGINT.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"lighthouse/examples/apps/internal/resp"
)

// ServedBy is the response header naming the node that answered.
const ServedBy = "X-Served-By"

// Logger is the apps' logger: text lines on stderr.
var Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

// RunWithCache is the main of an app that uses the cache cluster: it
// declares -listen, -cache and -name (flags of the app's own are declared
// before), parses the command line, and runs (see Run) the handler that
// handler makes with a client of the cache cluster.
func RunWithCache(program string, handler func(cache resp.Client) http.Handler) {
	listen := flag.String("listen", "127.0.0.1:8000", "address to serve on")
	cache := flag.String("cache", "127.0.0.1:9999", "the cache cluster: this host's HAProxy port for it")
	name := flag.String("name", "", "the node name sent in the X-Served-By header (default: the listen address)")
	flag.Parse()
	Run(program, *name, *listen, handler(resp.Client{Addr: *cache}))
}

// Run serves h on listen until SIGTERM or SIGINT, then shuts down
// gracefully. Every answer carries the header X-Served-By: name. Requests
// are logged, except successful health and status checks (they come every
// few seconds). Run exits the process with status 1 when it cannot listen.
func Run(program, name, listen string, h http.Handler) {
	if name == "" {
		name = listen
	}
	log := Logger.With("program", program, "node", name)
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		log.Error("cannot listen", "err", err)
		os.Exit(1)
	}
	srv := &http.Server{
		Handler:           logged(log, name, h),
		ReadHeaderTimeout: 5 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	log.Info("serving", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
	log.Info("stopped")
}

// statusWriter records the status code of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func logged(log *slog.Logger, name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w.Header().Set(ServedBy, name)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		quiet := sw.status == http.StatusOK && (r.URL.Path == "/health" || r.URL.Path == "/status")
		if !quiet {
			log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
				"remote", r.RemoteAddr, "duration", time.Since(start).Round(time.Microsecond))
		}
	})
}

// JSON writes v as indented JSON (as the original's Flask apps answered).
func JSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// Fail answers an error as JSON, {"success": false, "error": "..."}, and
// logs it.
func Fail(w http.ResponseWriter, status int, err error) {
	Logger.Warn("failed", "status", status, "err", err)
	JSON(w, status, map[string]any{"success": false, "error": err.Error()})
}

// Dependency is something an app needs to answer: what it is, as the
// health check names it, and how to check it.
type Dependency struct {
	What  string
	Check func(context.Context) error
}

// Health answers GET /health (the reporter's check): "a-ok!" when every
// dependency passes its check, else 503 "<what> unavailable" for the first
// that fails, logged with its error.
func Health(deps ...Dependency) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, d := range deps {
			if err := d.Check(r.Context()); err != nil {
				Logger.Warn("health: "+d.What+" unavailable", "err", err)
				http.Error(w, d.What+" unavailable", http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintln(w, "a-ok!")
	}
}
