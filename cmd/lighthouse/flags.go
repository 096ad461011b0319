package main

import (
	"flag"
	"fmt"
	"io"
	"net/netip"

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

// hostFlags are --host-name and --host-ip: the identity the reporter
// registers under, detected when not given.
type hostFlags struct {
	name, ip *string
}

func (f *flags) hostFlags() hostFlags {
	return hostFlags{
		name: f.String("host-name", "", "the host name to register (default: this host's FQDN)"),
		ip:   f.String("host-ip", "", "the IP address to register (default: the address the host name resolves to)"),
	}
}

// valid reports a bad --host-name or --host-ip as a usage error.
func (h hostFlags) valid(f *flags) bool {
	if *h.ip != "" {
		if _, err := netip.ParseAddr(*h.ip); err != nil {
			fmt.Fprintf(f.e.stderr, "%s: --host-ip %q is not an IP address\n", f.Name(), *h.ip)
			return false
		}
	}
	if *h.name != "" {
		if err := (model.Node{Host: *h.name, IP: "127.0.0.1", Port: 1}).Validate(); err != nil {
			fmt.Fprintf(f.e.stderr, "%s: --host-name: %v\n", f.Name(), err)
			return false
		}
	}
	return true
}
