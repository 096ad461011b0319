package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"lighthouse/effects/probe"
	"lighthouse/effects/zk"
	"lighthouse/model"
	"lighthouse/plan/registration"
	"lighthouse/runtime"
)

// Exit codes of check beyond the shared ones.
const (
	exitCheckFails = 3 // a check fails
	exitRegistry   = 4 // every check passes; the registry is not what the reporter would make it
)

const checkSummary = `Run every service's health checks once, as the reporter runs them (the same
probes, timeouts and host), and print one line per port and check: pass or
fail, how long it took, and why it failed. Then connect to each discovery as
the reporter does, read (never write) the znodes this host's services map
to, and print the registry plan that the reporter would carry out now: its
dry run, described as the reporter logs its plans.

One round is enough: a port whose checks all pass counts as up (as it does
for the reporter once they have passed rise times in a row), a port with a
failing check as down. The reporter's session is taken to be the one that
holds most of this host's znodes. Znodes of services no longer configured
are not looked for. Config problems are printed on stderr.

Exit codes: 0 every check passes and the registry holds what the reporter
would register; 1 error (config errors, a discovery that cannot be read);
2 usage error; 3 a check fails; 4 every check passes, and the reporter has
registry changes to make.`

func checkCommand(e env, args []string) int {
	fs := newFlags("check", checkSummary, e)
	dir := fs.String("config-dir", "", "the config directory (required)")
	host := fs.hostFlags()
	timeout := fs.Duration("zookeeper-timeout", 10*time.Second, "how long to wait for each discovery's ZooKeeper session")
	files, code, done := fs.parseConfigDir(args, dir)
	if done {
		return code
	}
	if !host.valid(fs) {
		return exitUsage
	}
	snap := model.Load(nil, files)
	cfg := &snap.Config
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "lighthouse check: %v\n", err)
		return exitError
	}
	ctx := context.Background()
	id, err := zk.DetectIdentity(ctx, *host.name, *host.ip)
	if err != nil {
		return fail(fmt.Errorf("cannot tell this host's name and address (give --host-name and --host-ip): %w", err))
	}

	health, passed := checkOnce(ctx, e.stdout, cfg)
	want := registration.Wanted(cfg, health, registration.Host{Name: id.Name, IP: id.IP}, false)
	fmt.Fprint(e.stderr, snap.Diagnostics.String())
	changes := false
	for _, name := range slices.Sorted(maps.Keys(want)) {
		d := cfg.Discovery[name]
		p, err := dryRun(ctx, d, want[name], *timeout)
		if err != nil {
			return fail(fmt.Errorf("discovery %s: %w", name, err))
		}
		fmt.Fprintf(e.stdout, "\ndiscovery %s (%s, path %s):\n%s", name, strings.Join(d.Hosts, ","), d.Path, p)
		changes = changes || !p.Empty()
	}
	switch {
	case snap.Diagnostics.HasErrors():
		return exitError
	case !passed:
		return exitCheckFails
	case changes:
		return exitRegistry
	}
	return exitOK
}

// checkOnce runs one round of every service's checks, all at once as the
// reporter does, prints a line per port and check, and returns the ports'
// health as one round judges it, and whether every check passed.
func checkOnce(ctx context.Context, out io.Writer, cfg *model.Config) (registration.Health, bool) {
	ids := cfg.ServiceIDs()
	rounds := make([]map[int][]model.CheckResult, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rounds[i] = runtime.CheckRound(ctx, probe.Prober{}, cfg.Services[id])
		}()
	}
	wg.Wait()
	health, passed := registration.Health{}, true
	for i, id := range ids {
		sv, results := cfg.Services[id], rounds[i]
		health[id] = map[int]bool{}
		for _, port := range sv.Ports {
			up := true
			if len(sv.Checks) == 0 {
				fmt.Fprintf(out, "%s:%d no checks: up while configured\n", id, port)
			}
			for _, r := range results[port] {
				up = up && r.Pass
				took := fmt.Sprintf("%.1fms", float64(r.Took)/float64(time.Millisecond))
				if r.Pass {
					fmt.Fprintf(out, "%s:%d %s pass (%s)\n", id, port, r.Type, took)
				} else {
					fmt.Fprintf(out, "%s:%d %s fail (%s): %s\n", id, port, r.Type, took, runtime.ClipDetail(r.Detail))
				}
			}
			health[id][port] = up
			passed = passed && up
		}
	}
	return health, passed
}

// dryRun connects to discovery d as the reporter does (its credentials and
// TLS), reads the znodes of want without writing anything, and plans what
// the reporter would do there now.
func dryRun(ctx context.Context, d model.Discovery, want registration.Want, timeout time.Duration) (registration.Plan, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg, err := zk.ConnectDiscovery(d, quiet)
	if err != nil {
		return registration.Plan{}, err
	}
	defer reg.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for reg.Session() == 0 {
		select {
		case <-reg.SessionChanges():
		case <-ctx.Done():
			return registration.Plan{}, fmt.Errorf("no ZooKeeper session with %s within %v", strings.Join(d.Hosts, ","), timeout)
		}
	}
	seen := map[string]registration.Seen{}
	for p := range want {
		exists, owner, data, _, err := reg.Inspect(ctx, p)
		if err != nil {
			return registration.Plan{}, err
		}
		seen[p] = registration.Seen{Exists: exists, Owner: owner, Data: data}
	}
	st := registration.FromRegistry(want, seen)
	return registration.Make(registration.Input{Want: want, State: st, Now: time.Now()}), nil
}
