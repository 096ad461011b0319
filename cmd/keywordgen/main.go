// Command keywordgen writes render/keywords/table_gen.go, one keyword table
// per HAProxy release, from the configuration.txt of each release (plain or
// gzipped) and the supplement in render/keywords/docparse. It also writes the
// table sizes per release (render/keywords/testdata/sizes.txt), which the
// keywords tests compare with the compiled tables. It is run by "go generate"
// in render/keywords:
//
//	go run ../../cmd/keywordgen -docs ../../../shared/haproxy/docs -out table_gen.go -sizes testdata/sizes.txt
//
// The docs directory holds one file per minor release, named
// configuration-X.Y.Z.txt or configuration-X.Y.Z.txt.gz; other files are
// ignored. Two files of the same minor release are an error. The output
// depends on the files' contents only, not on their order or times.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"lighthouse/render/keywords/docparse"
)

func main() {
	docs := flag.String("docs", "../../../shared/haproxy/docs", "directory of configuration-X.Y.Z.txt[.gz] files, one per release")
	out := flag.String("out", "table_gen.go", "Go file to write")
	sizes := flag.String("sizes", "testdata/sizes.txt", "file to write the table sizes per release to (\"\" for none)")
	flag.Parse()
	if err := run(*docs, *out, *sizes); err != nil {
		fmt.Fprintln(os.Stderr, "keywordgen:", err)
		os.Exit(1)
	}
}

func run(dir, outPath, sizesPath string) error {
	docs, err := readDocs(dir)
	if err != nil {
		return err
	}
	src, err := docparse.Generate(docs)
	if err != nil {
		return err
	}
	if err := os.WriteFile(outPath, src, 0o644); err != nil {
		return err
	}
	var sz []docparse.Size
	for _, d := range docs {
		sz = append(sz, d.Size())
	}
	if sizesPath != "" {
		if err := os.WriteFile(sizesPath, docparse.FormatSizes(sz), 0o644); err != nil {
			return err
		}
	}
	for _, s := range sz {
		fmt.Fprintf(os.Stderr, "keywordgen: HAProxy %s: %d keywords (global %d, defaults %d, frontend %d, listen %d, backend %d)\n",
			s.Release, s.Total, s.Sections[0], s.Sections[1], s.Sections[2], s.Sections[3], s.Sections[4])
	}
	fmt.Fprintf(os.Stderr, "keywordgen: %d releases -> %s\n", len(docs), outPath)
	return nil
}

// readDocs reads every regular file of dir whose name docparse.Docs
// recognizes and parses them.
func readDocs(dir string) ([]*docparse.Doc, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, ent := range ents {
		if !ent.Type().IsRegular() || !docparse.IsDocName(ent.Name()) {
			continue
		}
		path := filepath.Join(dir, ent.Name())
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		text, err := docparse.Read(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		files[ent.Name()] = text
	}
	docs, err := docparse.Docs(files)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return docs, nil
}
