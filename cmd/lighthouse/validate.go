package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"lighthouse/effects"
	"lighthouse/effects/haproxy"
	"lighthouse/effects/zk"
	"lighthouse/model"
	"lighthouse/model/haproxyapi"
	"lighthouse/render"
)

func validateCommand(e env, args []string) int {
	fs := newFlags("validate", "Load a config directory and print every problem, one per line:\nFILE:LINE: KEY: MESSAGE. With --haproxy, also run that HAProxy's\n`haproxy -c` on the rendered config and map what it refuses back to the\nfile and line it came from. Exit 0 when there are no errors (warnings\nallowed), 1 when there are errors, 2 on a usage error.", e)
	dir := fs.String("config-dir", "", "the config directory (required)")
	asJSON := fs.Bool("json", false, "print {\"diagnostics\": [...], \"errors\": N, \"warnings\": N} instead")
	versionFlag := fs.String("haproxy-version", "", "the HAProxy version the directives are checked for (default: ask the --haproxy binary with -v, else 2.6)")
	check := &optionalBinary{path: "haproxy"}
	fs.Var(check, "haproxy", "also run `haproxy -c` on the rendered config: --haproxy runs haproxy from PATH, --haproxy=BINARY that one (also asked for the version)")
	files, code, done := fs.parseConfigDir(args, dir)
	if done {
		return code
	}
	snap := model.Load(nil, files)
	ds := snap.Diagnostics
	// The files discovery names (credentials, certificates): the model
	// keeps their paths, the shell reads them.
	for _, name := range sortedNames(snap.Config.Discovery) {
		ds = append(ds, zk.CheckFiles(snap.Config.Discovery[name], time.Now())...)
	}
	ds.Sort()
	if snap.Config.Balancer != nil {
		// Rendering checks every directive line against HAProxy's keyword
		// table, and the names and listeners only a whole config shows.
		v, err := model.ParseVersion(*versionFlag)
		if *versionFlag == "" {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			v, err = effects.HAProxyVersion(ctx, check.path)
			cancel()
			if err != nil {
				v, err = model.Version{Major: 2, Minor: 6}, nil
			}
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "lighthouse validate: --haproxy-version: %v\n", err)
			return exitUsage
		}
		res := render.Render(render.Input{Config: &snap.Config, Version: v})
		ds = append(ds, res.Diagnostics...)
		if check.set {
			cds, err := haproxyCheck(check.path, &snap.Config, res.Config.String())
			if err != nil {
				fmt.Fprintf(e.stderr, "lighthouse validate: %v\n", err)
				return exitError
			}
			ds = append(ds, cds...)
		}
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

// optionalBinary is a flag that may stand alone (--haproxy: the default
// binary) or carry a value (--haproxy=BINARY).
type optionalBinary struct {
	set  bool
	path string
}

func (o *optionalBinary) String() string {
	if o == nil {
		return ""
	}
	return o.path
}

func (o *optionalBinary) Set(v string) error {
	switch v {
	case "true":
		o.set = true
	case "false":
		o.set = false
	case "":
		return errors.New("empty binary")
	default:
		o.set, o.path = true, v
	}
	return nil
}

func (o *optionalBinary) IsBoolFlag() bool { return true }

// haproxyCheck runs `binary -c` on the rendered config text and turns each
// alert into an error diagnostic at the file and line of the config that
// produced the line HAProxy names ("parsing [FILE:LINE]"), or at the
// balancer file when it names none.
func haproxyCheck(binary string, cfg *model.Config, text string) (model.Diagnostics, error) {
	dir, err := os.MkdirTemp("", "lighthouse-validate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = haproxy.Process{Binary: binary}.Validate(ctx, path)
	var ve *haproxy.ValidationError
	if err == nil {
		return nil, nil
	}
	if !errors.As(err, &ve) {
		return nil, err
	}
	var ds model.Diagnostics
	for _, a := range ve.Alerts() {
		if haproxyapi.SummaryAlert(a) {
			continue
		}
		msg := "haproxy -c: " + strings.ReplaceAll(a, path, "haproxy.cfg")
		pos := model.Pos{File: "balancers/haproxy.yaml"}
		if p, ok := render.LocateAlert(cfg, text, a); ok {
			pos = p
		}
		ds = append(ds, pos.Diag(model.Error, msg))
	}
	if len(ds) == 0 {
		ds = append(ds, model.Diagnostic{Severity: model.Error, File: "balancers/haproxy.yaml", Message: "haproxy -c: " + strings.ReplaceAll(err.Error(), path, "haproxy.cfg")})
	}
	return ds, nil
}

// sortedNames returns the keys of m in order.
func sortedNames[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
