package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"lighthouse/effects"
	"lighthouse/model"
	"lighthouse/render"
)

const renderSummary = `Print the HAProxy config that the writer would write for a config directory
and a membership file. The config goes to stdout, every problem (config,
membership, render) to stderr, one per line. Items with errors are left out;
the rest is printed. Exit 0 when there are no errors (warnings allowed), 1 when
there are errors, 2 on a usage error.

The membership file is a JSON object mapping cluster names to arrays of nodes
as reporters register them, e.g.
  {"web": [{"host": "app01.example.com", "ip": "10.0.0.11", "port": 8000}]}
Without --membership every backend is empty.`

// renderHeap is the heap a render may use before garbage is collected.
const renderHeap = 256 << 20

// renderCommand is `lighthouse render`.
func renderCommand(e env, args []string) int {
	fs := newFlags("render", renderSummary, e)
	dir := fs.String("config-dir", "", "the config `DIR` (required)")
	membership := fs.String("membership", "", "JSON `FILE` of cluster name → nodes (default: no nodes)")
	versionFlag := fs.String("haproxy-version", "", "the `VERSION` of HAProxy to render for, e.g. 2.6.12 (default: ask the --haproxy binary with -v)")
	binary := fs.String("haproxy", "haproxy", "the HAProxy `BINARY` asked for its version when --haproxy-version is not given")
	if code, done := fs.parse(args); done {
		return code
	}
	if !fs.require("config-dir", *dir) {
		return exitUsage
	}

	var v model.Version
	if *versionFlag != "" {
		var err error
		if v, err = model.ParseVersion(*versionFlag); err != nil {
			fmt.Fprintf(e.stderr, "lighthouse render: --haproxy-version: %v\n", err)
			return exitUsage
		}
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var err error
		v, err = effects.HAProxyVersion(ctx, *binary)
		cancel()
		if err != nil {
			fmt.Fprintf(e.stderr, "lighthouse render: %v (give --haproxy-version)\n", err)
			return exitError
		}
	}

	// A render allocates what it needs and exits: collecting garbage before
	// renderHeap is in use would only cost time (about a fifth of it at
	// 50,000 servers, whose render peaks near 80 MB).
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(renderHeap))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))

	// The membership file is decoded while the config directory is read
	// and loaded: the two are independent, and a machine has cores.
	type decoded struct {
		nodes map[string][]model.Node
		diags model.Diagnostics
		err   error
	}
	membershipDone := make(chan decoded, 1)
	go func() {
		var d decoded
		if *membership != "" {
			data, err := os.ReadFile(*membership)
			if err != nil {
				d.err = err
			} else {
				var members model.Membership
				members, d.diags = model.DecodeMembershipFile(*membership, data)
				d.nodes = make(map[string][]model.Node, len(members))
				for name, m := range members {
					d.nodes[name] = m.Nodes
				}
			}
		}
		membershipDone <- d
	}()

	files, err := effects.ReadConfigDir(*dir)
	if err != nil {
		<-membershipDone
		fmt.Fprintf(e.stderr, "lighthouse render: %v\n", err)
		return exitError
	}
	snap := model.Load(nil, files)
	diags := append(model.Diagnostics(nil), snap.Diagnostics...)

	m := <-membershipDone
	if m.err != nil {
		fmt.Fprintf(e.stderr, "lighthouse render: read membership: %v\n", m.err)
		return exitError
	}
	diags = append(diags, m.diags...)
	nodes := m.nodes
	res := render.Render(render.Input{Config: &snap.Config, Nodes: nodes, NodesSource: *membership, Version: v})
	diags = append(diags, res.Diagnostics...)
	diags.Sort()

	if _, err := res.Config.WriteTo(e.stdout); err != nil {
		fmt.Fprintf(e.stderr, "lighthouse render: write config: %v\n", err)
		return exitError
	}
	fmt.Fprint(e.stderr, diags.String())
	if diags.HasErrors() {
		return exitError
	}
	return exitOK
}
