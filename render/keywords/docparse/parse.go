// Package docparse extracts HAProxy directive keywords, and the sections that
// accept them, from the configuration.txt of each HAProxy release, merges the
// hand-maintained supplement (supplement.go) and renders the result as the Go
// source of render/keywords/table_gen.go: one table per release, stored as
// one row per keyword with the runs of releases that treat it alike.
//
// The parser reads two lists that every document from 1.5 to 3.4 has: the
// global keyword list at the start of chapter 3 and the proxy keywords matrix
// of §4.1. Headings of §4.2 only add the Paren flag. Layout variations across
// releases (a "(deprecated) (*)" pair, the 1.9 misspelling "(deprectated)",
// matrix rows of removed keywords with no section marked) are handled
// explicitly; any other unexpected line is an error, so that a new document
// is never half-read.
//
// It is shared by the generator (cmd/keywordgen) and by the keywords tests,
// which re-run it to check that the committed table is up to date. It does no
// I/O of its own: callers hand it the documents' bytes.
package docparse

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// Set is a set of configuration sections, one bit per section.
type Set uint8

// The sections of an HAProxy configuration that this package knows about.
const (
	Global Set = 1 << iota
	Defaults
	Frontend
	Listen
	Backend
)

// Proxies is the set of the four proxy sections covered by the §4.1 matrix.
const Proxies = Defaults | Frontend | Listen | Backend

// Entry is one keyword and where it may be used.
type Entry struct {
	Name string // one or more words, e.g. "option httpchk"
	In   Set    // sections that accept the keyword
	// Negatable holds the sections where "no <Name>" is accepted; it is a
	// subset of In.
	Negatable Set
	// NamedDefaultsOnly is set for the matrix's "X (!)": in a defaults
	// section the keyword is only accepted when the section has a name.
	NamedDefaultsOnly bool
	// Deprecated is set when the documentation marks the keyword as such.
	Deprecated bool
	// Paren is set when the last word of the keyword may be immediately
	// followed by a parenthesised argument, e.g. "persist rdp-cookie(name)"
	// or "http-check set-var(check.x)".
	Paren bool
}

// Doc is the result of parsing the configuration.txt of one release.
type Doc struct {
	Release Release // from the "version" line of the title block, e.g. 2.6
	Entries []Entry // sorted by Name, names unique
}

// Count returns how many entries are accepted in any section of s.
func (d *Doc) Count(s Set) int {
	n := 0
	for _, e := range d.Entries {
		if e.In&s != 0 {
			n++
		}
	}
	return n
}

// Read returns the document held by r, decompressing it when it starts with
// the gzip magic number.
func Read(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		return io.ReadAll(zr)
	}
	return io.ReadAll(br)
}

var (
	versionRe = regexp.MustCompile(`^\s*version\s+(\S+)\s*$`)

	// matrixHeadRe matches the column header that opens (and closes) the
	// §4.1 proxy keywords matrix.
	matrixHeadRe = regexp.MustCompile(`^\s*keyword\s+defaults\s+frontend\s+listen\s+backend\s*$`)
	// matrixRuleRe matches the "-----+-----+..." rule under the header and at
	// the end of the table.
	matrixRuleRe = regexp.MustCompile(`^-+\+-+\+-+\+-+\+-+\s*$`)
	// matrixSepRe matches the header repeated inside the table.
	matrixSepRe = regexp.MustCompile(`^-- keyword -+ defaults - frontend - listen -+ backend -\s*$`)
	// matrixRowRe matches one row: keyword, markers ("(*)", "(deprecated)"
	// or both), then defaults (with optional "(!)"), frontend, listen and
	// backend columns. 1.9 spells one marker "(deprectated)".
	matrixRowRe = regexp.MustCompile(`^(\S.*?)\s+((?:\((?:\*|deprecated|deprectated)\)\s*)*)([X-])( \(!\))?\s+([X-])\s+([X-])\s+([X-])\s*$`)

	globalIntro  = `The following keywords are supported in the "global" section :`
	globalCatRe  = regexp.MustCompile(`^ \* \S.*$`)
	globalKwRe   = regexp.MustCompile(`^   - (\S+)( \(deprecated\))?\s*$`)
	subsectionRe = regexp.MustCompile(`^\d+\.\d+\.\s`)

	refStart   = "4.2. Alphabetically sorted keywords reference"
	headingRe  = regexp.MustCompile(`^\d+\.(\d+\.)*\s`)
	keywordRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*( [a-z0-9][a-z0-9._-]*)*$`)
	sectionCol = []Set{Defaults, Frontend, Listen, Backend}
)

// Parse extracts the keywords documented in text (configuration.txt): the
// global keyword list at the start of chapter 3 and the proxy keywords matrix
// of §4.1. Paren is derived from the headings of §4.2. The supplement is not
// merged; see Build.
func Parse(text []byte) (*Doc, error) {
	return build(text, nil)
}

// Build parses text like Parse and merges the supplement entries that apply
// to the document's release into the result.
func Build(text []byte) (*Doc, error) {
	return build(text, supplement)
}

func build(text []byte, sup []Addition) (*Doc, error) {
	lines := strings.Split(strings.ReplaceAll(string(text), "\r\n", "\n"), "\n")
	d := &Doc{}
	for i := 0; i < len(lines) && i < 30; i++ {
		if m := versionRe.FindStringSubmatch(lines[i]); m != nil {
			r, err := ParseRelease(m[1])
			if err != nil {
				return nil, fmt.Errorf("title block, line %d: %v", i+1, err)
			}
			d.Release = r
			break
		}
	}
	if d.Release.IsZero() {
		return nil, fmt.Errorf("no version line in the document's title block")
	}

	byName := map[string]*Entry{}
	if err := parseGlobal(lines, byName); err != nil {
		return nil, err
	}
	if err := parseMatrix(lines, byName); err != nil {
		return nil, err
	}
	if err := merge(byName, sup, d.Release); err != nil {
		return nil, err
	}
	markParen(lines, byName)

	d.Entries = flatten(byName)
	return d, nil
}

func flatten(byName map[string]*Entry) []Entry {
	out := make([]Entry, 0, len(byName))
	for _, e := range byName {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func parseGlobal(lines []string, byName map[string]*Entry) error {
	start := -1
	for i, l := range lines {
		if strings.TrimSpace(l) == globalIntro {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return fmt.Errorf("global keyword list: intro line %q not found", globalIntro)
	}
	n := 0
	for i := start; i < len(lines); i++ {
		l := lines[i]
		switch {
		case subsectionRe.MatchString(l):
			if n == 0 {
				return fmt.Errorf("global keyword list at line %d is empty", start)
			}
			return nil
		case strings.TrimSpace(l) == "", globalCatRe.MatchString(l):
			continue
		}
		m := globalKwRe.FindStringSubmatch(l)
		if m == nil {
			return fmt.Errorf("global keyword list, line %d: unexpected text %q", i+1, l)
		}
		name := m[1]
		if e, dup := byName[name]; dup && e.In&Global != 0 {
			return fmt.Errorf("global keyword list, line %d: duplicate keyword %q", i+1, name)
		}
		e := entry(byName, name)
		e.In |= Global
		e.Deprecated = e.Deprecated || m[2] != ""
		n++
	}
	return fmt.Errorf("global keyword list starting at line %d is not followed by a subsection heading", start)
}

func parseMatrix(lines []string, byName map[string]*Entry) error {
	start := -1
	for i := 0; i+1 < len(lines); i++ {
		if matrixHeadRe.MatchString(lines[i]) && matrixRuleRe.MatchString(lines[i+1]) {
			start = i + 2
			break
		}
	}
	if start < 0 {
		return fmt.Errorf("proxy keywords matrix: header not found")
	}
	seen := map[string]bool{}
	for i := start; i < len(lines); i++ {
		l := lines[i]
		switch {
		case matrixRuleRe.MatchString(l):
			if len(seen) == 0 {
				return fmt.Errorf("proxy keywords matrix at line %d is empty", start)
			}
			return nil
		case strings.TrimSpace(l) == "", matrixSepRe.MatchString(l):
			continue
		}
		m := matrixRowRe.FindStringSubmatch(l)
		if m == nil {
			return fmt.Errorf("proxy keywords matrix, line %d: unexpected text %q", i+1, l)
		}
		name := m[1]
		if !keywordRe.MatchString(name) {
			return fmt.Errorf("proxy keywords matrix, line %d: malformed keyword %q", i+1, name)
		}
		if seen[name] {
			return fmt.Errorf("proxy keywords matrix, line %d: duplicate keyword %q", i+1, name)
		}
		seen[name] = true
		var in Set
		for c, col := range []string{m[3], m[5], m[6], m[7]} {
			if col == "X" {
				in |= sectionCol[c]
			}
		}
		if in == 0 {
			// A removed keyword kept in the matrix ("appsession" from
			// 1.6 to 1.9): no section accepts it.
			if m[2] != "" || m[4] != "" {
				return fmt.Errorf("proxy keywords matrix, line %d: %q is allowed nowhere but has markers", i+1, name)
			}
			continue
		}
		e := entry(byName, name)
		e.In |= in
		if strings.Contains(m[2], "(*)") {
			e.Negatable |= in
		}
		if strings.Contains(m[2], "(dep") {
			e.Deprecated = true
		}
		if m[4] != "" {
			e.NamedDefaultsOnly = true
		}
	}
	return fmt.Errorf("proxy keywords matrix starting at line %d has no closing rule", start)
}

// markParen sets Paren on proxy keywords whose §4.2 heading shows the last
// word directly followed by "(", e.g. "persist rdp-cookie(<name>)". It stops
// at the next heading (§4.3, the actions reference from 2.9 on, or chapter 5).
func markParen(lines []string, byName map[string]*Entry) {
	in := false
	for _, l := range lines {
		if !in {
			in = strings.TrimSpace(l) == refStart
			continue
		}
		if headingRe.MatchString(l) {
			return
		}
		if l == "" || l[0] == ' ' || l[0] == '\t' {
			continue
		}
		i := strings.IndexByte(l, '(')
		if i <= 0 {
			continue
		}
		if e, ok := byName[l[:i]]; ok && e.In&Proxies != 0 {
			e.Paren = true
		}
	}
}

func entry(byName map[string]*Entry, name string) *Entry {
	e, ok := byName[name]
	if !ok {
		e = &Entry{Name: name}
		byName[name] = e
	}
	return e
}
