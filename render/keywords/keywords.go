// Package keywords knows which HAProxy directives each release from 1.5 to
// 3.4 accepts in which configuration section (global, defaults, frontend,
// listen, backend), so that the renderer can reject a custom directive line
// before HAProxy does, and say when the line would be valid.
//
// There is one table per minor release (For picks it for a version). The
// tables (table_gen.go) are generated from each release's own
// configuration.txt: the global keyword list of chapter 3 and the proxy
// keywords matrix of §4.1, plus a short supplement of keywords that releases
// accept but that those lists omit, each with the range of releases it holds
// for (render/keywords/docparse/supplement.go). A table records whether a
// keyword exists in a section, not whether its arguments are valid, nor
// whether the HAProxy build at hand was compiled with the feature it belongs
// to (QUIC, Lua, WURFL, ...).
//
// The package is part of the pure core: it does no I/O.
package keywords

//go:generate go run ../../cmd/keywordgen -docs ../../../shared/haproxy/docs -out table_gen.go -sizes testdata/sizes.txt

import (
	"sort"
	"strconv"
	"strings"

	"lighthouse/model"
)

// Section is a kind of HAProxy configuration section.
type Section int

// The sections whose directives the tables cover. The zero Section is
// invalid.
const (
	Global Section = iota + 1
	Defaults
	Frontend
	Listen
	Backend
)

var sectionNames = [...]string{Global: "global", Defaults: "defaults", Frontend: "frontend", Listen: "listen", Backend: "backend"}

// String returns the section keyword as written in a configuration file,
// e.g. "backend".
func (s Section) String() string {
	if s.valid() {
		return sectionNames[s]
	}
	return "Section(" + strconv.Itoa(int(s)) + ")"
}

func (s Section) valid() bool { return s >= Global && s <= Backend }

// Sections returns all sections, in the order global, defaults, frontend,
// listen, backend.
func Sections() []Section {
	return []Section{Global, Defaults, Frontend, Listen, Backend}
}

// ParseSection returns the Section named name ("global", "defaults",
// "frontend", "listen" or "backend").
func ParseSection(name string) (Section, bool) {
	for _, s := range Sections() {
		if sectionNames[s] == name {
			return s, true
		}
	}
	return 0, false
}

// sectionSet is a set of sections, one bit per Section; table_gen.go uses the
// in* constants.
type sectionSet uint8

const (
	inGlobal sectionSet = 1 << iota
	inDefaults
	inFrontend
	inListen
	inBackend
)

func (s Section) bit() sectionSet {
	if !s.valid() {
		return 0
	}
	return 1 << (s - Global)
}

// flag holds a keyword's properties other than its sections.
type flag uint8

const (
	parenArg          flag = 1 << iota // last word may be directly followed by "(...)"
	namedDefaultsOnly                  // in defaults, only in a named defaults section
	deprecated                         // marked deprecated by the documentation
)

// release indexes releases (table_gen.go), oldest first.
type release uint8

// span is what a run of consecutive releases, from to to, says about a
// keyword. Releases outside every span of a keyword do not have it.
type span struct {
	from, to release
	in       sectionSet // sections accepting the keyword
	neg      sectionSet // sections accepting "no <name>"
	flags    flag
}

// spec is one row of the generated table: a keyword and its spans, in
// release order, not overlapping.
type spec struct {
	name  string // one or more words separated by single spaces
	spans []span
}

// at returns the span of sp covering release r.
func (sp *spec) at(r release) (span, bool) {
	for _, s := range sp.spans {
		if s.from <= r && r <= s.to {
			return s, true
		}
	}
	return span{}, false
}

// Info describes a keyword as accepted in one section.
type Info struct {
	Keyword   string // e.g. "option httpchk"
	Negatable bool   // a leading "no " is accepted
	// NamedDefaultsOnly is set when the section is Defaults and HAProxy
	// accepts the keyword only in a defaults section that has a name
	// (shown as "X (!)" in the documentation's matrix).
	NamedDefaultsOnly bool
	Deprecated        bool // the documentation marks the keyword deprecated
}

// candidate is a keyword split into words, indexed by its first word.
type candidate struct {
	spec *spec
	rest []string // words after the first
}

// Table is the keyword table of one HAProxy release. A Table is read-only:
// its methods may be called concurrently.
type Table struct {
	rel release
}

// The tables and their indexes are built once, when the package is
// initialised, from specs.
var (
	// tables holds the table of each release.
	tables = releaseTables()
	// index[s][first word] lists the keywords that section s accepts in any
	// release, longest first; a table skips those of other releases.
	// everywhere is like index for the keywords of every section; it finds
	// what a line names when its section or release does not have it.
	// families holds the first words of multi-word keywords of any release
	// and section ("option", "timeout", "http-check", ...).
	index, everywhere, families = indexSpecs()
)

// releaseTables makes the table of each release.
func releaseTables() (t [len(releases)]Table) {
	for i := range t {
		t[i].rel = release(i)
	}
	return t
}

// indexSpecs indexes the keywords of specs by their first word: per
// section, for every section, and the first words of multi-word keywords.
func indexSpecs() (index [Backend + 1]map[string][]candidate, everywhere map[string][]candidate, families map[string]bool) {
	everywhere, families = map[string][]candidate{}, map[string]bool{}
	for _, s := range Sections() {
		index[s] = map[string][]candidate{}
	}
	for i := range specs {
		sp := &specs[i]
		words := strings.Split(sp.name, " ")
		if len(words) > 1 {
			families[words[0]] = true
		}
		c := candidate{spec: sp, rest: words[1:]}
		everywhere[words[0]] = append(everywhere[words[0]], c)
		var in sectionSet
		for _, sn := range sp.spans {
			in |= sn.in
		}
		for _, s := range Sections() {
			if in&s.bit() != 0 {
				index[s][words[0]] = append(index[s][words[0]], c)
			}
		}
	}
	for _, cs := range everywhere {
		sortLongestFirst(cs)
	}
	for _, s := range Sections() {
		for _, cs := range index[s] {
			sortLongestFirst(cs)
		}
	}
	return index, everywhere, families
}

func sortLongestFirst(cs []candidate) {
	sort.SliceStable(cs, func(i, j int) bool { return len(cs[i].rest) > len(cs[j].rest) })
}

// Releases returns the releases that have a table, oldest first, as
// versions with patch level 0 ({1, 5, 0} to {3, 4, 0}).
func Releases() []model.Version {
	return append([]model.Version(nil), releases[:]...)
}

// For returns the table that checks the directives of HAProxy version v: the
// table of v's minor release. When there is none, it returns the nearest
// table and a note that says which table stands in, for the caller to show
// as a warning:
//
//   - a version newer than the newest table uses the newest;
//   - a version older than the oldest table (1.5) uses the oldest;
//   - the zero Version (unknown) uses the newest;
//   - a version between two tables (no such release exists) uses the older
//     one.
//
// The note names releases as major.minor, the tables' granularity. It is ""
// when v has a table of its own.
func For(v model.Version) (t *Table, note string) {
	newest, oldest := release(len(releases)-1), release(0)
	switch {
	case v == model.Version{}:
		return table(newest), "the HAProxy version is unknown: directives are checked against the newest keyword table (" + minor(releases[newest]) + ")"
	case v.Compare(releases[newest]) > 0 && !sameMinor(v, releases[newest]):
		n := minor(releases[newest])
		return table(newest), "HAProxy " + minor(v) + " is newer than the newest keyword table (" + n + "): directives are checked against " + n + "'s"
	case v.Compare(releases[oldest]) < 0:
		o := minor(releases[oldest])
		return table(oldest), "HAProxy " + minor(v) + " is older than the oldest keyword table (" + o + "): directives are checked against " + o + "'s"
	}
	r := oldest
	for i, rv := range releases {
		if sameMinor(rv, v) {
			return table(release(i)), ""
		}
		if rv.Compare(v) < 0 {
			r = release(i)
		}
	}
	o := minor(releases[r])
	return table(r), "HAProxy " + minor(v) + " has no keyword table: directives are checked against " + o + "'s"
}

func table(r release) *Table { return &tables[r] }

func sameMinor(a, b model.Version) bool { return a.Major == b.Major && a.Minor == b.Minor }

// minor returns "major.minor" of v.
func minor(v model.Version) string {
	return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor)
}

// Release returns the release of the table, with patch level 0, e.g.
// {2, 6, 0}.
func (t *Table) Release() model.Version { return releases[t.rel] }

// Keywords returns the keywords accepted in section, sorted. Multi-word
// keywords such as "option httpchk" are single elements. The caller may
// modify the returned slice.
func (t *Table) Keywords(section Section) []string {
	if !section.valid() {
		return nil
	}
	var out []string
	for i := range specs {
		if sn, ok := specs[i].at(t.rel); ok && sn.in&section.bit() != 0 {
			out = append(out, specs[i].name)
		}
	}
	sort.Strings(out)
	return out
}

// Lookup returns what the table says about keyword (exactly as returned by
// Match, without a leading "no ") in section.
func (t *Table) Lookup(section Section, keyword string) (Info, bool) {
	if !section.valid() {
		return Info{}, false
	}
	first, _ := nextWord(keyword)
	for _, c := range index[section][first] {
		if c.spec.name != keyword {
			continue
		}
		if sn, ok := t.span(section, c); ok {
			return info(section, c.spec, sn), true
		}
	}
	return Info{}, false
}

// span returns what the table's release says about c when section accepts
// it.
func (t *Table) span(section Section, c candidate) (span, bool) {
	sn, ok := c.spec.at(t.rel)
	return sn, ok && sn.in&section.bit() != 0
}

func info(section Section, sp *spec, sn span) Info {
	return Info{
		Keyword:           sp.name,
		Negatable:         sn.neg&section.bit() != 0,
		NamedDefaultsOnly: section == Defaults && sn.flags&namedDefaultsOnly != 0,
		Deprecated:        sn.flags&deprecated != 0,
	}
}

// Match finds the keyword at the start of the directive line and reports
// whether section accepts it in the table's release.
//
// The line is trimmed of surrounding whitespace and split into words on
// spaces and tabs. Matching is case-sensitive and on whole words ("log-format"
// does not match "log"); when several keywords match, the one with the most
// words wins ("timeout server-fin 1s" is "timeout server-fin", not "timeout
// server"). The last word of some multi-word keywords may carry a
// parenthesised argument, as in "persist rdp-cookie(mstshash)". A leading
// "no " is accepted only for keywords that HAProxy allows to negate in that
// section ("no option http-server-close"); the returned keyword never
// includes it.
//
// When ok is false, keyword is the text to name in an error message: the
// first two words when the first is the prefix of a multi-word keyword family
// of any release ("option foo", "timeout foo", "http-check foo"), otherwise
// the first word; with "no " in front when the line was negated. It is "" for
// a blank line.
func (t *Table) Match(section Section, line string) (keyword string, ok bool) {
	first, after, negated := splitNo(line)
	if first == "" {
		return "", false
	}
	if section.valid() {
		for _, c := range index[section][first] {
			sn, ok := t.span(section, c)
			if !ok || !matchRest(c, after, sn.flags&parenArg != 0) {
				continue
			}
			if negated && sn.neg&section.bit() == 0 {
				return "no " + c.spec.name, false
			}
			return c.spec.name, true
		}
	}
	keyword = first
	if families[first] {
		if w, _ := nextWord(after); w != "" {
			if i := strings.IndexByte(w, '('); i > 0 {
				w = w[:i]
			}
			keyword = first + " " + w
		}
	}
	if negated {
		keyword = "no " + keyword
	}
	return keyword, false
}

// splitNo returns the first word of line, the text after it, and whether a
// leading "no" was skipped to find it ("no" alone is the word "no").
func splitNo(line string) (first, after string, negated bool) {
	first, after = nextWord(line)
	if first == "no" {
		if w, a := nextWord(after); w != "" {
			return w, a, true
		}
	}
	return first, after, false
}

// matchRest reports whether the words of s (the line after its first word)
// start with c.rest. With paren, the last word may carry "(...)".
func matchRest(c candidate, s string, paren bool) bool {
	for i, want := range c.rest {
		w, after := nextWord(s)
		if w != want {
			last := i == len(c.rest)-1
			if !last || !paren || !strings.HasPrefix(w, want+"(") {
				return false
			}
		}
		s = after
	}
	return true
}

// anyParen reports whether any release lets the last word of sp carry
// "(...)".
func (sp *spec) anyParen() bool {
	for _, s := range sp.spans {
		if s.flags&parenArg != 0 {
			return true
		}
	}
	return false
}

// nextWord returns the first word of s and the text after it.
func nextWord(s string) (word, rest string) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	j := i
	for j < len(s) && !isSpace(s[j]) {
		j++
	}
	return s[i:j], s[j:]
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
