package docparse

import (
	"fmt"
	"regexp"
	"sort"
)

// docNameRe matches the file name of a release's configuration.txt,
// plain or gzipped, capturing the minor release.
var docNameRe = regexp.MustCompile(`^configuration-(\d+\.\d+)\.\d+\.txt(\.gz)?$`)

// IsDocName reports whether name is the file name Docs expects of a
// release's configuration.txt: configuration-X.Y.Z.txt or
// configuration-X.Y.Z.txt.gz.
func IsDocName(name string) bool { return docNameRe.MatchString(name) }

// Docs parses, with the supplement (see Build), the configuration.txt of
// several releases, given as file name → document text (already
// decompressed), and returns them oldest release first. Names that IsDocName
// rejects are ignored. Two documents of the same minor release, or a
// document whose version line disagrees with its name, are errors.
func Docs(files map[string][]byte) ([]*Doc, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	byRelease := map[Release]string{}
	var docs []*Doc
	for _, name := range names {
		m := docNameRe.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		rel, err := ParseRelease(m[1])
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		if other, dup := byRelease[rel]; dup {
			return nil, fmt.Errorf("%s and %s: two documents of HAProxy %s", other, name, rel)
		}
		byRelease[rel] = name
		d, err := Build(files[name])
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		if d.Release != rel {
			return nil, fmt.Errorf("%s: the document's version line says %s", name, d.Release)
		}
		docs = append(docs, d)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("no configuration-X.Y.Z.txt[.gz] files")
	}
	sort.Slice(docs, func(i, j int) bool { return docs[i].Release.Before(docs[j].Release) })
	return docs, nil
}
