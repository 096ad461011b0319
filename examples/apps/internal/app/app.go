// Package app holds what the example apps share: serving on one host's
// address, naming the node in every answer (the X-Served-By header), a log
// line per request, JSON answers, and a graceful stop on SIGTERM or SIGINT.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// ServedBy is the response header naming the node that answered.
const ServedBy = "X-Served-By"

// Logger is the apps' logger: text lines on stderr.
var Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

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
