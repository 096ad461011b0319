package haproxyapi_test

import (
	"bufio"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"lighthouse/model/haproxyapi"
)

// TestAgainstManagementDocs compares the add server settings of 2.6, 2.8
// and 3.0 with the list in each release's management.txt ("Here is the
// list of the currently supported keywords"), kept in
// $LIGHTHOUSE_HAPROXY_DOCS or ../shared/haproxy/docs beside the
// repository. From 3.2 on the document defers to `add server help`, which
// TestAgainstReleases asks.
func TestAgainstManagementDocs(t *testing.T) {
	dir := os.Getenv("LIGHTHOUSE_HAPROXY_DOCS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "haproxy", "docs")
	}
	for _, rel := range []string{"2.6", "2.8", "3.0"} {
		path := filepath.Join(dir, "management-"+rel+".0.txt.gz")
		f, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) && os.Getenv("CI") == "" {
			t.Skipf("%s not found (set LIGHTHOUSE_HAPROXY_DOCS)", path)
		}
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc []string
		sc := bufio.NewScanner(zr)
		inAdd, inList := false, false
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "add server <backend>/<server>"):
				inAdd = true
			case inAdd && strings.Contains(line, "list of the currently supported keywords"):
				inList = true
			case inList && strings.HasPrefix(strings.TrimSpace(line), "- "):
				w := strings.TrimPrefix(strings.TrimSpace(line), "- ")
				parts := strings.Split(w, "/")
				doc = append(doc, parts[0])
				stem := parts[0][:strings.LastIndexByte(parts[0], '-')+1]
				for _, p := range parts[1:] {
					doc = append(doc, stem+p)
				}
			case inList && strings.TrimSpace(line) != "":
				inAdd, inList = false, false
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		got := haproxyapi.Keywords(rel)
		slices.Sort(doc)
		slices.Sort(got)
		if len(doc) == 0 || !slices.Equal(doc, got) {
			t.Errorf("HAProxy %s: management.txt lists %d settings:\n%q\nthe data %d:\n%q", rel, len(doc), doc, len(got), got)
		}
	}
}
