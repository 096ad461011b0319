// Command keywordgen writes render/keywords/table_gen.go from HAProxy's
// configuration.txt (plain or gzipped) and the supplement in
// render/keywords/docparse. It is run by "go generate" in
// render/keywords:
//
//	go run ../../cmd/keywordgen -doc /usr/share/doc/haproxy/configuration.txt.gz -out table_gen.go
package main

import (
	"flag"
	"fmt"
	"os"

	"lighthouse/render/keywords/docparse"
)

func main() {
	doc := flag.String("doc", "/usr/share/doc/haproxy/configuration.txt.gz", "HAProxy configuration.txt, plain or gzipped")
	out := flag.String("out", "table_gen.go", "Go file to write")
	flag.Parse()
	if err := run(*doc, *out); err != nil {
		fmt.Fprintln(os.Stderr, "keywordgen:", err)
		os.Exit(1)
	}
}

func run(docPath, outPath string) error {
	f, err := os.Open(docPath)
	if err != nil {
		return err
	}
	text, err := docparse.Read(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", docPath, err)
	}
	d, err := docparse.Build(text)
	if err != nil {
		return fmt.Errorf("%s: %w", docPath, err)
	}
	src, err := docparse.Generate(d)
	if err != nil {
		return err
	}
	if err := os.WriteFile(outPath, src, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "keywordgen: HAProxy %s: %d keywords (global %d, defaults %d, frontend %d, listen %d, backend %d) -> %s\n",
		d.Version, len(d.Entries), d.Count(docparse.Global), d.Count(docparse.Defaults),
		d.Count(docparse.Frontend), d.Count(docparse.Listen), d.Count(docparse.Backend), outPath)
	return nil
}
