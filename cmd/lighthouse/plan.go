package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"lighthouse/effects"
	"lighthouse/model"
	"lighthouse/model/configtext"
	"lighthouse/plan"
)

// Exit code of plan --detailed-exitcode when the plan has changes.
const exitChanges = 2

func planCommand(e env, args []string) int {
	fs := newFlags("plan", `Print the actions that the writer would carry out now: a dry run.

With --membership and --current it is fully offline: --current names the
HAProxy config in force, and its server lines are the servers that run.
Without --membership, membership is read live from the configured ZooKeeper;
without --current, the running HAProxy is asked over its admin socket (or a
start is planned when none runs).

Exit codes: 0 success, 1 error, 2 usage error; with --detailed-exitcode:
0 no changes, 2 changes, 1 error.`, e)
	dir := fs.String("config-dir", "", "the config directory (required)")
	membership := fs.String("membership", "", "a JSON file mapping cluster name to an array of nodes")
	current := fs.String("current", "", "the HAProxy config now in force")
	versionFlag := fs.String("haproxy-version", "", "the HAProxy version, e.g. 2.6.12 (default: ask the --haproxy binary with -v)")
	binary := fs.String("haproxy", "haproxy", "the HAProxy `BINARY` the writer runs: asked for its version when --haproxy-version is not given")
	asJSON := fs.Bool("json", false, `print {"actions": [...], "diagnostics": [...]}`)
	detailed := fs.Bool("detailed-exitcode", false, "exit 0 when there are no changes, 2 when there are, 1 on error")
	if code, done := fs.parse(args); done {
		return code
	}
	if !fs.require("config-dir", *dir) {
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "lighthouse plan: %v\n", err)
		return exitError
	}
	files, err := effects.ReadConfigDir(*dir)
	if err != nil {
		return fail(err)
	}
	snap := model.Load(nil, files)
	diags := append(model.Diagnostics(nil), snap.Diagnostics...)
	cfg := &snap.Config
	if cfg.Balancer == nil {
		fmt.Fprint(e.stderr, diags.String())
		return fail(errors.New("no valid balancer config (balancers/haproxy.yaml)"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var version model.Version
	if *versionFlag != "" {
		if version, err = model.ParseVersion(*versionFlag); err != nil {
			fmt.Fprintf(e.stderr, "lighthouse plan: --haproxy-version: %v\n", err)
			return exitUsage
		}
	} else if version, err = effects.HAProxyVersion(ctx, *binary); err != nil {
		return fail(fmt.Errorf("%w (give --haproxy-version)", err))
	}

	var mem model.Membership
	if *membership != "" {
		data, err := os.ReadFile(*membership)
		if err != nil {
			return fail(err)
		}
		var ds model.Diagnostics
		mem, ds = model.DecodeMembershipFile(*membership, data)
		diags = append(diags, ds...)
	} else {
		if mem, err = readMembership(ctx, cfg); err != nil {
			return fail(err)
		}
	}

	var obs plan.Observed
	if *current != "" {
		data, err := os.ReadFile(*current)
		if err != nil {
			return fail(err)
		}
		text := configtext.OfBytes(data)
		obs = plan.Observed{Running: true, Loaded: plan.IndexConfig(text), File: text}
	} else if obs, err = askHAProxy(ctx, cfg.Balancer, *binary, version); err != nil {
		return fail(err)
	}

	p := plan.Make(plan.Input{Config: cfg, Membership: mem, Version: version, Observed: obs, Now: time.Now()})
	p.Diagnostics = append(diags, p.Diagnostics...)
	if *asJSON {
		out, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(e.stdout, "%s\n", out)
	} else {
		fmt.Fprint(e.stderr, p.Diagnostics.String())
		fmt.Fprint(e.stdout, p.String())
	}
	switch {
	case p.Diagnostics.HasErrors():
		return exitError
	case *detailed && !p.Empty():
		return exitChanges
	}
	return exitOK
}
