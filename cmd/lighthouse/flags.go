package main

import (
	"flag"
	"fmt"
	"io"

	"lighthouse/effects"
	"lighthouse/model"
)

// flags is a command's flag set; --help prints to stdout, errors to stderr.
type flags struct {
	*flag.FlagSet
	e env
}

// newFlags makes a flag set whose usage text shows the command's summary.
func newFlags(name, summary string, e env) *flags {
	fs := flag.NewFlagSet("lighthouse "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: lighthouse %s [flags]\n\n%s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	return &flags{FlagSet: fs, e: e}
}

// parse parses args. done is true when the command must stop with code:
// 0 after --help, 2 on a usage error or a stray positional argument.
func (f *flags) parse(args []string) (code int, done bool) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			f.printUsage(f.e.stdout)
			return exitOK, true
		}
	}
	if err := f.Parse(args); err != nil {
		return exitUsage, true
	}
	if f.NArg() > 0 {
		fmt.Fprintf(f.e.stderr, "%s: unexpected argument %q\n", f.Name(), f.Arg(0))
		return exitUsage, true
	}
	return 0, false
}

// parseConfigDir is parse for a command that reads the config directory
// given by --config-dir (dir, declared on f) before anything else: done is
// also true when the flag is missing (code 2) or the directory cannot be
// read (code 1, said on stderr).
func (f *flags) parseConfigDir(args []string, dir *string) (files []model.File, code int, done bool) {
	if code, done := f.parse(args); done {
		return nil, code, true
	}
	if !f.require("config-dir", *dir) {
		return nil, exitUsage, true
	}
	files, err := effects.ReadConfigDir(*dir)
	if err != nil {
		fmt.Fprintf(f.e.stderr, "%s: %v\n", f.Name(), err)
		return nil, exitError, true
	}
	return files, 0, false
}

func (f *flags) printUsage(w io.Writer) {
	f.SetOutput(w)
	f.Usage()
	f.SetOutput(f.e.stderr)
}

// requireString reports a missing required flag as a usage error.
func (f *flags) require(name, value string) bool {
	if value == "" {
		fmt.Fprintf(f.e.stderr, "%s: --%s is required\n", f.Name(), name)
		return false
	}
	return true
}
