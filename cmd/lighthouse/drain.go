package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"lighthouse/effects"
	"lighthouse/effects/haproxy"
	"lighthouse/model"
)

const drainSummary = `Ask the running reporter to publish services of this host with state: drain,
so that every writer stops sending them new requests while those in flight
finish: all of them, one service (--service, its file stem or name), or one
port (--port, with or without --service).

The request is kept in <config-dir>/` + model.DrainFile + `, which the reporter watches:
it publishes the drain within a moment, and a restarted reporter keeps it,
until ` + "`lighthouse undrain`" + ` with the same flags undoes it.

Exit codes: 0 done, 1 the config directory or the drain file is broken or
names no such service or port, 2 usage error.`

const undrainSummary = `Undo ` + "`lighthouse drain`" + `: the reporter publishes the services again with
state: ready. Without flags every drain is undone; with --service, every
drain of that service; with --service and --port (or --port alone, for
"*:PORT"), that one.

Exit codes: 0 done (also when there was nothing to undo), 1 the config
directory or the drain file is broken, 2 usage error.`

func drainCommand(e env, args []string, drain bool) int {
	name, summary := "drain", drainSummary
	if !drain {
		name, summary = "undrain", undrainSummary
	}
	fl := newFlags(name, summary, e)
	dir := fl.String("config-dir", "", "the config directory (required)")
	service := fl.String("service", "", "the service: its file stem or its name (default: every service)")
	port := fl.Int("port", 0, "the port (default: every port)")
	if code, done := fl.parse(args); done {
		return code
	}
	if !fl.require("config-dir", *dir) {
		return exitUsage
	}
	entry := "*"
	if *service != "" {
		entry = *service
	}
	if *port != 0 {
		entry += fmt.Sprintf(":%d", *port)
	}
	d, err := model.ParseDrain(entry)
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", fl.Name(), err)
		return exitUsage
	}

	files, err := effects.ReadConfigDir(*dir)
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", fl.Name(), err)
		return exitError
	}
	snap := model.Load(nil, files)
	path := filepath.Join(*dir, model.DrainFile)
	// A broken drain file is never overwritten: it is the operator's to fix.
	for _, diag := range snap.Diagnostics {
		if diag.File == model.DrainFile && diag.Severity == model.Error {
			fmt.Fprintf(e.stderr, "%s: %s\n", fl.Name(), diag)
			return exitError
		}
	}
	cfg := &snap.Config
	var list []model.Drain
	if drain {
		covered := coveredPorts(cfg, d)
		if len(covered) == 0 {
			fmt.Fprintf(e.stderr, "%s: no service port of %s matches %s\n", fl.Name(), *dir, d)
			return exitError
		}
		list = model.WithDrain(cfg.Drains, d)
		fmt.Fprintf(e.stdout, "draining %s: %s\n", d, strings.Join(covered, " "))
	} else {
		var removed int
		list, removed = model.WithoutDrain(cfg.Drains, d)
		if removed == 0 {
			fmt.Fprintf(e.stdout, "nothing to undo: %s is not drained by its own entry\n", d)
			if len(cfg.Drains) > 0 {
				fmt.Fprintf(e.stdout, "drained: %s\n", drainList(cfg.Drains))
			}
			return exitOK
		}
		fmt.Fprintf(e.stdout, "undrained %s\n", d)
	}
	if err := haproxy.WriteFileAtomic(path, model.EncodeDrains(list), 0o644); err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", fl.Name(), err)
		return exitError
	}
	if len(list) > 0 {
		fmt.Fprintf(e.stdout, "drained: %s (%s)\n", drainList(list), path)
	} else {
		fmt.Fprintf(e.stdout, "nothing drained (%s)\n", path)
	}
	return exitOK
}

// coveredPorts lists "service:port" for every service port d drains.
func coveredPorts(cfg *model.Config, d model.Drain) []string {
	var out []string
	for _, id := range cfg.ServiceIDs() {
		sv := cfg.Services[id]
		for _, p := range sv.Ports {
			if d.Covers(id, sv, p) {
				out = append(out, fmt.Sprintf("%s:%d", id, p))
			}
		}
	}
	return out
}

func drainList(list []model.Drain) string {
	s := make([]string, len(list))
	for i, d := range list {
		s[i] = d.String()
	}
	return strings.Join(s, " ")
}
