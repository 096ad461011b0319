// Command genbig writes a large synthetic render input for timing
// `lighthouse render`: DIR/config/ (a config directory) and
// DIR/membership.json.
//
//	go run ./golden/genbig -clusters 1000 -nodes 50 DIR
//	time lighthouse render --config-dir DIR/config --membership DIR/membership.json --haproxy-version 2.6.12 >/dev/null
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"lighthouse/golden/synth"
)

func main() {
	clusters := flag.Int("clusters", 1000, "number of clusters")
	nodes := flag.Int("nodes", 50, "nodes per cluster")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: genbig [-clusters N] [-nodes M] DIR\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := write(flag.Arg(0), *clusters, *nodes); err != nil {
		fmt.Fprintf(os.Stderr, "genbig: %v\n", err)
		os.Exit(1)
	}
}

func write(dir string, clusters, nodes int) error {
	for _, f := range synth.Files(clusters) {
		path := filepath.Join(dir, "config", filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "membership.json"), synth.Membership(clusters, nodes), 0o644)
}
