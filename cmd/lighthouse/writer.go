package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"lighthouse/effects"
	"lighthouse/effects/haproxy"
	"lighthouse/effects/lastgood"
	"lighthouse/effects/metrics"
	"lighthouse/effects/zk"
	"lighthouse/model"
	"lighthouse/runtime"
)

func writerCommand(e env, args []string) int {
	fs := newFlags("writer", `Watch ZooKeeper for the members of the clusters in clusters/*.yaml and keep
the local HAProxy in sync: membership changes through the runtime API,
structural changes through a validated, graceful, rate-limited reload.
HAProxy is started (master-worker, daemonized) when it is not running.

Signals: SIGTERM or SIGINT stop watching and exit 0, leaving HAProxy running
on the last good config; SIGHUP re-reads everything.

Also installed as lighthouse-writer CONFIG_DIR.`, e)
	dir := fs.String("config-dir", "", "the config directory (required)")
	bin := fs.String("haproxy", "haproxy", "the HAProxy binary")
	metricsAddr := fs.String("metrics-address", "", metricsAddressHelp)
	stateDir := fs.String("state-dir", "", "where the last good version of each config file is kept across restarts (default: $STATE_DIRECTORY or /var/lib/lighthouse, then last-good/ and the config directory's path)")
	files, code, done := fs.parseConfigDir(args, dir)
	if done {
		return code
	}
	live := effects.NewLiveLogger(model.Load(nil, files).Config.Logging, "writer")
	log := live.Logger()
	cfgDir, err := effects.WatchConfigDir(*dir, log)
	if err != nil {
		log.Error("cannot watch the config directory", "err", err)
		return exitError
	}
	defer cfgDir.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	refresh, stopHangups := hangups()
	defer stopHangups()

	m, health := metrics.NewWriter(), &runtime.Health{}
	stopDaemon, err := serveDaemon(*metricsAddr, m.Registry(), health, log)
	if err != nil {
		log.Error("cannot serve metrics", "err", err)
		return exitError
	}
	defer stopDaemon()

	var version model.Version // detected by the writer (Version) before it makes its HAProxy
	w := &runtime.Writer{
		Log:    log,
		Config: cfgDir,
		NewHAProxy: func(b *model.Balancer) runtime.HAProxy {
			l := haproxy.NewLocal(*bin, b.ConfigFile, b.SocketFile, b.PidFile)
			l.SetVersion(version) // HAProxy's answers are read as its release's
			return l
		},
		NewDiscovery: func(d model.Discovery) (runtime.Discovery, error) {
			w, err := zk.ConnectWatcher(d, log)
			if err == nil {
				w.OnSession(m.ZooKeeper)
			}
			return w, err
		},
		Version: func(ctx context.Context) (model.Version, error) {
			v, err := effects.HAProxyVersion(ctx, *bin)
			version = v
			return v, err
		},
		Refresh:   refresh,
		OnLogging: live.Apply,
		LastGood:  lastgood.Store{Dir: lastGoodDir(*stateDir, *dir)},
		Metrics:   m,
		Health:    health,
	}
	if err := w.Run(ctx); err != nil {
		log.Error("writer failed", "err", err)
		return exitError
	}
	return exitOK
}

// lastGoodDir is where the writer keeps the last good config files: under
// --state-dir when given, else lastgood.DefaultDir.
func lastGoodDir(stateDir, configDir string) string {
	if stateDir == "" {
		return lastgood.DefaultDir(configDir)
	}
	return filepath.Join(stateDir, "last-good")
}
