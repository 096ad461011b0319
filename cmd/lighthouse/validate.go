package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"lighthouse/effects"
	"lighthouse/model"
	"lighthouse/render"
)

func runValidate(e env, args []string) int {
	fs := newFlags("validate", "Load a config directory and print every problem, one per line:\nFILE:LINE: KEY: MESSAGE. Exit 0 when there are no errors (warnings\nallowed), 1 when there are errors, 2 on a usage error.", e)
	dir := fs.String("config-dir", "", "the config directory (required)")
	asJSON := fs.Bool("json", false, "print {\"diagnostics\": [...], \"errors\": N, \"warnings\": N} instead")
	versionFlag := fs.String("haproxy-version", "", "the HAProxy version the directives are checked for (default: ask the --haproxy binary with -v, else 2.6)")
	binary := fs.String("haproxy", "haproxy", "the HAProxy `BINARY` asked for its version when --haproxy-version is not given")
	if code, done := fs.parse(args); done {
		return code
	}
	if !fs.require("config-dir", *dir) {
		return exitUsage
	}
	files, err := effects.ReadConfigDir(*dir)
	if err != nil {
		fmt.Fprintf(e.stderr, "lighthouse validate: %v\n", err)
		return exitError
	}
	snap := model.Load(nil, files)
	ds := snap.Diagnostics
	if snap.Config.Balancer != nil {
		// Rendering checks every directive line against HAProxy's keyword
		// table, and the names and listeners only a whole config shows.
		v, err := render.ParseVersion(*versionFlag)
		if *versionFlag == "" {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			v, err = effects.HAProxyVersion(ctx, *binary)
			cancel()
			if err != nil {
				v, err = render.Version{Major: 2, Minor: 6}, nil
			}
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "lighthouse validate: --haproxy-version: %v\n", err)
			return exitUsage
		}
		ds = append(ds, render.Render(render.Input{Config: &snap.Config, Version: v}).Diagnostics...)
		ds.Sort()
	}
	errs := len(ds.Errors())
	if *asJSON {
		out := struct {
			Diagnostics model.Diagnostics `json:"diagnostics"`
			Errors      int               `json:"errors"`
			Warnings    int               `json:"warnings"`
		}{ds, errs, len(ds) - errs}
		if out.Diagnostics == nil {
			out.Diagnostics = model.Diagnostics{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	} else {
		fmt.Fprint(e.stdout, ds.String())
		fmt.Fprintf(e.stderr, "%s: %d error(s), %d warning(s)\n", *dir, errs, len(ds)-errs)
	}
	if errs > 0 {
		return exitError
	}
	return exitOK
}
