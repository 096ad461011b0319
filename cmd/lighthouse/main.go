// Command lighthouse is the one binary of Lighthouse: the writer, the
// reporter, and the tools for people (plan, render, validate).
//
// Installed under the names lighthouse-writer or lighthouse-reporter (a
// symbolic link is enough), it behaves like the original's entry points:
// `lighthouse-writer CONFIG_DIR`.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Exit codes shared by every command.
const (
	exitOK    = 0 // success; for plan --detailed-exitcode: no changes
	exitError = 1 // the command ran and found errors
	exitUsage = 2 // the command line was wrong
)

// env is what a command may touch of the process: its streams.
type env struct {
	stdout, stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(e env, args []string) int
}

// commands lists the subcommands in the order --help shows them; each is
// the function <name>Command of its own file. It is a function, not a
// table filled at start: usage, which the commands call for --help, reads
// it.
func commands() []command {
	return []command{
		{"writer", "watch ZooKeeper and keep the local HAProxy in sync", writerCommand},
		{"reporter", "health-check local services and register them in ZooKeeper", reporterCommand},
		{"drain", "have the reporter publish services as draining (state: drain)", func(e env, a []string) int { return drainCommand(e, a, true) }},
		{"undrain", "undo `lighthouse drain`", func(e env, a []string) int { return drainCommand(e, a, false) }},
		{"plan", "print the actions a change would trigger (a dry run)", planCommand},
		{"check", "run the health checks once; print the reporter's registry plan (a dry run)", checkCommand},
		{"render", "print the HAProxy config for a config dir and a membership file", renderCommand},
		{"validate", "check a config dir and print every problem, located", validateCommand},
		{"version", "print the version", versionCommand},
	}
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args, env{stdout: os.Stdout, stderr: os.Stderr}))
}

func run(argv []string, e env) int {
	// The original's entry points: lighthouse-writer DIR, lighthouse-reporter DIR.
	switch filepath.Base(argv[0]) {
	case "lighthouse-writer":
		return writerCommand(e, legacyArgs(argv[1:]))
	case "lighthouse-reporter":
		return reporterCommand(e, legacyArgs(argv[1:]))
	}
	if len(argv) < 2 {
		usage(e.stderr)
		return exitUsage
	}
	name := argv[1]
	switch name {
	case "-h", "-help", "--help", "help":
		usage(e.stdout)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(e, argv[2:])
		}
	}
	fmt.Fprintf(e.stderr, "lighthouse: unknown command %q\n\n", name)
	usage(e.stderr)
	return exitUsage
}

// legacyArgs turns the original's `CONFIG_DIR` positional argument into
// --config-dir; flags pass through.
func legacyArgs(args []string) []string {
	if len(args) == 1 && !strings.HasPrefix(args[0], "-") {
		return []string{"--config-dir", args[0]}
	}
	return args
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: lighthouse COMMAND [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'lighthouse COMMAND --help' for a command's flags.\n")
	fmt.Fprintf(w, "Exit codes: 0 success, 1 errors found, 2 usage error (a wrong flag, an unknown command).\n")
}

func versionCommand(e env, args []string) int {
	fs := newFlags("version", "print the version", e)
	if code, done := fs.parse(args); done {
		return code
	}
	fmt.Fprintf(e.stdout, "lighthouse %s\n", version)
	return exitOK
}
