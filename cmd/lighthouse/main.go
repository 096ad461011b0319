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
	exitUsage = 2 // the command line was wrong, or the command is not built yet
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

// commands lists the subcommands in the order --help shows them. The
// commands built in other files set their run variable in an init function,
// so the table calls through the variables.
var commands []command

func init() {
	commands = []command{
		{"writer", "watch ZooKeeper and keep the local HAProxy in sync", func(e env, a []string) int { return runWriter(e, a) }},
		{"reporter", "health-check local services and register them in ZooKeeper", func(e env, a []string) int { return runReporter(e, a) }},
		{"drain", "have the reporter publish services as draining (state: drain)", func(e env, a []string) int { return drainMain(e, a, true) }},
		{"undrain", "undo `lighthouse drain`", func(e env, a []string) int { return drainMain(e, a, false) }},
		{"plan", "print the actions a change would trigger (a dry run)", func(e env, a []string) int { return runPlan(e, a) }},
		{"render", "print the HAProxy config for a config dir and a membership file", func(e env, a []string) int { return runRender(e, a) }},
		{"validate", "check a config dir and print every problem, located", runValidate},
		{"version", "print the version", runVersion},
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
		return runWriter(e, legacyArgs(argv[1:]))
	case "lighthouse-reporter":
		return runReporter(e, legacyArgs(argv[1:]))
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
	for _, c := range commands {
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
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'lighthouse COMMAND --help' for a command's flags.\n")
	fmt.Fprintf(w, "Exit codes: 0 success, 1 errors found, 2 usage error or command not available.\n")
}

func runVersion(e env, args []string) int {
	fs := newFlags("version", "print the version", e)
	if code, done := fs.parse(args); done {
		return code
	}
	fmt.Fprintf(e.stdout, "lighthouse %s\n", version)
	return exitOK
}

// notBuilt is the answer of a command whose implementation has not landed.
func notBuilt(name string) func(e env, args []string) int {
	return func(e env, args []string) int {
		fs := newFlags(name, "(not built yet)", e)
		fs.String("config-dir", "", "the config directory")
		if code, done := fs.parse(args); done {
			return code
		}
		fmt.Fprintf(e.stderr, "lighthouse %s: not built yet in this version\n", name)
		return exitUsage
	}
}

var (
	runWriter   = notBuilt("writer")
	runReporter = notBuilt("reporter")
	runPlan     = notBuilt("plan")
	runRender   = notBuilt("render")
)
