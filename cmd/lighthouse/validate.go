package main

import (
	"encoding/json"
	"fmt"

	"lighthouse/effects"
	"lighthouse/model"
)

func runValidate(e env, args []string) int {
	fs := newFlags("validate", "Load a config directory and print every problem, one per line:\nFILE:LINE: KEY: MESSAGE. Exit 0 when there are no errors (warnings\nallowed), 1 when there are errors, 2 on a usage error.", e)
	dir := fs.String("config-dir", "", "the config directory (required)")
	asJSON := fs.Bool("json", false, "print {\"diagnostics\": [...], \"errors\": N, \"warnings\": N} instead")
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
