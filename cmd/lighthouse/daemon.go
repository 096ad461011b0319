package main

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"lighthouse/effects/metrics"
	"lighthouse/effects/sdnotify"
	"lighthouse/runtime"
)

// metricsAddressHelp is the --metrics-address flag's text.
const metricsAddressHelp = "serve /metrics, /healthz and /readyz on HOST:PORT (default: off)"

// serveDaemon starts what a daemon shows the outside while it runs: the
// metrics listener when addr is set, and systemd's READY=1 once h says it
// has started. stop undoes both; it says STOPPING=1 to systemd.
func serveDaemon(addr string, reg *prometheus.Registry, h *runtime.Health, log *slog.Logger) (stop func(), err error) {
	var srv *metrics.Server
	if addr != "" {
		if srv, err = metrics.Listen(addr, reg, h, log); err != nil {
			return nil, err
		}
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-h.Started():
			if sent, err := sdnotify.Notify("READY=1"); err != nil {
				log.Warn("telling systemd the daemon is ready", "err", err)
			} else if sent {
				log.Debug("told systemd the daemon is ready")
			}
		case <-done:
		}
	}()
	return func() {
		close(done)
		if _, err := sdnotify.Notify("STOPPING=1"); err != nil {
			log.Debug("telling systemd the daemon stops", "err", err)
		}
		if srv != nil {
			srv.Close()
		}
	}, nil
}
