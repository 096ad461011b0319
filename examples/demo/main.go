// Command demo runs one of the original Lighthouse's two documented examples
// on this machine, each "host" on its own loopback address (127.0.0.x) with
// its own config directory from examples/<example>/<host>:
//
//	go run ./examples/demo -example web-cache   # make demo: web app + cache
//	go run ./examples/demo -example api         # make demo-api: API meta cluster with proxies
//
// It starts ZooKeeper, Redis, the example apps, a reporter per host with
// services and a writer (which starts HAProxy) per host with a balancer,
// prints what runs where, then reports membership changes until Ctrl-C or
// SIGTERM (or until the process that started it goes away), and then stops
// everything, HAProxy daemons included. Each program logs into its own file
// under the run directory (/tmp/lighthouse-demo/<host>/<program>.log).
//
// When haproxy, redis-server or ZooKeeper is missing, it runs
// .ci/install-deps as root and prints the command to run otherwise.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"lighthouse/examples/demo/cluster"
)

func main() { os.Exit(run()) }

func run() int {
	example := flag.String("example", "web-cache", "the example to run: "+strings.Join(cluster.ExampleNames(), " or "))
	runDir := flag.String("run-dir", cluster.ExampleRunDir, "where logs, pid files, HAProxy's and ZooKeeper's files go; any other than the default runs rewritten copies of the config dirs")
	haproxyBin := flag.String("haproxy", "", "the haproxy `binary` the writers run, e.g. ~/.cache/lighthouse/haproxy/bin/haproxy-3.4 (default: Debian's)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: go run ./examples/demo [-example web-cache|api] [-run-dir DIR] [-haproxy BINARY]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 || cluster.Examples[*example] == nil {
		flag.Usage()
		return 2
	}
	root, err := cluster.FindRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		return 1
	}
	if !installed(root) {
		return 1
	}

	// The first signal (or the parent going away) stops the cluster; a
	// second one kills what still runs at once.
	ctx, cancel := context.WithCancel(context.Background())
	force, kill := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	orphaned := watchParent()
	go func() {
		select {
		case s := <-sigs:
			fmt.Printf("\n%v: stopping everything (send it again to kill at once)\n", s)
		case <-orphaned:
			fmt.Printf("\nthe process that started the demo has gone: stopping everything\n")
		}
		cancel()
		<-sigs
		fmt.Printf("\nkilling what still runs\n")
		kill()
	}()

	fmt.Printf("lighthouse demo: %s, config dirs from examples/%s, run dir %s\n\n", cluster.Examples[*example].Title, *example, *runDir)
	c, err := cluster.Start(ctx, cluster.Options{
		Example:    *example,
		Root:       root,
		Layout:     cluster.Layout{RunDir: *runDir},
		Progress:   os.Stdout,
		HAProxy:    *haproxyBin,
		Prometheus: cluster.LookPath("prometheus") != "",
	})
	if err != nil {
		if ctx.Err() != nil {
			fmt.Printf("stopped during start-up; logs are in %s\n", *runDir)
			return 0
		}
		fmt.Fprintf(os.Stderr, "\ndemo: %v\n\nNothing started is left running; logs are in %s\n", err, *runDir)
		return 1
	}
	fmt.Printf("\n%s\nCtrl-C stops everything. Membership changes show below.\n\n", c.Summary())
	<-ctx.Done()
	start := time.Now()
	err = c.Stop(force)
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: stopping: %v\n", err)
	}
	fmt.Printf("stopped in %.1fs; logs kept in %s\n", time.Since(start).Seconds(), c.RunDir())
	if err != nil {
		return 1
	}
	return 0
}

// installed makes sure haproxy, redis-server and ZooKeeper are there: as
// root it runs .ci/install-deps when something is missing; otherwise it
// prints the command to run.
func installed(root string) bool {
	missing := cluster.Missing()
	if len(missing) == 0 {
		return true
	}
	var what []string
	for _, m := range missing {
		what = append(what, m.What)
	}
	fmt.Fprintf(os.Stderr, "demo: missing %s\n", strings.Join(what, ", "))
	script := filepath.Join(root, ".ci", "install-deps")
	if os.Geteuid() != 0 {
		fmt.Fprintf(os.Stderr, "demo: installing them needs root; run\n    sudo %s\nor\n    sudo apt-get update && sudo apt-get install -y %s\nthen run the demo again.\n",
			script, strings.Join(cluster.Packages(missing), " "))
		return false
	}
	fmt.Fprintf(os.Stderr, "demo: running %s (Debian packages %s)\n", script, strings.Join(cluster.Packages(missing), " "))
	cmd := exec.Command(script)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %s: %v\n", script, err)
		return false
	}
	if still := cluster.Missing(); len(still) > 0 {
		fmt.Fprintf(os.Stderr, "demo: still missing after %s: %v\n", script, errors.New(still[0].What))
		return false
	}
	return true
}

// watchParent reports when the process that started the demo exits (make
// killed without its process group, a closed terminal's shell): the demo
// must not outlive it with daemons running.
func watchParent() <-chan struct{} {
	ch := make(chan struct{})
	ppid := os.Getppid()
	go func() {
		for range time.Tick(500 * time.Millisecond) {
			if os.Getppid() != ppid {
				close(ch)
				return
			}
		}
	}()
	return ch
}
