package main

import (
	"context"
	"io"
	"log/slog"
	"time"

	"lighthouse/effects/haproxy"
	"lighthouse/effects/zk"
	"lighthouse/model"
	"lighthouse/plan"
	"lighthouse/runtime"
)

// readMembership reads every configured cluster's members from ZooKeeper
// once. A cluster that cannot be read within the context is unknown.
func readMembership(ctx context.Context, cfg *model.Config) (model.Membership, error) {
	mem := model.Membership{}
	byDiscovery := map[string][]string{}
	for _, name := range cfg.ClusterNames() {
		byDiscovery[cfg.Clusters[name].Discovery] = append(byDiscovery[cfg.Clusters[name].Discovery], name)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for disc, names := range byDiscovery {
		d, ok := cfg.Discovery[disc]
		if !ok {
			continue
		}
		// plan never needs the secret: it reads as a client without
		// credentials (under the default ACL everyone may read; under an
		// ACL of digest readers the clusters stay unknown).
		d.Auth = nil
		w, err := zk.ConnectWatcher(d, quiet)
		if err != nil {
			return nil, err
		}
		w.Watch(names)
		wait, cancel := context.WithTimeout(ctx, 10*time.Second)
		for known := 0; known < len(names); {
			select {
			case u := <-w.Updates():
				if _, seen := mem[u.Cluster]; u.Known && !seen || u.Known && !mem[u.Cluster].Known {
					known++
				}
				if u.Known || mem[u.Cluster].Nodes == nil {
					mem[u.Cluster] = model.Members{Known: u.Known, Nodes: u.Nodes}
				}
				continue
			case <-wait.Done():
			}
			break
		}
		cancel()
		w.Close()
	}
	return mem, nil
}

// askHAProxy observes the running HAProxy of the balancer config, reading
// its answers as release v's; it is taken to run its config file.
func askHAProxy(ctx context.Context, b *model.Balancer, binary string, v model.Version) (plan.Observed, error) {
	l := haproxy.NewLocal(binary, b.ConfigFile, b.SocketFile, b.PidFile)
	l.SetVersion(v)
	rows, err := l.Observe(ctx)
	obs := runtime.ObservedFrom(rows)
	if err != nil {
		return obs, err
	}
	if obs.Running {
		obs.Loaded = plan.IndexConfig(obs.File)
	}
	return obs, nil
}
