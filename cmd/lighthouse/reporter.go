package main

import (
	"lighthouse/effects"
	"lighthouse/effects/metrics"
	"lighthouse/effects/probe"
	"lighthouse/effects/zk"
	"lighthouse/model"
	"lighthouse/runtime"
)

const reporterSummary = `Health-check the services of <config-dir>/services/*.yaml and register each
healthy service port in ZooKeeper as the ephemeral znode
<path>/<service>/<host-name>:<port>, holding the original Lighthouse's JSON.
The config directory is watched; SIGHUP re-reads it and registers everything
again. SIGTERM or SIGINT deletes every znode, closes the ZooKeeper session
and exits 0; when a service has drain_on_stop, its ports are first
published with state: drain for that long (a second signal cuts the wait
short). ` + "`lighthouse drain`" + ` drains services while the reporter runs.

The registered host name and IP are this host's FQDN and the address it
resolves to (as the original found them: os.Hostname, then a lookup);
--host-name and --host-ip replace them, e.g. to run several "hosts" on
127.0.0.x addresses of one machine.

Exit codes: 0 stopped by a signal, 1 runtime failure (unreadable config
directory, no host identity), 2 usage error.`

func reporterCommand(e env, args []string) int {
	fs := newFlags("reporter", reporterSummary, e)
	dir := fs.String("config-dir", "", "the config directory (required)")
	host := fs.hostFlags()
	metricsAddr := fs.String("metrics-address", "", metricsAddressHelp)
	files, code, done := fs.parseConfigDir(args, dir)
	if done {
		return code
	}
	if !host.valid(fs) {
		return exitUsage
	}

	// Logging follows logging.yaml from the first line on.
	logs := effects.NewLiveLoggerTo(model.Load(nil, files).Config.Logging, "reporter", e.stdout, e.stderr)
	log := logs.Logger()

	ctx, hurry, stop := stops()
	defer stop()
	id, err := zk.DetectIdentity(ctx, *host.name, *host.ip)
	if err != nil {
		log.Error("cannot tell this host's name and address; give --host-name and --host-ip", "err", err)
		return exitError
	}
	if id.Loopback() && *host.ip == "" {
		log.Warn("the registered IP is a loopback address: other hosts cannot reach it; give --host-ip", "host", id.Name, "ip", id.IP)
	}

	src, err := effects.WatchConfigDir(*dir, log)
	if err != nil {
		log.Error("watching the config directory", "err", err)
		return exitError
	}
	defer src.Close()

	refresh, stopHangups := hangups()
	defer stopHangups()

	m, health := metrics.NewReporter(), &runtime.Health{}
	stopDaemon, err := serveDaemon(*metricsAddr, m.Registry(), health, log)
	if err != nil {
		log.Error("cannot serve metrics", "err", err)
		return exitError
	}
	defer stopDaemon()

	r := &runtime.Reporter{
		Log:     log,
		Config:  src,
		Refresh: refresh,
		Hurry:   hurry,
		Prober:  probe.Prober{},
		NewRegistry: func(d model.Discovery) (runtime.Registry, error) {
			reg, err := zk.ConnectDiscovery(d, log)
			if err != nil {
				return nil, err
			}
			return reg, nil
		},
		Host:      runtime.Identity{Name: id.Name, IP: id.IP},
		OnLogging: logs.Apply,
		Metrics:   m,
		Health:    health,
	}
	if err := r.Run(ctx); err != nil {
		log.Error("reporter failed", "err", err)
		return exitError
	}
	return exitOK
}
