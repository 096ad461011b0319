// Package docparse extracts HAProxy directive keywords, and the sections that
// accept them, from HAProxy's configuration.txt, merges the hand-maintained
// supplement (supplement.go) and renders the result as the Go source of
// render/keywords/table_gen.go.
//
// It is shared by the generator (cmd/keywordgen) and by the
// keywords tests, which re-run it to check that the committed table is up to
// date. It does no I/O of its own: callers hand it the document's bytes.
package docparse

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"go/format"
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

// setNames gives, in bit order, the identifier of each section bit in the
// generated Go source (see render/keywords/keywords.go).
var setNames = []struct {
	bit   Set
	ident string
}{
	{Global, "inGlobal"},
	{Defaults, "inDefaults"},
	{Frontend, "inFrontend"},
	{Listen, "inListen"},
	{Backend, "inBackend"},
}

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

// Doc is the result of parsing configuration.txt.
type Doc struct {
	Version string  // "version" line of the document's title block, e.g. "2.6"
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
	// matrixRowRe matches one row: keyword, optional "(*)" or
	// "(deprecated)", then defaults (with optional "(!)"), frontend, listen
	// and backend columns.
	matrixRowRe = regexp.MustCompile(`^(\S.*?)\s+(\(\*\)|\(deprecated\))?\s*([X-])( \(!\))?\s+([X-])\s+([X-])\s+([X-])\s*$`)

	globalIntro  = `The following keywords are supported in the "global" section :`
	globalCatRe  = regexp.MustCompile(`^ \* \S.*$`)
	globalKwRe   = regexp.MustCompile(`^   - (\S+)( \(deprecated\))?\s*$`)
	subsectionRe = regexp.MustCompile(`^\d+\.\d+\.\s`)

	refStart   = "4.2. Alphabetically sorted keywords reference"
	chapterRe  = regexp.MustCompile(`^\d+\.\s`)
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

// Build parses text like Parse and merges the supplement into the result.
func Build(text []byte) (*Doc, error) {
	return build(text, supplement)
}

func build(text []byte, sup []Addition) (*Doc, error) {
	lines := strings.Split(strings.ReplaceAll(string(text), "\r\n", "\n"), "\n")
	d := &Doc{}
	for i := 0; i < len(lines) && i < 30; i++ {
		if m := versionRe.FindStringSubmatch(lines[i]); m != nil {
			d.Version = m[1]
			break
		}
	}
	if d.Version == "" {
		return nil, fmt.Errorf("no version line in the document's title block")
	}

	byName := map[string]*Entry{}
	if err := parseGlobal(lines, byName); err != nil {
		return nil, err
	}
	if err := parseMatrix(lines, byName); err != nil {
		return nil, err
	}
	if err := merge(byName, sup); err != nil {
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
			return fmt.Errorf("proxy keywords matrix, line %d: %q is allowed nowhere", i+1, name)
		}
		e := entry(byName, name)
		e.In |= in
		switch m[2] {
		case "(*)":
			e.Negatable |= in
		case "(deprecated)":
			e.Deprecated = true
		}
		if m[4] != "" {
			e.NamedDefaultsOnly = true
		}
	}
	return fmt.Errorf("proxy keywords matrix starting at line %d has no closing rule", start)
}

// markParen sets Paren on proxy keywords whose §4.2 heading shows the last
// word directly followed by "(", e.g. "persist rdp-cookie(<name>)".
func markParen(lines []string, byName map[string]*Entry) {
	in := false
	for _, l := range lines {
		if !in {
			in = strings.TrimSpace(l) == refStart
			continue
		}
		if chapterRe.MatchString(l) {
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

// merge adds the supplement to byName. An addition that the documentation
// already covers is an error, so that the supplement shrinks when the
// documentation catches up.
func merge(byName map[string]*Entry, sup []Addition) error {
	seen := map[string]bool{}
	for _, a := range sup {
		if seen[a.Name] {
			return fmt.Errorf("supplement: duplicate keyword %q", a.Name)
		}
		seen[a.Name] = true
		if !keywordRe.MatchString(a.Name) {
			return fmt.Errorf("supplement: malformed keyword %q", a.Name)
		}
		if a.Negatable&^(a.In|Global|Proxies) != 0 || a.In&^(Global|Proxies) != 0 {
			return fmt.Errorf("supplement: %q: unknown section bits", a.Name)
		}
		e := entry(byName, a.Name)
		in := e.In | a.In
		if a.Negatable&^in != 0 {
			return fmt.Errorf("supplement: %q is negatable in a section that does not accept it", a.Name)
		}
		if in == e.In && a.Negatable|e.Negatable == e.Negatable {
			return fmt.Errorf("supplement: %q adds nothing the documentation lacks; remove it", a.Name)
		}
		e.In = in
		e.Negatable |= a.Negatable
	}
	return nil
}

// Generate renders d as the Go source of render/keywords/table_gen.go,
// formatted like gofmt.
func Generate(d *Doc) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("// Code generated by cmd/keywordgen from HAProxy's configuration.txt; DO NOT EDIT.\n\n")
	b.WriteString("package keywords\n\n")
	b.WriteString("// DocVersion is the HAProxy version named by the configuration.txt the\n")
	b.WriteString("// table was generated from.\n")
	fmt.Fprintf(&b, "const DocVersion = %q\n\n", d.Version)
	fmt.Fprintf(&b, "// table holds %d keywords, sorted by name: the global list of chapter 3,\n", len(d.Entries))
	b.WriteString("// the proxy keywords matrix of section 4.1 and the supplement in\n")
	b.WriteString("// render/keywords/docparse/supplement.go.\n")
	b.WriteString("var table = [...]spec{\n")
	for _, e := range d.Entries {
		fmt.Fprintf(&b, "\t{name: %q, in: %s", e.Name, setExpr(e.In))
		if e.Negatable != 0 {
			fmt.Fprintf(&b, ", neg: %s", setExpr(e.Negatable))
		}
		if e.Paren {
			b.WriteString(", paren: true")
		}
		if e.NamedDefaultsOnly {
			b.WriteString(", namedDefaultsOnly: true")
		}
		if e.Deprecated {
			b.WriteString(", deprecated: true")
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

// setExpr returns s as a Go expression over the section bit identifiers.
func setExpr(s Set) string {
	var parts []string
	for _, sn := range setNames {
		if s&sn.bit != 0 {
			parts = append(parts, sn.ident)
		}
	}
	return strings.Join(parts, " | ")
}
