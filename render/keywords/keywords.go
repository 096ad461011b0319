// Package keywords knows which HAProxy 2.6 directives are valid in which
// configuration section (global, defaults, frontend, listen, backend), so that
// the renderer can reject a custom directive line before HAProxy does.
//
// The table (table_gen.go) is generated from HAProxy's own configuration.txt:
// the global keyword list of chapter 3 and the proxy keywords matrix of §4.1,
// plus a short supplement of keywords that HAProxy 2.6 accepts but that those
// lists omit (render/keywords/docparse/supplement.go). It records whether a keyword
// exists in a section, not whether its arguments are valid.
//
// The package is part of the pure core: it does no I/O.
package keywords

//go:generate go run ../../cmd/keywordgen -doc /usr/share/doc/haproxy/configuration.txt.gz -out table_gen.go

import (
	"sort"
	"strconv"
	"strings"
)

// Section is a kind of HAProxy configuration section.
type Section int

// The sections whose directives the table covers. The zero Section is
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

// spec is one row of the generated table.
type spec struct {
	name              string     // one or more words separated by single spaces
	in                sectionSet // sections accepting the keyword
	neg               sectionSet // sections accepting "no <name>"
	paren             bool       // last word may be directly followed by "(...)"
	namedDefaultsOnly bool       // in defaults, only in a named defaults section
	deprecated        bool       // marked deprecated by the documentation
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

var (
	// index[s][first word] lists the keywords of section s starting with
	// that word, longest first.
	index [Backend + 1]map[string][]candidate
	// families holds the first words of multi-word keywords of any section
	// ("option", "timeout", "http-check", ...).
	families = map[string]bool{}
	// sorted[s] is Keywords(s).
	sorted [Backend + 1][]string
)

func init() {
	for _, s := range Sections() {
		index[s] = map[string][]candidate{}
	}
	for i := range table {
		sp := &table[i]
		words := strings.Split(sp.name, " ")
		if len(words) > 1 {
			families[words[0]] = true
		}
		for _, s := range Sections() {
			if sp.in&s.bit() == 0 {
				continue
			}
			index[s][words[0]] = append(index[s][words[0]], candidate{spec: sp, rest: words[1:]})
			sorted[s] = append(sorted[s], sp.name)
		}
	}
	for _, s := range Sections() {
		for _, cs := range index[s] {
			sort.SliceStable(cs, func(i, j int) bool { return len(cs[i].rest) > len(cs[j].rest) })
		}
		sort.Strings(sorted[s])
	}
}

// Keywords returns the keywords accepted in section, sorted. Multi-word
// keywords such as "option httpchk" are single elements. The caller may
// modify the returned slice.
func Keywords(section Section) []string {
	if !section.valid() {
		return nil
	}
	return append([]string(nil), sorted[section]...)
}

// Lookup returns what the table says about keyword (exactly as returned by
// Match, without a leading "no ") in section.
func Lookup(section Section, keyword string) (Info, bool) {
	if !section.valid() {
		return Info{}, false
	}
	first, _ := nextWord(keyword)
	for _, c := range index[section][first] {
		if c.spec.name == keyword {
			return info(section, c.spec), true
		}
	}
	return Info{}, false
}

func info(section Section, sp *spec) Info {
	return Info{
		Keyword:           sp.name,
		Negatable:         sp.neg&section.bit() != 0,
		NamedDefaultsOnly: section == Defaults && sp.namedDefaultsOnly,
		Deprecated:        sp.deprecated,
	}
}

// Match finds the keyword at the start of the directive line and reports
// whether section accepts it.
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
// ("option foo", "timeout foo", "http-check foo"), otherwise the first word;
// with "no " in front when the line was negated. It is "" for a blank line.
func Match(section Section, line string) (keyword string, ok bool) {
	first, after := nextWord(line)
	if first == "" {
		return "", false
	}
	negated := false
	if first == "no" {
		if w, a := nextWord(after); w != "" {
			negated = true
			first, after = w, a
		}
	}
	if section.valid() {
		for _, c := range index[section][first] {
			if !matchRest(c, after) {
				continue
			}
			if negated && c.spec.neg&section.bit() == 0 {
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

// matchRest reports whether the words of s (the line after its first word)
// start with c.rest.
func matchRest(c candidate, s string) bool {
	for i, want := range c.rest {
		w, after := nextWord(s)
		if w != want {
			last := i == len(c.rest)-1
			if !last || !c.spec.paren || !strings.HasPrefix(w, want+"(") {
				return false
			}
		}
		s = after
	}
	return true
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
